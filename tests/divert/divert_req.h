/* divert_req.h - for test tools (eno_peer, bench_divert): the divert
 * backend's opt-in, result and report requests over tcpcryptd's control
 * socket ($TCPCRYPT_CONTROL). The messages are the shim's
 * (include/tcpcrypt/divert_msg.h); only the connection differs: no cache,
 * a 1 s timeout, and a report waits for its answer. Header-only; each
 * function returns 0 or a positive errno like setsockopt/getsockopt would
 * (ENOPROTOOPT: no daemon). */
#ifndef TC_TEST_DIVERT_REQ_H
#define TC_TEST_DIVERT_REQ_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include "tcpcrypt/divert_msg.h"

/* One request rq with fd attached, one answer in *rs: 0 or a positive
 * errno (ENOPROTOOPT: no daemon, or no answer within a second). */
static int divert_req(int fd, const void *rq, size_t rqlen, struct tcd_resp *rs)
{
	const char *path = getenv("TCPCRYPT_CONTROL");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 1 };
	struct tcd_msg m;
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
	if (sendmsg(s, tcd_msg_with_fd(&m, rq, rqlen, fd), MSG_NOSIGNAL) != (ssize_t)rqlen) {
		close(s);
		return ENOPROTOOPT;
	}
	while (got < sizeof(*rs) && (n = recv(s, (char *)rs + got, sizeof(*rs) - got, 0)) > 0)
		got += (size_t)n;
	close(s);
	return -tcd_resp_err(rs, got);
}

static inline int divert_opt_in(int fd, const struct tcpcrypt_eno_offer *off)
{
	struct tcd_req rq;
	struct tcd_resp rs;

	tcd_req_optin(&rq, off);
	return divert_req(fd, &rq, sizeof(rq), &rs);
}

static inline int divert_result(int fd, struct tcpcrypt_eno_result *res)
{
	struct tcd_req rq;
	struct tcd_resp rs;
	int e;

	tcd_req_result(&rq);
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

	tcd_req_report(&rq, rep);
	return divert_req(fd, &rq, sizeof(rq), &rs);
}

#endif
