// SPDX-License-Identifier: GPL-2.0
/*
 * tcpcrypt_guard.bpf.c - the optional guard: on a negotiated connection, a
 * segment carrying a byte the shim did not write never leaves, whatever
 * wrote it (io_uring, raw system calls, a child without the shim).
 *
 * The shim enrols each socket it opts in (ENROL: tc_guard storage, cloned
 * into a listener's children); the sock_ops program (tcpcrypt_eno.bpf.c)
 * arms it when ENO succeeds, with ok_end = the first byte's sequence
 * number. Sockets of programs that use ENO without the shim (tcpcrypt-test,
 * test tools) are never guarded. Around each
 * write of sealed bytes, under the connection's tx lock, the shim calls
 * setsockopt(TCPCRYPT_GUARD_GRANT): GRANT n checks that the socket's
 * write_seq is still ok_end (nobody else wrote since the shim's last
 * write) and moves ok_end to write_seq + n; RETURN n gives back what a
 * short write left unused. A write the shim did not grant finds write_seq
 * past ok_end: the egress program drops every segment that carries a
 * byte at or beyond ok_end, so those bytes (and all after them) never
 * leave, and the shim's next GRANT finds the mismatch, freezes ok_end and
 * answers EPIPE (the shim then aborts the connection).
 *
 * Two programs, attached to the same cgroup as the ENO programs:
 * cgroup/setsockopt (the grants) and cgroup_skb/egress (the check). The
 * socket's write_seq is read through bpf_rdonly_cast (Linux >= 6.2 with
 * BTF); a kernel that refuses either program leaves the guard off.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt_guard.h"

#define SOL_TCP     6
#define IPPROTO_TCP 6
#define AF_INET     2
#define AF_INET6    10
#define ENOENT      2
#define ENOMEM      12
#define EINVAL      22
#define EPIPE       32

/* The kernel's struct tcp_sock, relocated against the running kernel. */
struct tcp_sock {
	__u32 write_seq;
} __attribute__((preserve_access_index));

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* The sequence number after the last byte written to sk. */
static __always_inline __u32 write_seq(struct bpf_sock *sk)
{
	struct tcp_sock *tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));

	return tp->write_seq;
}

static __always_inline int grant(struct bpf_sockopt *ctx, struct bpf_sock *sk)
{
	struct tcpcrypt_guard_grant *a = ctx->optval;
	struct tc_guard *g;
	__u32 ws;

	if (ctx->optlen != (int)sizeof(*a) || (void *)(a + 1) > ctx->optval_end)
		return -EINVAL;
	if (a->op == TCPCRYPT_GUARD_OP_ENROL) {
		if (sk->state != BPF_TCP_CLOSE && sk->state != BPF_TCP_LISTEN)
			return -EINVAL;
		g = bpf_sk_storage_get(&tc_guard, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!g)
			return -ENOMEM;
		g->armed = 0;
		return 0;
	}
	g = bpf_sk_storage_get(&tc_guard, sk, 0, 0);
	if (!g || !g->armed)
		return -ENOENT;
	if (a->op == TCPCRYPT_GUARD_OP_OPEN) {
		g->open = 1;
		return 0;
	}
	if (g->open)
		return 0;             /* off for good: nothing to follow */
	if (g->tainted)
		return -EPIPE;
	ws = write_seq(sk);
	if (a->op == TCPCRYPT_GUARD_OP_GRANT) {
		if (ws != g->ok_end) {
			g->tainted = 1;     /* ok_end stays: what follows never leaves */
			return -EPIPE;
		}
		g->ok_end = ws + a->len;
		return 0;
	}
	if (a->op == TCPCRYPT_GUARD_OP_RETURN) {
		if (ws != g->ok_end - a->len) {
			g->tainted = 1;
			g->ok_end = ws < g->ok_end - a->len ? ws : g->ok_end - a->len;
			return -EPIPE;
		}
		g->ok_end = ws;
		return 0;
	}
	return -EINVAL;
}

SEC("cgroup/setsockopt")
int tc_guard_setsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	int err;

	if (ctx->level != SOL_TCP || ctx->optname != TCPCRYPT_GUARD_GRANT) {
		if (ctx->optlen > 4096)
			ctx->optlen = 0;      /* big optval: the kernel uses the original */
		return 1;
	}
	if (!sk || sk->protocol != IPPROTO_TCP) {
		bpf_set_retval(-EINVAL);
		return 0;
	}
	err = grant(ctx, sk);
	if (err) {
		bpf_set_retval(err);
		return 0;
	}
	ctx->optlen = -1;                     /* handled: the kernel never sees it */
	return 1;
}

/* Every segment of a guarded socket: its payload must end at or before
 * ok_end. 1: pass, 0: drop (TCP keeps the data queued and retries). */
SEC("cgroup_skb/egress")
int tc_guard_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct tc_guard *g;
	__u32 off, seq, payload, end;
	__u8 b[13];

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_TCP)
		return 1;
	g = bpf_sk_storage_get(&tc_guard, sk, 0, 0);
	if (!g || !g->armed || g->open)
		return 1;
	/* the IP header, then the TCP header's sequence number and offset */
	if (skb->protocol == bpf_htons(0x0800)) {
		if (bpf_skb_load_bytes(skb, 0, b, 1))
			return 0;
		off = (b[0] & 0x0f) * 4;
	} else if (skb->protocol == bpf_htons(0x86dd)) {
		if (bpf_skb_load_bytes(skb, 6, b, 1) || b[0] != IPPROTO_TCP)
			return 0;     /* extension headers: not made by TCP */
		off = 40;
	} else {
		return 0;
	}
	if (off > 60 || bpf_skb_load_bytes(skb, off, b, 13))
		return 0;
	seq = ((__u32)b[4] << 24) | ((__u32)b[5] << 16) | ((__u32)b[6] << 8) | b[7];
	off += (b[12] >> 4) * 4;
	if (skb->len <= off)
		return 1;             /* no payload (ACK, FIN, RST) */
	payload = skb->len - off;
	end = seq + payload;
	if ((__s32)(end - g->ok_end) > 0) {
		__sync_fetch_and_add(&g->dropped, 1);
		return 0;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
