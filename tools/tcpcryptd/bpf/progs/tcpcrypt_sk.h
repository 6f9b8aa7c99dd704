/*
 * tcpcrypt_sk.h - the per-socket state that the ENO programs keep in socket
 * storage (map tc_sk), shared by the two BPF objects: tcpcrypt_eno.bpf.c
 * (the essential programs, which write it) and tcpcrypt_iter.bpf.c (the
 * optional sessions iterator, which reads it and reuses the pinned map).
 * BPF-side only; user space sees struct tc_session (tcpcrypt_maps.h).
 */
#ifndef TCPCRYPT_SK_H
#define TCPCRYPT_SK_H

#include "tcpcrypt_maps.h"

/* Internal state bits (struct tc_sk.st). */
#define ST_OPTED    0x01   /* opted in */
#define ST_ACTIVE   0x02   /* connect() seen */
#define ST_LISTENER 0x04
#define ST_SYN_DEC  0x08   /* first SYN decided whether ENO goes out */
#define ST_SYN_ENO  0x10   /* our SYN carries ENO */
#define ST_ACK_ENO  0x20   /* A: put 45 02 into non-SYN segments */
#define ST_SESSION  0x40   /* established: listed by the tc_sessions iterator */
#define ST_TABLE    0x80   /* has an entry in tc_sessions_tab (removed at close) */

/* struct tc_sk.lflags */
#define LST_COUNTED 0x01   /* counted in its tc_listen entry's refs */

/* bpf_setsockopt/bpf_getsockopt(SOL_TCP) name for a socket's sock_ops
 * callback flags (Linux >= 6.12); an enum in newer <linux/bpf.h>, absent
 * from older ones, hence our own name. A kernel without it says EINVAL. */
#define TC_TCP_BPF_SOCK_OPS_CB_FLAGS 1008

/* Per-socket state (sk_storage; cloned into accepted children). */
struct tc_sk {
	__u8 st;
	__u8 offer_flags;
	__u8 offer_len;
	__u8 lflags;           /* LST_*: a listener's hold on its tc_listen entry */
	__u32 pid;
	__u32 uid;
	__u32 una0;            /* A: snd_una / rcv_nxt when established, to */
	__u32 rcv0;            /*    notice B's first non-SYN segment */
	__u32 pad2;
	__u64 cookie;
	char comm[TC_COMM_LEN];
	__u8 offer[TCPCRYPT_ENO_CONTENT_MAX];
	struct tcpcrypt_eno_result res;
	struct tcpcrypt_eno_report rep;
	__u8 has_report;
	__u8 pad3[3];
	struct tc_tuple tuple;  /* set when established */
	__u64 est_ns;           /* bpf_ktime_get_ns() when established */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct tc_sk);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_sk SEC(".maps");

#endif /* TCPCRYPT_SK_H */
