/*
 * conf_flags.c - cases about flags and stream semantics: MSG_PEEK,
 * MSG_WAITALL, MSG_DONTWAIT, MSG_NOSIGNAL and SIGPIPE, SO_RCVTIMEO and
 * SO_SNDTIMEO, shutdown(SHUT_WR) and EOF, dup/dup2/dup3/F_DUPFD sharing the
 * stream, a socket shared across fork(), and TCP_CRYPT_ENABLE=0 (plain).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tcpcrypt/tcpcrypt.h>

#include "conformance.h"

extern size_t conf_one;

static int send_byte(int fd, char b)
{
	return conf_write_all(fd, &b, 1);
}

static int recv_byte(int fd, char want)
{
	char b;
	if (conf_read_exact(fd, &b, 1) < 0)
		return -1;
	CHECK(b == want, "sync byte %#x, expected %#x", b, want);
	return 0;
}

/* msgflags: peek, waitall, dontwait. */
static int msgflags_client(struct conf_ctx *c)
{
	uint8_t p1[100], p2[100], r1[100];
	static uint8_t big[50000];
	size_t want = conf_opaque(100);
	ssize_t n1, n2, n3;

	/* MSG_PEEK does not consume. */
	CHECK(conf_wait_fd(c->fd, POLLIN, 10000) == 1, "not readable");
	n1 = recv(c->fd, p1, want, MSG_PEEK);
	CHECK_ERRNO(n1 > 0, "recv MSG_PEEK");
	n2 = recv(c->fd, p2, want, MSG_PEEK);
	CHECK_ERRNO(n2 >= n1, "second recv MSG_PEEK (%zd after %zd)", n2, n1);
	n3 = recv(c->fd, r1, want, 0);
	CHECK_ERRNO(n3 >= n1, "recv after MSG_PEEK (%zd after peeking %zd)", n3, n1);
	CHECK(conf_mismatch(p1, (size_t)n1, 20, 0) < 0, "first peek: wrong data");
	CHECK(conf_mismatch(p2, (size_t)n2, 20, 0) < 0, "second peek: wrong data");
	CHECK(conf_mismatch(r1, (size_t)n3, 20, 0) < 0, "read after peek: wrong data");
	if (conf_recv_pat(c->fd, 20, (uint64_t)n3, 1000 - (size_t)n3) < 0)
		return -1;

	/* MSG_WAITALL gathers a write made in ten pieces. */
	if (send_byte(c->fd, 'W') < 0)
		return -1;
	ssize_t r = recv(c->fd, big, sizeof big, MSG_WAITALL);
	CHECK_ERRNO(r >= 0, "recv MSG_WAITALL");
	CHECK(r == (ssize_t)sizeof big, "recv MSG_WAITALL returned %zd of %zu", r, sizeof big);
	CHECK(conf_mismatch(big, sizeof big, 21, 0) < 0, "MSG_WAITALL: wrong data");

	/* MSG_DONTWAIT on a blocking socket with nothing to read. */
	int64_t t0 = conf_now_ms();
	r = recv(c->fd, p1, want, MSG_DONTWAIT);
	CHECK(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	      "recv MSG_DONTWAIT with no data: returned %zd (%s)", r,
	      r < 0 ? conf_errname(errno) : "-");
	CHECK(conf_now_ms() - t0 < 500, "recv MSG_DONTWAIT blocked");

	/* 10 bytes: peek them without waiting, then read them all. */
	if (send_byte(c->fd, 'P') < 0)
		return -1;
	CHECK(conf_wait_fd(c->fd, POLLIN, 10000) == 1, "not readable");
	n1 = recv(c->fd, p1, want, MSG_PEEK | MSG_DONTWAIT);
	CHECK_ERRNO(n1 > 0 && n1 <= 10, "recv MSG_PEEK|MSG_DONTWAIT (%zd)", n1);
	r = recv(c->fd, r1, 10, MSG_WAITALL);
	CHECK(r == 10, "recv MSG_WAITALL of 10 returned %zd", r);
	CHECK(memcmp(p1, r1, (size_t)n1) == 0 && conf_mismatch(r1, 10, 22, 0) < 0,
	      "peeked and read bytes differ");
	if (send_byte(c->fd, 'E') < 0)
		return -1;
	r = recv(c->fd, p1, want, 0);
	CHECK_ERRNO(r >= 0, "recv at EOF");
	CHECK(r == 0, "recv at EOF returned %zd", r);
	return 0;
}

