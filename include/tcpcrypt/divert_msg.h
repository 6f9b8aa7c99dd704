/*
 * divert_msg.h - the divert backend's requests as messages (the protocol
 * is divert_proto.h): a request built in one way, sent with the socket it
 * is about attached (SCM_RIGHTS), and the one reading of an answer. The
 * single definition for every client: the shim (shim/divert_client.c) and
 * the test tools (tests/divert/divert_req.h). No I/O: each caller sends
 * with its own sendmsg (the shim with the real libc's).
 */
#ifndef TCPCRYPT_DIVERT_MSG_H
#define TCPCRYPT_DIVERT_MSG_H

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "tcpcrypt/divert_proto.h"

/* A message of one buffer and one fd; it points into itself, so it must
 * stay where tcd_msg_with_fd() filled it until it is sent. */
struct tcd_msg {
	struct iovec iov;
	struct msghdr mh;
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cb;
};

/* Fills m to send the len bytes of buf with fd attached (the proof that
 * the socket is the caller's). Returns the msghdr to give to sendmsg. */
static inline struct msghdr *tcd_msg_with_fd(struct tcd_msg *m, const void *buf, size_t len,
					     int fd)
{
	struct cmsghdr *cm;

	memset(m, 0, sizeof(*m));
	m->iov.iov_base = (void *)buf;
	m->iov.iov_len = len;
	m->mh.msg_iov = &m->iov;
	m->mh.msg_iovlen = 1;
	m->mh.msg_control = m->cb.b;
	m->mh.msg_controllen = sizeof(m->cb.b);
	cm = CMSG_FIRSTHDR(&m->mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return &m->mh;
}

/* TCD_OP_OPTIN with the offer. */
static inline void tcd_req_optin(struct tcd_req *rq, const struct tcpcrypt_eno_offer *offer)
{
	memset(rq, 0, sizeof(*rq));
	rq->magic = TCD_MAGIC;
	rq->op = TCD_OP_OPTIN;
	rq->offer = *offer;
}

/* TCD_OP_RESULT. */
static inline void tcd_req_result(struct tcd_req *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->magic = TCD_MAGIC;
	rq->op = TCD_OP_RESULT;
}

/* TCD_OP_REPORT with the session's report. */
static inline void tcd_req_report(struct tcd_req_report *rq,
				  const struct tcpcrypt_eno_report *rep)
{
	memset(rq, 0, sizeof(*rq));
	rq->magic = TCD_MAGIC;
	rq->op = TCD_OP_REPORT;
	rq->report = *rep;
}

/* What an answer of which got bytes arrived says: 0, the daemon's error
 * as a negative errno, or -ENOPROTOOPT when it is not the whole answer of
 * a divert daemon (none, dead, or something else on the socket). */
static inline int tcd_resp_err(const struct tcd_resp *rs, size_t got)
{
	if (got != sizeof(*rs) || rs->magic != TCD_MAGIC)
		return -ENOPROTOOPT;
	return rs->err > 0 ? -rs->err : 0;
}

#endif
