/* divert_client.c - opt-in and result over tcpcryptd's control socket, for
 * the divert backend (see divert_client.h, include/tcpcrypt/divert_proto.h).
 * Uses the real libc calls only: nothing here goes through the shim. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include "divert_client.h"
#include "libc_syms.h"
#include "tcpcrypt/divert_proto.h"

#define TC_DIVERT_DEFAULT_CONTROL "/run/tcpcrypt/control"
#define TC_DIVERT_TIMEOUT_US 200000
#define TC_DIVERT_ABSENT_MS 1000

/* When the control socket was last found missing (ms, monotonic). */
static long long absent_since = -1;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *control_path(void)
{
	const char *p = secure_getenv("TCPCRYPT_CONTROL");

	return p && *p ? p : TC_DIVERT_DEFAULT_CONTROL;
}

/* Connects to the daemon: the socket, or -ENOPROTOOPT. A missing socket
 * is remembered for a second, so that a host without any daemon pays one
 * stat() per second, not a connect() per connection. */
static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 0, .tv_usec = TC_DIVERT_TIMEOUT_US };
	const char *path = control_path();
	long long t, a = __atomic_load_n(&absent_since, __ATOMIC_RELAXED);
	struct stat st;
	int s;

	t = now_ms();
	if (a >= 0 && t - a < TC_DIVERT_ABSENT_MS)
		return -ENOPROTOOPT;
	if (strlen(path) >= sizeof(sa.sun_path) || stat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		__atomic_store_n(&absent_since, t, __ATOMIC_RELAXED);
		return -ENOPROTOOPT;
	}
	__atomic_store_n(&absent_since, -1LL, __ATOMIC_RELAXED);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = tc_real_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -ENOPROTOOPT;
	/* a stuck daemon costs at most the timeout, never a hang */
	tc_real_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	tc_real_setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (tc_real_connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		tc_real_close(s);
		return -ENOPROTOOPT;
	}
	return s;
}

/* One request with fd attached, one answer. */
static int ask(int fd, const struct tcd_req *rq, struct tcd_resp *rs)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = (void *)rq, .iov_len = sizeof(*rq) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			     .msg_controllen = sizeof(cb.b) };
	struct cmsghdr *cm;
	size_t got = 0;
	ssize_t n;
	int s, tries = 0;

	s = dial();
	if (s < 0)
		return s;
	memset(&cb, 0, sizeof(cb));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = tc_real_sendmsg(s, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR && ++tries < 3);
	if (n != (ssize_t)sizeof(*rq)) {
		tc_real_close(s);
		return -ENOPROTOOPT;
	}
	while (got < sizeof(*rs)) {
		n = tc_real_recv(s, (char *)rs + got, sizeof(*rs) - got, 0);
		if (n < 0 && errno == EINTR && ++tries < 3)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	tc_real_close(s);
	if (got != sizeof(*rs) || rs->magic != TCD_MAGIC)
		return -ENOPROTOOPT;    /* dead, stuck or not a divert daemon: plain TCP */
	return rs->err > 0 ? -rs->err : 0;
}

int tc_divert_opt_in(int fd, const struct tcpcrypt_eno_offer *offer)
{
	struct tcd_req rq;
	struct tcd_resp rs;
	int e = errno, r;

	memset(&rq, 0, sizeof(rq));
	rq.magic = TCD_MAGIC;
	rq.op = TCD_OP_OPTIN;
	rq.offer = *offer;
	r = ask(fd, &rq, &rs);
	errno = e;
	return r;
}

int tc_divert_result(int fd, struct tcpcrypt_eno_result *res, socklen_t *len)
{
	struct tcd_req rq;
	struct tcd_resp rs;
	int e = errno, r;

	memset(&rq, 0, sizeof(rq));
	rq.magic = TCD_MAGIC;
	rq.op = TCD_OP_RESULT;
	r = ask(fd, &rq, &rs);
	errno = e;
	if (r < 0) {
		*len = 0;
		return r;
	}
	*res = rs.res;
	*len = sizeof(*res);
	return 0;
}
