/*
 * tcpcrypt_maps.h - layout of the maps that tcpcrypt_eno.bpf.c
 * keeps and that tcpcryptd / tcnetstat read. Shared by the BPF object and
 * user space, so it uses only <linux/types.h>. The per-socket ABI (what the
 * shim sees through setsockopt/getsockopt) is include/tcpcrypt/eno_abi.h.
 */
#ifndef TCPCRYPT_MAPS_H
#define TCPCRYPT_MAPS_H

#include <linux/types.h>
#include "tcpcrypt/eno_abi.h"

/* Names of the pinned objects under the pin dir. tc_sessions is a bpf_iter
 * link: reading it (bpf_iter_create on bpf_obj_get, or plain read()) gives
 * one struct tc_session_rec per live established opted-in connection. */
#define TC_ITER_SESSIONS "tc_sessions"
/* The sessions table (hash map: __u64 socket cookie -> struct tc_session)
 * that the sock_ops program keeps when the iterator is unavailable. */
#define TC_MAP_SESSIONS_TAB "tc_sessions_tab"
#define TC_MAP_COUNTERS "tc_counters"
#define TC_MAP_OWNER    "tc_owner"

#define TC_COMM_LEN     16

/* A connection's addresses: ports in host order, addresses in network
 * order (IPv4 in addr[0..3]). family is AF_INET (2) or AF_INET6 (10). */
struct tc_tuple {
	__u8 family;
	__u8 pad;
	__u16 lport;
	__u16 rport;
	__u16 pad2;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* One live opted-in connection. */
struct tc_session {
	struct tc_tuple tuple;
	__u8 state;                          /* BPF_TCP_* of the socket */
	__u8 has_report;                     /* report is valid */
	__u16 pad;
	__u32 pid;                           /* tgid of the last opt-in / report caller */
	__u32 uid;
	char comm[TC_COMM_LEN];
	struct tcpcrypt_eno_result result;
	struct tcpcrypt_eno_report report;
	__u64 est_ns;                        /* CLOCK_MONOTONIC ns when established, 0: unknown */
	__u64 bytes_acked;                   /* TCP payload bytes sent and acked (has_bytes) */
	__u64 bytes_received;                /* TCP payload bytes received (has_bytes) */
	__u8 has_bytes;                      /* the two counts above are valid */
	__u8 pad3[7];
};

/* What the tc_sessions iterator writes for each connection. */
struct tc_session_rec {
	__u64 cookie;                        /* the socket's cookie */
	struct tc_session s;
};

/* Event counters (map tc_counters, per-CPU array). */
enum tc_counter {
	TC_C_OPT_IN,            /* sockets opted in by setsockopt */
	TC_C_SYN_ENO,           /* SYNs sent with ENO */
	TC_C_SYNACK_ENO,        /* SYN-ACKs sent with ENO */
	TC_C_SYNACK_PLAIN,      /* SYN-ACKs of opted-in listeners sent without ENO */
	TC_C_SYNACK_RTX,        /* SYN-ACKs rebuilt from the tuple map (retransmits) */
	TC_C_ACK_ENO,           /* non-SYN segments sent with ENO by A */
	TC_C_OK_A,              /* ENO succeeded, role A */
	TC_C_OK_B,              /* ENO succeeded, role B */
	TC_C_FALLBACK,          /* opted-in connection that fell back */
	TC_C_NO_SPACE,          /* option did not fit */
	TC_C_REPORTS,           /* TCPCRYPT_ENO_REPORT calls */
	TC_C_ERRORS,            /* unexpected helper failures */
	TC_C_STATE_LOST,        /* B: ENO in A's first ACK, no record of our SYN-ACK (aborted) */
	TC_C_MAX
};

/* The daemon that owns a pin dir (map tc_owner, one entry). */
struct tc_owner {
	__u32 pid;
	__u32 pad;
	__u64 start_time;                    /* seconds since the epoch */
};

#endif /* TCPCRYPT_MAPS_H */
