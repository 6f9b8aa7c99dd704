/* divert_req.h - for test tools (eno_peer): the divert backend's opt-in,
 * result and report requests over tcpcryptd's control socket ($TCPCRYPT_CONTROL), the
 * same protocol as the shim's divert_client.c (include/tcpcrypt/
 * divert_proto.h). Header-only; each function returns 0 or a positive
 * errno like setsockopt/getsockopt would (ENOPROTOOPT: no daemon). */
#ifndef TC_TEST_DIVERT_REQ_H
#define TC_TEST_DIVERT_REQ_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include "tcpcrypt/divert_proto.h"

static int divert_req(int fd, const void *rq, size_t rqlen, struct tcd_resp *rs)
{
	const char *path = getenv("TCPCRYPT_CONTROL");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 1 };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = (void *)rq, .iov_len = rqlen };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			     .msg_controllen = sizeof(cb.b) };
	struct cmsghdr *cm;
	size_t got = 0;
	ssize_t n;
	int s;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return ENOPROTOOPT;
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ENOPROTOOPT;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		return ENOPROTOOPT;
	}
	memset(&cb, 0, sizeof(cb));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) != (ssize_t)rqlen) {
		close(s);
		return ENOPROTOOPT;
	}
	while (got < sizeof(*rs) && (n = recv(s, (char *)rs + got, sizeof(*rs) - got, 0)) > 0)
		got += (size_t)n;
	close(s);
	if (got != sizeof(*rs) || rs->magic != TCD_MAGIC)
		return ENOPROTOOPT;
	return rs->err;
}

static inline int divert_opt_in(int fd, const struct tcpcrypt_eno_offer *off)
{
	struct tcd_req rq;
	struct tcd_resp rs;

	memset(&rq, 0, sizeof(rq));
	rq.magic = TCD_MAGIC;
	rq.op = TCD_OP_OPTIN;
	rq.offer = *off;
	return divert_req(fd, &rq, sizeof(rq), &rs);
}

static inline int divert_result(int fd, struct tcpcrypt_eno_result *res)
{
	struct tcd_req rq;
	struct tcd_resp rs;
	int e;

	memset(&rq, 0, sizeof(rq));
	rq.magic = TCD_MAGIC;
	rq.op = TCD_OP_RESULT;
	e = divert_req(fd, &rq, sizeof(rq), &rs);
	if (!e)
		*res = rs.res;
	return e;
}

/* Unlike the shim, waits for the daemon's answer: tests see its error. */
static inline int divert_report(int fd, const struct tcpcrypt_eno_report *rep)
{
	struct tcd_req_report rq;
	struct tcd_resp rs;

	memset(&rq, 0, sizeof(rq));
	rq.magic = TCD_MAGIC;
	rq.op = TCD_OP_REPORT;
	rq.report = *rep;
	return divert_req(fd, &rq, sizeof(rq), &rs);
}

#endif
