/*
 * eno_abi.h - the interface between tcpcrypt's user-space code (the shim,
 * tcpcryptd, tests) and the kernel programs that put TCP-ENO (RFC 8547) on
 * the real TCP handshake.
 *
 * This one header is shared by the eBPF programs (compiled with
 * clang -target bpf, so it uses only <linux/types.h>) and by C code.
 * Wire formats themselves are defined once, in libtcpcrypt/eno.c; the BPF
 * programs hold the one in-kernel copy of the ENO parsing rules.
 *
 * Use, from an unprivileged process in a cgroup where tcpcryptd attached
 * its programs:
 *   before connect()/listen():
 *     setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &offer, sizeof offer)
 *   after connect()/accept():
 *     getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &result, &len)
 *   once the session's keys are set (for tcnetstat):
 *     setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_REPORT, &report, sizeof report)
 * Where no program is attached the kernel answers ENOPROTOOPT.
 *
 * Errors of the programs (tools/tcpcryptd/bpf/progs/tcpcrypt_eno.bpf.c):
 *   setsockopt TCPCRYPT_ENO_SOCKOPT: EINVAL (optlen < sizeof offer, bad
 *     version, len not in 1..36, unknown flags), EISCONN (the socket is
 *     already connecting or connected), ENOMEM, EOPNOTSUPP (see below).
 *     A listening socket may be opted in (again) after listen(): a
 *     "renewal", for a listener that started before tcpcryptd or outlived
 *     its restart. Its later SYN-ACKs carry ENO; connections already past
 *     their handshake stay plain. Where the kernel cannot set the
 *     listener's sock_ops flags from the hook (before Linux 6.12)
 *     EOPNOTSUPP: the opt-in is kept, and takes effect only if the
 *     listener still has the flag from an earlier daemon.
 *   getsockopt TCPCRYPT_ENO_SOCKOPT: ENOENT (the socket was not opted in;
 *     this includes accepted sockets of a listener that was not), EINVAL
 *     (buffer smaller than struct tcpcrypt_eno_result).
 *   setsockopt TCPCRYPT_ENO_REPORT: ENOENT (not opted in), EINVAL.
 * An accepted socket of an opted-in listener is opted in itself (same
 * offer); its result has F_DONE once the ACK completing the handshake was
 * processed, which is before accept() returns it except with TCP Fast Open.
 */
#ifndef TCPCRYPT_ENO_ABI_H
#define TCPCRYPT_ENO_ABI_H

#include <linux/types.h>

/* Option names at level SOL_TCP (6). Kernel TCP_* options are < 256. */
#define TCPCRYPT_ENO_SOCKOPT     0x54435001
#define TCPCRYPT_ENO_REPORT      0x54435002
/* The guard (eBPF backend, when loaded): on a negotiated connection of
 * the shim, a segment carrying a byte the shim did not write never leaves.
 * setsockopt(fd, SOL_TCP, TCPCRYPT_GUARD_GRANT, &g, sizeof g) with a struct
 * tcpcrypt_guard_grant:
 *   ENROL:    guard this socket (or a listener's connections) once ENO
 *             succeeds; made by the shim when it opts a socket in.
 * and around each write of sealed bytes, under the connection's tx lock:
 *   GRANT n:  the next n bytes written are the shim's. EPIPE: bytes the shim
 *             did not grant were written since (the connection is then
 *             frozen: nothing written after them ever leaves).
 *   RETURN n: the last write left n granted bytes unwritten.
 *   OPEN:     everything passes from now on (a process entering a seccomp
 *             sandbox, where this call is forbidden).
 * ENOENT: the socket is not guarded. */
#define TCPCRYPT_GUARD_GRANT     0x54435003
#define TCPCRYPT_GUARD_OP_GRANT  1
#define TCPCRYPT_GUARD_OP_RETURN 2
#define TCPCRYPT_GUARD_OP_OPEN   3
#define TCPCRYPT_GUARD_OP_ENROL  4
struct tcpcrypt_guard_grant {
	__u32 op;                            /* TCPCRYPT_GUARD_OP_* */
	__u32 len;                           /* bytes (GRANT, RETURN) */
};

#define TCPCRYPT_ENO_ABI_VERSION 1
#define TCPCRYPT_ENO_KIND        69
#define TCPCRYPT_ENO_OPT_MAX     40  /* a whole option (kind, length, content) never exceeds TCP's option space */
#define TCPCRYPT_ENO_CONTENT_MAX 36

/* What a socket offers: the content of its SYN-form ENO option (suboptions
 * exactly as they go on the wire: an optional global suboption byte, then
 * TEP suboptions). A listener's content lists the TEPs it accepts, in
 * rising order of preference; its SYN-ACK carries b=1 and only the chosen
 * TEP. */
