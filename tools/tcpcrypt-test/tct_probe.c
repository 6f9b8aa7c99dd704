/*
 * tct_probe.c - see tct_probe.h. The socket calls are made here, in the
 * tool; libtcpcrypt only turns bytes into bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "tcpcrypt/tcpcrypt.h"
#include "eno.h"
#include "session.h"
#include "tct_probe.h"

#define RXBUF 65536

void tct_hex(const uint8_t *p, size_t len, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static void seterr(struct tct_probe_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void seterr(struct tct_probe_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

/* Text for a negative errno from the engine or from a socket call. */
static const char *errstr(int e)
{
	const char *t = tc_strerror(e);

	return strcmp(t, "unknown tcpcrypt error") ? t : strerror(-e);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the absolute deadline; returns revents,
 * 0 on timeout, or a negative errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return p.revents;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Sends all of buf on the non-blocking socket before the deadline. */
static int send_all(int fd, const uint8_t *buf, size_t len, long long deadline)
{
	size_t off = 0;
	ssize_t n;
	int ev;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		ev = wait_fd(fd, POLLOUT, deadline);
		if (ev < 0)
			return ev;
		if (ev == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Our offer as the shim makes it for a connecting socket: TEP
 * TCPCRYPT_ECDHE_Curve25519, no a or b bit. */
static void default_policy(struct tc_eno_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->teps[0] = TCPCRYPT_TEP_ECDHE_CURVE25519;
	pol->nteps = 1;
}

/* Creates a non-blocking socket for ai and opts it in to ENO. */
static int open_opted_in(const struct addrinfo *ai, struct tct_probe_result *r)
{
	struct tcpcrypt_eno_offer offer;
	struct tc_eno_policy pol;
	int fd, n, e;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		seterr(r, "socket: %s", strerror(errno));
		return -errno;
	}
	default_policy(&pol);
	memset(&offer, 0, sizeof(offer));
	offer.version = TCPCRYPT_ENO_ABI_VERSION;
	n = tc_eno_build_offer(&pol, 0, offer.content, sizeof(offer.content));
	if (n <= 0) {
		close(fd);
		seterr(r, "cannot build the ENO offer");
		return -EINVAL;
	}
	offer.len = (uint8_t)n;
	if (setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &offer, sizeof(offer)) < 0) {
		e = errno;
		close(fd);
		if (e == ENOPROTOOPT)
			seterr(r, "tcpcryptd not running: the opt-in setsockopt answered ENOPROTOOPT "
			       "(no tcpcryptd serves this process's cgroup)");
		else
			seterr(r, "the opt-in setsockopt failed: %s", strerror(e));
		return -e;
	}
	return fd;
}

/* Connects fd to ai before the deadline. */
static int connect_wait(int fd, const struct addrinfo *ai, long long deadline)
{
	socklen_t l = sizeof(int);
	int ev, err = 0;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -errno;
	ev = wait_fd(fd, POLLOUT, deadline);
	if (ev < 0)
		return ev;
	if (ev == 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		return -errno;
	return -err;
}

/* Reads the kernel's ENO result into r; waits briefly while it is pending. */
static int read_result(int fd, struct tct_probe_result *r, long long deadline)
{
	struct tcpcrypt_eno_result res;
	socklen_t len;

	for (;;) {
		memset(&res, 0, sizeof(res));
		len = sizeof(res);
		if (getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &res, &len) < 0) {
			seterr(r, "cannot read the ENO result: %s", strerror(errno));
			return -errno;
		}
		if ((res.flags & TCPCRYPT_RES_F_DONE) || (res.flags & TCPCRYPT_RES_F_ENO_OK) ||
		    now_ms() >= deadline)
			break;
		usleep(10000);
	}
	r->reason = res.reason;
	r->eno_flags = res.flags;
	r->local_len = res.local_len <= TCPCRYPT_ENO_OPT_MAX ? res.local_len : 0;
	r->peer_len = res.peer_len <= TCPCRYPT_ENO_OPT_MAX ? res.peer_len : 0;
	memcpy(r->local_opt, res.local_opt, r->local_len);
	memcpy(r->peer_opt, res.peer_opt, r->peer_len);
	r->role = (res.flags & TCPCRYPT_RES_F_ROLE_B) ? TCPCRYPT_ROLE_B : TCPCRYPT_ROLE_A;
	return 0;
}

/* Feeds n received bytes to the session, discarding application data and
 * sending any handshake output. Sets *fin on the peer's FINp. */
static int feed(tc_session *s, int fd, const uint8_t *in, size_t n, int *fin, long long deadline)
{
	static uint8_t plain[RXBUF];
	uint8_t hs[TC_HANDSHAKE_MAX];
	size_t off = 0, plen, hslen;
	unsigned flags;
	ssize_t c;
	int e;

	while (off < n) {
		plen = hslen = 0;
		flags = 0;
		c = tc_session_recv(s, in + off, n - off, plain, sizeof(plain), &plen, &flags,
				    hs, sizeof(hs), &hslen);
		if (c < 0)
			return (int)c;
		off += (size_t)c;
		if (hslen && (e = send_all(fd, hs, hslen, deadline)) < 0)
			return e;
		if (flags & TC_OPEN_FIN)
			*fin = 1;
		if (c == 0 && plen == 0 && hslen == 0)
			break;
	}
	return 0;
}

/* Receives once (waiting until the deadline) and feeds the session.
 * Returns 1 on EOF, 0 after progress, a negative errno otherwise. */
static int recv_feed(tc_session *s, int fd, int *fin, long long deadline)
{
	static uint8_t buf[RXBUF];
	ssize_t n;
	int ev;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			return feed(s, fd, buf, (size_t)n, fin, deadline);
		if (n == 0)
			return 1;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		ev = wait_fd(fd, POLLIN, deadline);
		if (ev < 0)
			return ev;
		if (ev == 0)
			return -ETIMEDOUT;
	}
}