static int msgflags_server(struct conf_ctx *c)
{
	if (conf_send_pat(c->fd, 20, 0, 1000) < 0 || recv_byte(c->fd, 'W') < 0)
		return -1;
	for (int i = 0; i < 10; i++) {
		if (conf_send_pat(c->fd, 21, (uint64_t)i * 5000, 5000) < 0)
			return -1;
		conf_msleep(5);
	}
	if (recv_byte(c->fd, 'P') < 0 || conf_send_pat(c->fd, 22, 0, 10) < 0)
		return -1;
	return recv_byte(c->fd, 'E');
}

/* nosignal: after the peer closed, send(MSG_NOSIGNAL) fails with EPIPE or
 * ECONNRESET and no SIGPIPE; write() then fails with EPIPE and raises it. */
static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static int nosignal_client(struct conf_ctx *c)
{
	static uint8_t buf[1000];
	ssize_t r = 0;
	int i, rc = 0;

	if (send_byte(c->fd, 'X') < 0 || conf_expect_eof(c->fd) < 0)
		return -1;
	/* SIGPIPE at its default action: a wrong one kills the client. */
	signal(SIGPIPE, SIG_DFL);
	for (i = 0; i < 300; i++) {
		r = send(c->fd, buf, sizeof buf, MSG_NOSIGNAL);
		if (r < 0)
			break;
		conf_msleep(10);
	}
	CHECK(r < 0, "send to a closed peer kept succeeding");
	CHECK(errno == EPIPE || errno == ECONNRESET,
	      "send to a closed peer: %s, expected EPIPE or ECONNRESET", conf_errname(errno));
	sigpipes = 0;
	signal(SIGPIPE, on_sigpipe);
	r = write(c->fd, buf, sizeof buf);
	if (r >= 0 || errno != EPIPE)
		rc = conf_fail("write after the connection broke: %zd (%s), expected EPIPE", r,
			       r < 0 ? conf_errname(errno) : "-");
	else if (sigpipes != 1)
		rc = conf_fail("write failing with EPIPE raised SIGPIPE %d times, expected once",
			       (int)sigpipes);
	signal(SIGPIPE, SIG_DFL);
	return rc;
}

static int nosignal_server(struct conf_ctx *c)
{
	return recv_byte(c->fd, 'X');
}

/* rcvtimeo: a read times out with EAGAIN after SO_RCVTIMEO; a write to a
 * peer that does not read returns early after SO_SNDTIMEO. */
static int rcvtimeo_client(struct conf_ctx *c)
{
	struct timeval tv = { 0, 250000 };
	uint8_t b[16];
	CHECK_ERRNO(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0,
		    "SO_RCVTIMEO");
	int64_t t0 = conf_now_ms();
	ssize_t r = read(c->fd, b, sizeof b);
	int64_t dt = conf_now_ms() - t0;
	CHECK(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	      "read with SO_RCVTIMEO and no data: %zd (%s), expected EAGAIN", r,
	      r < 0 ? conf_errname(errno) : "-");
	CHECK(dt >= 200 && dt < 3000, "SO_RCVTIMEO 250 ms timed out after %lld ms", (long long)dt);
	if (send_byte(c->fd, 'G') < 0 || conf_recv_pat(c->fd, 23, 0, 5) < 0)
		return -1;

	/* SO_SNDTIMEO: the server reads nothing until we close. */
	static uint8_t big[8 << 20];
	CHECK_ERRNO(setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0,
		    "SO_SNDTIMEO");
	t0 = conf_now_ms();
	size_t total = 0;
	for (;;) {
		r = write(c->fd, big, sizeof big);
		if (r < 0)
			break;
		total += (size_t)r;
		CHECK(total < 64u << 20, "64 MB written to a peer that does not read");
		if ((size_t)r < sizeof big)
			break; /* partial count: timed out after sending some */
	}
	dt = conf_now_ms() - t0;
	CHECK(r >= 0 || errno == EAGAIN || errno == EWOULDBLOCK,
	      "write with SO_SNDTIMEO: %s, expected a partial count or EAGAIN",
	      conf_errname(errno));
	CHECK(dt >= 200 && dt < 5000, "SO_SNDTIMEO 250 ms returned after %lld ms", (long long)dt);
	return 0;
}