struct tcpcrypt_eno_offer {
	__u8 version;                        /* TCPCRYPT_ENO_ABI_VERSION */
	__u8 flags;                          /* TCPCRYPT_OFFER_F_* */
	__u8 len;                            /* bytes used in content, 1..36 */
	__u8 pad;
	__u8 content[TCPCRYPT_ENO_CONTENT_MAX];
};
#define TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE 0x01 /* disable ENO unless the peer sends a=1 */

/* The outcome of the handshake, as the kernel saw it. */
struct tcpcrypt_eno_result {
	__u8 version;                        /* TCPCRYPT_ENO_ABI_VERSION */
	__u8 flags;                          /* TCPCRYPT_RES_F_* */
	__u8 reason;                         /* TCPCRYPT_ENO_R_*: why ENO failed, R_OK if it did not */
	__u8 local_len;                      /* length of local_opt, 0 if we sent no SYN-form ENO */
	__u8 peer_len;                       /* length of peer_opt, 0 if the peer's SYN/SYN-ACK had none */
	__u8 pad[3];
	__u8 local_opt[TCPCRYPT_ENO_OPT_MAX];/* our SYN-form option, verbatim (kind, length, content) */
	__u8 peer_opt[TCPCRYPT_ENO_OPT_MAX]; /* the peer's SYN-form option, verbatim as received */
};
#define TCPCRYPT_RES_F_ENO_OK       0x01 /* ENO succeeded: ACK segments carrying ENO were both sent and received */
#define TCPCRYPT_RES_F_ROLE_B       0x02 /* this host is B (it sent b=1) */
#define TCPCRYPT_RES_F_DONE         0x04 /* the result is final */
#define TCPCRYPT_RES_F_PEER_APP     0x08 /* the peer sent a=1 */
#define TCPCRYPT_RES_F_OPTED_IN     0x10 /* the socket was opted in */
#define TCPCRYPT_RES_F_COOKIE       0x20 /* passive side: the SYN-ACK was a SYN cookie */

/* Why ENO did not succeed (RFC 8547 section 4.6 fallback rules). */
enum tcpcrypt_eno_reason {
	TCPCRYPT_ENO_R_OK = 0,          /* negotiated */
	TCPCRYPT_ENO_R_PENDING,         /* handshake not finished */
	TCPCRYPT_ENO_R_NOT_OPTED_IN,    /* the socket did not ask for ENO */
	TCPCRYPT_ENO_R_PEER_NO_ENO,     /* the peer's SYN / SYN-ACK carried no ENO option */
	TCPCRYPT_ENO_R_MALFORMED,       /* the peer's option was ill-formed (bad length byte, ...) */
	TCPCRYPT_ENO_R_TWO_OPTIONS,     /* more than one ENO option in the peer's SYN */
	TCPCRYPT_ENO_R_VACUOUS,         /* the peer's option had no TEP */
	TCPCRYPT_ENO_R_NO_COMMON_TEP,   /* no TEP acceptable to both */
	TCPCRYPT_ENO_R_ROLE_CLASH,      /* both sides sent the same b bit */
	TCPCRYPT_ENO_R_APP_AWARE,       /* mandatory application-aware mode and the peer sent a=0 */
	TCPCRYPT_ENO_R_ACK_NO_ENO,      /* B: A's first ACK carried no ENO */
	TCPCRYPT_ENO_R_NO_SPACE,        /* our option did not fit in the segment */
	TCPCRYPT_ENO_R_SYN_DATA,        /* SYN data / TFO with ENO (tcpcrypt defines none) */
	TCPCRYPT_ENO_R_STATE_LOST,      /* B: A's first ACK carried ENO but B kept no record of
	                                 * its SYN-ACK (state evicted by a SYN flood, or lost with
	                                 * a daemon restart); or, in a simultaneous open where
	                                 * the peer completed on our SYN-ACK before its SYN
	                                 * reached us, the peer's ACK carried ENO but this end
	                                 * never saw the peer's option (eBPF backend): the peer may have
	                                 * negotiated, so the connection must be aborted, never
	                                 * run plain */
	TCPCRYPT_ENO_R_SIMOPEN,         /* a simultaneous open this end does not negotiate: we
	                                 * sent b=1 and completed on the peer's SYN-ACK (b=0)
	                                 * before its SYN reached us (with the eBPF backend the
	                                 * peer could not see our option); or our SYN-ACK went
	                                 * without ENO (divert). Both ends run plain */
	TCPCRYPT_ENO_R_MAX
};

/* What the shim tells the kernel programs once a session's keys are set,
 * so that tcnetstat can list the session. The session ID is public. */
struct tcpcrypt_eno_report {
	__u8 version;                        /* TCPCRYPT_ENO_ABI_VERSION */
	__u8 role;                           /* 0 = A, 1 = B */
	__u16 aead;                          /* AEAD id in host order */
	__u8 sessid_len;                     /* <= 64 */
	__u8 pad[3];
	__u8 sessid[64];
};

#endif /* TCPCRYPT_ENO_ABI_H */
