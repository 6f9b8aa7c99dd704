/*
 * divert_proto.h - the binary requests of tcpcryptd's divert backend on its
 * control socket (AF_UNIX stream, one request per connection).
 *
 * The client sends one struct tcd_req in a single sendmsg() with the TCP
 * socket it asks about attached as SCM_RIGHTS (proof of ownership); the
 * daemon answers one struct tcd_resp and closes. err is 0 or a positive
 * errno, with the same meanings as the eBPF backend's setsockopt/getsockopt
 * (include/tcpcrypt/eno_abi.h): EINVAL (bad offer), EISCONN (already
 * connecting or connected; a listener may opt in late), ENOENT (result of a socket that was
 * not opted in), plus ENOTSOCK (the fd is not a TCP socket) and EBUSY (the
 * socket already has an SO_MARK of its own).
 *
 * TCD_OP_REPORT (for tcnetstat) is a struct tcd_req_report instead: the
 * session's public facts once its keys are set. The daemon answers it like
 * the others (EINVAL: a bad report; ENOENT: the socket was not opted in;
 * ENOSPC: its session table is full for this uid), but the shim does not
 * wait for that answer: a report is fire and forget.
 */
#ifndef TCPCRYPT_DIVERT_PROTO_H
#define TCPCRYPT_DIVERT_PROTO_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tcpcrypt/eno_abi.h"

#define TCD_MAGIC     0x54434431u  /* "TCD1", host order: the socket is local */
#define TCD_OP_OPTIN  1            /* offer: opt the socket in (before connect/listen, or a listener) */
#define TCD_OP_RESULT 2            /* read the socket's struct tcpcrypt_eno_result */
#define TCD_OP_REPORT 3            /* the session's keys are set: struct tcd_req_report */

struct tcd_req {
	uint32_t magic;
	uint8_t op;
	uint8_t pad[3];
	struct tcpcrypt_eno_offer offer;   /* TCD_OP_OPTIN only */
};

struct tcd_req_report {
	uint32_t magic;
	uint8_t op;                        /* TCD_OP_REPORT */
	uint8_t pad[3];
	struct tcpcrypt_eno_report report; /* as for setsockopt TCPCRYPT_ENO_REPORT */
};

struct tcd_resp {
	uint32_t magic;
	int32_t err;
	struct tcpcrypt_eno_result res;    /* TCD_OP_RESULT with err == 0 */
};

/*
 * The handshake table, shared read-only with applications: the daemon keeps
 * its per-connection state in a file it maps (CONTROL_PATH TCD_TAB_SUFFIX,
 * mode 0644), writing each decision there before the verdict that lets the
 * segment go on. When the daemon does not answer a result request (it
 * died), the shim reads the outcome of its socket (marked by the daemon,
 * SO_MARK & TCD_MARK_MASK == TCD_MARK) from the file, so both ends still
 * agree on what went on the wire. Only the file's owner (root) writes it;
 * it holds 4-tuples and option bytes, which are public anyway.
 */