static int rcvtimeo_server(struct conf_ctx *c)
{
	if (recv_byte(c->fd, 'G') < 0 || conf_send_pat(c->fd, 23, 0, 5) < 0)
		return -1;
	/* Let the client fill the buffers and time out, then drain. */
	conf_msleep(1500);
	return conf_drain_eof(c->fd);
}

/* shutdown: the client half-closes, the server reads to EOF, answers late,
 * and closes; the client's read blocks until then and then sees EOF. */
static int shutdown_client(struct conf_ctx *c)
{
	if (conf_send_pat(c->fd, 30, 0, 50000) < 0)
		return -1;
	CHECK_ERRNO(shutdown(c->fd, SHUT_WR) == 0, "shutdown(SHUT_WR)");
	ssize_t r = send(c->fd, "x", 1, MSG_NOSIGNAL);
	CHECK(r < 0 && errno == EPIPE, "send after SHUT_WR: %zd (%s), expected EPIPE", r,
	      r < 0 ? conf_errname(errno) : "-");
	int64_t t0 = conf_now_ms();
	uint8_t b[1];
	r = read(c->fd, b, conf_one);
	CHECK_ERRNO(r >= 0, "read of the reply");
	CHECK(r == 1, "EOF before the reply (after %lld ms)", (long long)(conf_now_ms() - t0));
	CHECK(conf_now_ms() - t0 >= 100, "reply arrived before the server sent it");
	CHECK(b[0] == conf_pat(31, 0), "corrupted first reply byte");
	if (conf_recv_pat(c->fd, 31, 1, 70000 - 1) < 0 || conf_expect_eof(c->fd) < 0)
		return -1;
	return conf_expect_eof(c->fd); /* and again */
}

static int shutdown_server(struct conf_ctx *c)
{
	if (conf_recv_pat(c->fd, 30, 0, 50000) < 0 || conf_expect_eof(c->fd) < 0 ||
	    conf_expect_eof(c->fd) < 0)
		return -1;
	conf_msleep(300);
	return conf_send_pat(c->fd, 31, 0, 70000);
}

/* dup: every duplicate shares the stream and the session. */
static int same_sessid(struct conf_ctx *c, int fd, const char *what)
{
	uint8_t id[64];
	size_t len;
	int err;
	conf_get_sessid(fd, id, &len, &err);
	CHECK(err == c->sessid_errno, "TCP_CRYPT_SESSID on %s: %s, on the original: %s", what,
	      err ? conf_errname(err) : "ok", c->sessid_errno ? conf_errname(c->sessid_errno) : "ok");
	CHECK(len == c->sessid_len && memcmp(id, c->sessid, len) == 0,
	      "TCP_CRYPT_SESSID on %s differs from the original", what);
	return 0;
}

static int dup_client(struct conf_ctx *c)
{
	int fd2 = dup(c->fd);
	int fd3 = fcntl(c->fd, F_DUPFD_CLOEXEC, 50);
	int fd4 = dup2(c->fd, 77);
	int fd5 = dup3(c->fd, 78, O_CLOEXEC);
	CHECK_ERRNO(fd2 >= 0 && fd3 >= 50 && fd4 == 77 && fd5 == 78, "dup");
	int fds[5] = { c->fd, fd2, fd3, fd4, fd5 };
	for (int i = 1; i < 5; i++)
		if (same_sessid(c, fds[i], "a duplicate") < 0)
			return -1;
	for (int i = 0; i < 5; i++)
		if (conf_send_pat(fds[i], 40, (uint64_t)i * 3000, 3000) < 0)
			return -1;
	close(c->fd);
	c->fd = -1;
	if (conf_recv_pat(fd2, 41, 0, 2500) < 0 || conf_recv_pat(fd4, 41, 2500, 2500) < 0)
		return -1;
	close(fd2);
	close(fd3);
	close(fd5);
	/* The last duplicate still carries the stream. */
	if (send_byte(fd4, 'Z') < 0 || conf_expect_eof(fd4) < 0)
		return -1;
	close(fd4);
	return 0;
}

