// SPDX-License-Identifier: GPL-2.0
/*
 * tcpcrypt_guard.bpf.c - the optional guard: an sk_msg program on the
 * sockhash tc_guard_socks, into which the sock_ops program puts every
 * socket whose ENO negotiation succeeded. Every sendmsg on such a socket
 * (whatever system call or io_uring operation made it) passes only as many
 * bytes as the shim granted (TCPCRYPT_GUARD_GRANT, before each write of
 * sealed bytes); anything else is dropped and the writer gets EACCES. So
 * a write that bypasses the shim never puts clear text on the wire.
 * Loaded apart from the ENO programs: a kernel that refuses it costs only
 * the guard. Reuses the pinned maps (tcpcrypt_guard.h).
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "tcpcrypt_guard.h"

SEC("sk_msg")
int tc_guard_msg(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;
	struct tc_guard *g;
	__u64 n = msg->size;

	if (!sk)
		return SK_DROP;
	g = bpf_sk_storage_get(&tc_guard, sk, 0, 0);
	/* the socket lock serialises the senders of one socket */
	if (!g || g->allow < n)
		return SK_DROP;
	g->allow -= n;
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