#define TCD_MARK          0x54430000u
#define TCD_MARK_MASK     0xffff0000u
#define TCD_TAB_SUFFIX    ".tab"
#define TCD_TAB_MAGIC     0x54434458u  /* changed with every layout or meaning change */
#define TCD_TAB_SLOTS     16384        /* a power of 2 */
#define TCD_TAB_PROBE     16           /* the daemon's window; where it starts is a keyed
                                        * hash (a secret of the daemon's): readers scan */
#define TCD_TAB_TTL_MS    120000       /* older entries are dead (CLOCK_MONOTONIC) */

/* Handshake states. */
enum {
	TCD_S_A_SYN = 1,     /* A: our SYN went out (with or without ENO) */
	TCD_S_A_ENO,         /* A: negotiated; our segments carry 45 02 (acked: one did) */
	TCD_S_A_DONE,        /* A: fell back */
	TCD_S_B_SYN,         /* B: A's SYN seen (its option kept) */
	TCD_S_B_WAIT_ACK,    /* B: our SYN-ACK carried ENO; A's first ACK decides */
	TCD_S_B_DONE,        /* B: decided */
};

#define TCD_A_UNSEEN (-2)

struct tcd_key {
	uint8_t family;          /* AF_INET (v4-mapped included) or AF_INET6 */
	uint8_t pad;
	uint16_t lport, rport;   /* host order */
	uint8_t laddr[16], raddr[16]; /* IPv4 in the first 4 bytes, the rest 0 */
};

/* The table key of a connected socket, v4-mapped addresses as IPv4. The
 * shim and the daemon must compute it the same way: this is the one
 * definition. Returns 0, -ENOTCONN or -ENOTSOCK. */
static inline int tcd_sock_key(int fd, struct tcd_key *k)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);
	const uint8_t *la, *ra;

	if (getsockname(fd, (struct sockaddr *)&l, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&r, &rl) < 0 || l.ss_family != r.ss_family)
		return -ENOTCONN;
	memset(k, 0, sizeof(*k));
	if (l.ss_family == AF_INET) {
		k->family = AF_INET;
		memcpy(k->laddr, &((struct sockaddr_in *)&l)->sin_addr, 4);
		memcpy(k->raddr, &((struct sockaddr_in *)&r)->sin_addr, 4);
		k->lport = ntohs(((struct sockaddr_in *)&l)->sin_port);
		k->rport = ntohs(((struct sockaddr_in *)&r)->sin_port);
		return 0;
	}
	if (l.ss_family != AF_INET6)
		return -ENOTSOCK;
	la = (const uint8_t *)&((struct sockaddr_in6 *)&l)->sin6_addr;
	ra = (const uint8_t *)&((struct sockaddr_in6 *)&r)->sin6_addr;
	if (!memcmp(la, mapped, 12)) {
		k->family = AF_INET;
		memcpy(k->laddr, la + 12, 4);
		memcpy(k->raddr, ra + 12, 4);
	} else {
		k->family = AF_INET6;
		memcpy(k->laddr, la, 16);
		memcpy(k->raddr, ra, 16);
	}
	k->lport = ntohs(((struct sockaddr_in6 *)&l)->sin6_port);
	k->rport = ntohs(((struct sockaddr_in6 *)&r)->sin6_port);
	return 0;
}

struct tcd_slot {
	struct tcd_key key;
	uint64_t t_ms;           /* creation (CLOCK_MONOTONIC ms); 0 = free */
	uint8_t state;           /* TCD_S_* */
	uint8_t acked;           /* A: a segment with 45 02 was let go */
	int8_t a_count;          /* B: ENO options in A's SYN (-1: ill-formed options;
	                          * TCD_A_UNSEEN: we did not see A's SYN) */
	uint8_t syn_data;        /* B: A's SYN carried data */
	uint16_t offer_id;
	uint8_t simo;            /* A slot in a simultaneous open: TCD_SIMO_* */
	uint8_t pad[1];
	struct tcpcrypt_eno_result res;
	uint32_t isn;            /* A's SYN's sequence number. A: a retransmission keeps the
	                          * decision; B: the shim matches it with the SYN the
	                          * kernel saved (TCP_SAVED_SYN), so that a slot left by an
	                          * earlier connection of the same 4-tuple is never taken
	                          * for this one */
	uint32_t isn_b;          /* B: our SYN-ACK's sequence number (A's first ACK must
	                          * acknowledge isn_b + 1); simultaneous open: the peer's
	                          * SYN's (its ACK comes from isn_b + 1) */
};
/* tcd_slot.simo: a connecting socket that got the peer's SYN in SYN-SENT
 * (simultaneous open, RFC 8547 4.7) and answers with a SYN-ACK. */
enum {
	TCD_SIMO_NONE = 0,
	TCD_SIMO_SYN,        /* the peer's SYN seen, its option in res.peer_opt */
	TCD_SIMO_ENO,        /* and our SYN-ACK left with our SYN's option */
	TCD_SIMO_PLAIN,      /* our SYN-ACK left without ENO: the connection is plain */
	TCD_SIMO_JUDGED,     /* the peer's SYN-ACK negotiated (res holds the outcome)
	                      * before our SYN-ACK was judged: success once that leaves
	                      * with ENO */
};

/* judged_ms: CLOCK_MONOTONIC ms (system-wide) at which whoever serves the
 * queue (the daemon, or its watchdog during a takeover) last sampled the
 * clock just before finding the queue empty: every segment queued before
 * that instant had been judged, its decision written here. 0: not yet. A
 * shim whose result request timed out (a stopped or hung daemon) waits
 * until judged_ms is past the time of its request before it reads its
 * slot, so that its own first ACK, queued before connect() returned, has
 * been judged (shim/divert_client.c). Written with one 8-byte pwrite. */
struct tcd_tab {
	uint32_t magic;
	uint32_t nslots;
	uint64_t judged_ms;
	struct tcd_slot slot[TCD_TAB_SLOTS];
};

#endif