/* The Init exchange and the FINp close over fd, the ENO result in r. */
static int run_session(int fd, struct tct_probe_result *r, int timeout_ms)
{
	struct tc_eno_policy pol;
	struct tc_eno_outcome out;
	struct tc_session_params p;
	tc_session *s = NULL;
	uint8_t hs[TC_HANDSHAKE_MAX], fin_frame[64];
	size_t consumed = 0, hslen = 0, flen = 0;
	long long deadline = now_ms() + timeout_ms;
	int e, fin = 0, eof = 0;

	default_policy(&pol);
	memset(&out, 0, sizeof(out));
	e = tc_eno_negotiate(&pol, r->local_opt, r->local_len, r->peer_opt, r->peer_len, &out);
	if (e < 0 || !out.negotiated || out.role != r->role) {
		seterr(r, "the kernel says ENO succeeded, but its options do not negotiate "
		       "tcpcrypt by RFC 8547 (%s)", tc_eno_reason_str(out.reason));
		return -EPROTO;
	}
	memset(&p, 0, sizeof(p));
	p.role = out.role;
	p.tep_byte = out.tep_byte;
	p.transcript = out.transcript;
	p.transcript_len = out.transcript_len;
	e = tc_session_new(&s, &p);
	if (e < 0) {
		seterr(r, "cannot start the session: %s", tc_strerror(e));
		return e;
	}
	if (out.role == TCPCRYPT_ROLE_A) {
		e = tc_session_handshake(s, NULL, 0, &consumed, hs, sizeof(hs), &hslen);
		if (e >= 0)
			e = send_all(fd, hs, hslen, deadline);
		if (e < 0) {
			seterr(r, "cannot send Init1: %s", errstr(e));
			goto out;
		}
	}
	while (!tc_session_ready(s)) {
		e = recv_feed(s, fd, &fin, deadline);
		if (e == 1) {
			seterr(r, "the peer closed the connection during the Init exchange "
			       "(ENO negotiated, but no tcpcrypt behind it)");
			e = -ECONNRESET;
			goto out;
		}
		if (e < 0) {
			seterr(r, "Init exchange failed: %s",
			       e == -ETIMEDOUT ? "no answer from the peer (timeout)" : errstr(e));
			goto out;
		}
	}
	r->aead = tc_session_aead(s);
	e = tc_session_sessid(s, r->sessid, sizeof(r->sessid));
	if (e < 0) {
		seterr(r, "no session ID: %s", tc_strerror(e));
		goto out;
	}
	r->sessid_len = (size_t)e;

	/* Clean close: our FINp, then the peer's (or its EOF). */
	e = tc_session_seal(s, NULL, 0, TC_SEAL_FIN, fin_frame, sizeof(fin_frame), &flen);
	if (e >= 0)
		e = send_all(fd, fin_frame, flen, deadline);
	if (e < 0) {
		seterr(r, "cannot send FINp: %s", errstr(e));
		goto out;
	}
	shutdown(fd, SHUT_WR);
	deadline = now_ms() + (timeout_ms < 2000 ? timeout_ms : 2000);
	while (!fin && !eof) {
		e = recv_feed(s, fd, &fin, deadline);
		if (e == 1)
			eof = 1;
		else if (e < 0)
			break;
	}
	r->clean_close = fin;
	e = 0;
out:
	tc_session_free(s);
	return e;
}

enum tct_probe_status tct_probe(const char *host, const char *port, int timeout_ms,
                                struct tct_probe_result *r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP };
	struct addrinfo *ai = NULL;
	char h[NI_MAXHOST], sv[NI_MAXSERV];
	long long deadline;
	int fd, e;

	memset(r, 0, sizeof(*r));
	e = getaddrinfo(host, port, &hints, &ai);
	if (e) {
		seterr(r, "%s port %s: %s", host, port, gai_strerror(e));
		return r->status = TCT_PROBE_ERROR;
	}
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, h, sizeof(h), sv, sizeof(sv),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(r->addr, sizeof(r->addr), "%s port %s", h, sv);
	fd = open_opted_in(ai, r);
	if (fd < 0) {
		freeaddrinfo(ai);
		return r->status = fd == -ENOPROTOOPT ? TCT_PROBE_NO_DAEMON : TCT_PROBE_ERROR;
	}
	deadline = now_ms() + timeout_ms;
	e = connect_wait(fd, ai, deadline);
	freeaddrinfo(ai);
	if (e < 0) {
		seterr(r, "cannot connect to %s port %s: %s", host, port, strerror(-e));
		close(fd);
		return r->status = TCT_PROBE_ERROR;
	}
	e = read_result(fd, r, now_ms() + (timeout_ms < 1000 ? timeout_ms : 1000));
	if (e < 0) {
		close(fd);
		return r->status = TCT_PROBE_ERROR;
	}
	if (!(r->eno_flags & TCPCRYPT_RES_F_ENO_OK)) {
		seterr(r, "%s", tc_eno_reason_str(r->reason));
		close(fd);
		return r->status = TCT_PROBE_FALLBACK;
	}
	e = run_session(fd, r, timeout_ms);
	close(fd);
	return r->status = e < 0 ? TCT_PROBE_ERROR : TCT_PROBE_ENCRYPTED;
}
