/*
 * conf_util.c - helpers of the conformance program: the data pattern,
 * blocking I/O loops, failure messages, connecting and the session ID.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tcpcrypt/tcpcrypt.h>

#include "conformance.h"

__thread char conf_errmsg[512];

const char *conf_errname(int err)
{
	const char *n = strerrorname_np(err);
	return n ? n : "E?";
}

int conf_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(conf_errmsg, sizeof conf_errmsg, fmt, ap);
	va_end(ap);
	return -1;
}

int conf_fail_errno(const char *fmt, ...)
{
	int err = errno;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(conf_errmsg, sizeof conf_errmsg, "%s: %s (%s)", msg, strerror(err),
		 conf_errname(err));
	return -1;
}

uint8_t conf_pat(uint32_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull;
	x ^= x >> 31;
	x *= 0x94D049BB133111EBull;
	return (uint8_t)(x >> 56);
}

void conf_fill(uint8_t *buf, size_t n, uint32_t seed, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = conf_pat(seed, off + i);
}

ssize_t conf_mismatch(const uint8_t *buf, size_t n, uint32_t seed, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != conf_pat(seed, off + i))
			return (ssize_t)i;
	return -1;
}

size_t conf_opaque(size_t x)
{
	return x;
}

int64_t conf_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void conf_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int conf_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

int conf_wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	return r > 0;
}

int conf_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (conf_wait_fd(fd, POLLOUT, 10000) != 1)
				return conf_fail("write: not writable after 10 s");
			continue;
		}
		CHECK_ERRNO(r >= 0, "write");
		CHECK(r > 0, "write returned 0");
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int conf_read_exact(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t want = n;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (conf_wait_fd(fd, POLLIN, 10000) != 1)
				return conf_fail("read: not readable after 10 s (%zu of %zu bytes)",
						 want - n, want);
			continue;
		}
		CHECK_ERRNO(r >= 0, "read (after %zu of %zu bytes)", want - n, want);
		CHECK(r > 0, "unexpected EOF after %zu of %zu bytes", want - n, want);
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int conf_send_pat(int fd, uint32_t seed, uint64_t off, size_t n)
{
	static __thread uint8_t buf[65536];
	while (n > 0) {
		size_t k = n < sizeof buf ? n : sizeof buf;
		conf_fill(buf, k, seed, off);
		if (conf_write_all(fd, buf, k) < 0)
			return -1;
		off += k;
		n -= k;
	}
	return 0;
}

int conf_recv_pat(int fd, uint32_t seed, uint64_t off, size_t n)
{
	static __thread uint8_t buf[65536];
	uint64_t start = off;
	while (n > 0) {
		size_t k = n < sizeof buf ? n : sizeof buf;
		if (conf_read_exact(fd, buf, k) < 0)
			return -1;
		ssize_t bad = conf_mismatch(buf, k, seed, off);
		CHECK(bad < 0, "corrupted data at stream offset %llu",
		      (unsigned long long)(off + (uint64_t)bad - start));
		off += k;
		n -= k;
	}
	return 0;
}

int conf_expect_eof(int fd)
{
	char c;
	ssize_t r;
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (conf_wait_fd(fd, POLLIN, 10000) != 1)
				return conf_fail("no EOF after 10 s");
			continue;
		}
		break;
	}
	CHECK_ERRNO(r >= 0, "read at expected EOF");
	CHECK(r == 0, "data where EOF was expected");
	return 0;
}

int conf_drain_eof(int fd)
{
	static __thread uint8_t buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (conf_wait_fd(fd, POLLIN, 10000) != 1)
				return conf_fail("no EOF after 10 s");
			continue;
		}
		if (r <= 0)
			return r == 0 ? 0 : conf_fail_errno("read while draining");
	}
}

int conf_connect_raw(struct conf_ctx *c, int port_delta, int flags, int *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char port[16];
	snprintf(port, sizeof port, "%d", atoi(c->port) + port_delta);
	int r = getaddrinfo(c->host, port, &hints, &ai);
	if (r != 0) {
		*err = EINVAL;
		return conf_fail("getaddrinfo %s: %s", c->host, gai_strerror(r));
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno;
		freeaddrinfo(ai);
		return conf_fail_errno("socket");
	}
	int nonblock = flags & CONF_NONBLOCK;
	if (flags & CONF_NOENC) {
		int zero = 0;
		c->enable_errno = 0;
		if (setsockopt(fd, IPPROTO_TCP, TCP_CRYPT_ENABLE, &zero, sizeof zero) < 0)
			c->enable_errno = errno;
	}
	if (nonblock && conf_set_nonblock(fd, 1) < 0) {
		*err = errno;
		close(fd);
		freeaddrinfo(ai);
		return conf_fail_errno("O_NONBLOCK");
	}
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	*err = r < 0 ? errno : 0;
	freeaddrinfo(ai);
	if (r < 0 && !(nonblock && errno == EINPROGRESS)) {
		int e = errno;
		close(fd);
		errno = e;
		return conf_fail_errno("connect %s port %s", c->host, port);
	}
	return fd;
}

int conf_get_sessid(int fd, uint8_t *buf, size_t *len, int *err)
{
	socklen_t l = 64;
	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, buf, &l) < 0) {
		*err = errno;
		*len = 0;
		return -1;
	}
	*err = 0;
	*len = l;
	return 0;
}

static const char *expect_name(enum conf_expect e)
{
	switch (e) {
	case EXPECT_NONE: return "none (ENOPROTOOPT)";
	case EXPECT_PLAIN: return "plain (ENOTCONN)";
	case EXPECT_CRYPT: return "crypt (33-byte session ID)";
	default: return "any";
	}
}

int conf_check_sessid(struct conf_ctx *c, enum conf_expect want)
{
	switch (want) {
	case EXPECT_ANY:
		return 0;
	case EXPECT_NONE:
	case EXPECT_PLAIN:
		CHECK(c->sessid_errno == (want == EXPECT_NONE ? ENOPROTOOPT : ENOTCONN),
		      "TCP_CRYPT_SESSID: expected %s, got %s", expect_name(want),
		      c->sessid_errno ? conf_errname(c->sessid_errno) : "a session ID");
		return 0;
	case EXPECT_CRYPT:
		CHECK(c->sessid_errno == 0, "TCP_CRYPT_SESSID: expected %s, got %s",
		      expect_name(want), conf_errname(c->sessid_errno));
		CHECK(c->sessid_len == 33 && c->sessid[0] == TCPCRYPT_TEP_ECDHE_CURVE25519,
		      "TCP_CRYPT_SESSID: %zu bytes starting %02x, expected 33 starting 23",
		      c->sessid_len, c->sessid_len ? c->sessid[0] : 0);
		return 0;
	}
	return 0;
}
