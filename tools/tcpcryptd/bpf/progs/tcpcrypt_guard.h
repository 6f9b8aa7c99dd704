/*
 * tcpcrypt_guard.h - the guard's per-socket state, shared by the ENO
 * programs (tcpcrypt_eno.bpf.c: the sock_ops program enrols each
 * negotiated socket) and the optional guard programs (tcpcrypt_guard.bpf.c:
 * the shim's grants, and the egress check). BPF-side only.
 */
#ifndef TCPCRYPT_GUARD_H
#define TCPCRYPT_GUARD_H

#include <linux/types.h>

/* Name of the pinned map under the pin dir. */
#define TC_MAP_GUARD "tc_guard"

/* Per socket the shim enrolled (cloned into a listener's children).
 * Once armed (ENO succeeded), in TCP sequence numbers: every payload byte
 * below ok_end was written by the shim (granted); a segment carrying a
 * byte at or beyond it does not leave. */
struct tc_guard {
	__u32 ok_end;
	__u8 armed;          /* negotiated: the check applies */
	__u8 open;           /* everything passes (a sandboxed process) */
	__u8 tainted;        /* bytes the shim did not grant were written */
	__u8 pad;
	__u64 dropped;       /* segments dropped (for tests and diagnosis) */
};

#ifdef __bpf__
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct tc_guard);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_guard SEC(".maps");
#endif

#endif /* TCPCRYPT_GUARD_H */
