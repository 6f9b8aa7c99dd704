// SPDX-License-Identifier: GPL-2.0
/*
 * tcpcrypt_iter.bpf.c - the optional sessions iterator (tcnetstat's
 * listing): walks the per-socket storage that tcpcrypt_eno.bpf.c keeps,
 * so a closed socket is gone at once and a connection costs no map update
 * nor state callback. Loaded apart from the ENO programs because many
 * kernels refuse tracing programs (iterators, fentry) even to root; then
 * tcpcryptd has the sock_ops program keep a sessions table instead.
 * Reuses the pinned map tc_sk (same definition, tcpcrypt_sk.h).
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt_maps.h"
#include "tcpcrypt_sk.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tc_session_rec);
} tc_iter_rec SEC(".maps");

/* Kernel types, relocated by libbpf against the running kernel's BTF. */
struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));
struct sock_common {
	unsigned char skc_state;
} __attribute__((preserve_access_index));
struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));
struct tcp_sock {
	__u64 bytes_received;
	__u64 bytes_acked;
} __attribute__((preserve_access_index));
struct bpf_iter__bpf_sk_storage_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
	struct sock *sk;
	void *value;
} __attribute__((preserve_access_index));

/* One struct tc_session_rec per established opted-in socket. */
SEC("iter/bpf_sk_storage_map")
int tc_iter(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct tc_sk *s = ctx->value;
	struct sock *sk = ctx->sk;
	struct tc_session_rec *rec;
	struct tcp_sock *tp;
	__u32 k = 0;

	if (!s || !sk || !(s->st & ST_SESSION))
		return 0;
	rec = bpf_map_lookup_elem(&tc_iter_rec, &k);
	if (!rec)
		return 0;
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->cookie = s->cookie;
	__builtin_memcpy(&rec->s.tuple, &s->tuple, sizeof(rec->s.tuple));
	rec->s.state = BPF_CORE_READ(sk, __sk_common.skc_state);
	rec->s.pid = s->pid;
	rec->s.uid = s->uid;
	__builtin_memcpy(rec->s.comm, s->comm, TC_COMM_LEN);
	__builtin_memcpy(&rec->s.result, &s->res, sizeof(rec->s.result));
	if (s->has_report) {
		__builtin_memcpy(&rec->s.report, &s->rep, sizeof(rec->s.report));
		rec->s.has_report = 1;
	}
	rec->s.est_ns = s->est_ns;
	tp = (struct tcp_sock *)sk;
	rec->s.bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	rec->s.bytes_received = BPF_CORE_READ(tp, bytes_received);
	rec->s.has_bytes = 1;
	bpf_seq_write(ctx->meta->seq, rec, sizeof(*rec));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
