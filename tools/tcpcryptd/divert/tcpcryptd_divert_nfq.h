/* tcpcryptd_divert_nfq.h - binding an NFQUEUE over netlink (libmnl): the
 * divert backend's queue, and the test tools that hold or mangle queued
 * packets (tests/integration/nfq_mangle.c, tests/divert/hold_queue.c). */
#ifndef TCPCRYPTD_DIVERT_NFQ_H
#define TCPCRYPTD_DIVERT_NFQ_H

#include <stdint.h>
#include <libmnl/libmnl.h>

struct dv_nfq {
	struct mnl_socket *nl;
	unsigned portid;
	unsigned qnum;
};

/* How the queue hands packets over. */
struct dv_nfq_params {
	uint8_t copy_mode;       /* NFQNL_COPY_META or NFQNL_COPY_PACKET */
	uint32_t copy_range;     /* bytes of each packet (COPY_PACKET) */
	int fail_open;           /* a full queue accepts instead of dropping */
	uint32_t maxlen;         /* queue length, 0: the kernel's default */
};

/* Opens a netlink socket for queue qnum (close-on-exec, ENOBUFS off, a
 * receive buffer of rcvbuf bytes forced unless 0). Returns 0 or -errno
 * (then q->nl is NULL). */
int dv_nfq_socket(struct dv_nfq *q, unsigned qnum, int rcvbuf);

/* Binds the queue and sets its parameters, each step acknowledged.
 * Returns 0 or -errno (EBUSY-like errors when another process has it). */
int dv_nfq_bind(struct dv_nfq *q, const struct dv_nfq_params *p);

#endif