static int dup_server(struct conf_ctx *c)
{
	if (conf_recv_pat(c->fd, 40, 0, 15000) < 0 || conf_send_pat(c->fd, 41, 0, 5000) < 0)
		return -1;
	return recv_byte(c->fd, 'Z');
}

/* fork: a child writes and reads the first halves, the parent the rest. */
static int fork_client(struct conf_ctx *c)
{
	fflush(stdout);
	pid_t pid = fork();
	CHECK_ERRNO(pid >= 0, "fork");
	if (pid == 0) {
		int rc = conf_send_pat(c->fd, 50, 0, 20000);
		if (rc == 0)
			rc = conf_recv_pat(c->fd, 51, 0, 15000);
		if (rc < 0)
			fprintf(stderr, "fork child: %s\n", conf_errmsg);
		_exit(rc < 0 ? 1 : 0);
	}
	int st;
	CHECK_ERRNO(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed (status %#x)", st);
	if (conf_send_pat(c->fd, 50, 20000, 20000) < 0 ||
	    conf_recv_pat(c->fd, 51, 15000, 15000) < 0)
		return -1;
	return conf_expect_eof(c->fd);
}

static int fork_server(struct conf_ctx *c)
{
	if (conf_recv_pat(c->fd, 50, 0, 20000) < 0 || conf_send_pat(c->fd, 51, 0, 15000) < 0 ||
	    conf_recv_pat(c->fd, 50, 20000, 20000) < 0)
		return -1;
	return conf_send_pat(c->fd, 51, 15000, 15000);
}

/* noenc: TCP_CRYPT_ENABLE=0 before connect gives a plain connection
 * (ENOTCONN for the session ID at both ends); without the shim the option
 * does not exist (ENOPROTOOPT). */
static int noenc_client(struct conf_ctx *c)
{
	int err;
	c->fd = conf_connect_raw(c, 0, CONF_NOENC, &err);
	if (c->fd < 0)
		return -1;
	if (c->expect == EXPECT_NONE)
		CHECK(c->enable_errno == ENOPROTOOPT,
		      "setsockopt TCP_CRYPT_ENABLE without the shim: %s, expected ENOPROTOOPT",
		      c->enable_errno ? conf_errname(c->enable_errno) : "success");
	else if (c->expect != EXPECT_ANY)
		CHECK(c->enable_errno == 0, "setsockopt TCP_CRYPT_ENABLE 0: %s",
		      conf_errname(c->enable_errno));
	if (conf_handshake(c) < 0 || conf_send_pat(c->fd, 52, 0, 1000) < 0 ||
	    conf_recv_pat(c->fd, 53, 0, 1000) < 0)
		return -1;
	return conf_expect_eof(c->fd);
}

static int noenc_server(struct conf_ctx *c)
{
	if (conf_recv_pat(c->fd, 52, 0, 1000) < 0)
		return -1;
	return conf_send_pat(c->fd, 53, 0, 1000);
}

const struct conf_case conf_cases_flags[] = {
	{ "msgflags", msgflags_client, msgflags_server, 0 },
	{ "nosignal", nosignal_client, nosignal_server, 0 },
	{ "rcvtimeo", rcvtimeo_client, rcvtimeo_server, 0 },
	{ "shutdown", shutdown_client, shutdown_server, 0 },
	{ "dup", dup_client, dup_server, 0 },
	{ "fork", fork_client, fork_server, 0 },
	{ "noenc", noenc_client, noenc_server, 1 },
	{ NULL, NULL, NULL, 0 },
};
