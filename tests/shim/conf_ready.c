/*
 * conf_ready.c - non-blocking and readiness cases: non-blocking connect
 * through poll + SO_ERROR (also to a closed port), partial writes and EAGAIN,
 * poll/select/epoll level-triggered readiness that is exactly "a read returns
 * data", edge-triggered epoll without hangs, and FIONREAD.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conformance.h"

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

static int is_eagain(ssize_t r)
{
	return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Completes a non-blocking connect: EINPROGRESS, POLLOUT, SO_ERROR. */
static int nb_finish(int fd, int connect_err, int want_err)
{
	int soerr = -1;
	socklen_t sl = sizeof soerr;
	if (connect_err == want_err && want_err != 0)
		return 0; /* refused at once: acceptable */
	CHECK(connect_err == EINPROGRESS, "non-blocking connect: %s, expected EINPROGRESS",
	      connect_err ? conf_errname(connect_err) : "success");
	CHECK(conf_wait_fd(fd, POLLOUT, 10000) == 1, "non-blocking connect: no POLLOUT in 10 s");
	CHECK_ERRNO(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0, "SO_ERROR");
	CHECK(soerr == want_err, "SO_ERROR after non-blocking connect: %s, expected %s",
	      soerr ? conf_errname(soerr) : "0", want_err ? conf_errname(want_err) : "0");
	return 0;
}

#define NB_UP (2u << 20)
#define NB_DOWN 300000

static int nonblock_client(struct conf_ctx *c)
{
	static uint8_t buf[65536];
	int err;

	/* A closed port (PORT+1): ECONNREFUSED through SO_ERROR. */
	int rfd = conf_connect_raw(c, 1, CONF_NONBLOCK, &err);
	if (rfd < 0 && err != ECONNREFUSED)
		return -1;
	if (rfd >= 0) {
		int rc = nb_finish(rfd, err, ECONNREFUSED);
		close(rfd);
		if (rc < 0)
			return -1;
	}

	c->fd = conf_connect_raw(c, 0, CONF_NONBLOCK, &err);
	if (c->fd < 0 || nb_finish(c->fd, err, 0) < 0)
		return -1;
	ssize_t r = read(c->fd, buf, sizeof buf);
	CHECK(is_eagain(r), "read before any data: %zd (%s), expected EAGAIN", r,
	      r < 0 ? conf_errname(errno) : "-");
	if (conf_handshake(c) < 0)
		return -1;

	/* Write 2 MiB to a server that sleeps first, through a fixed 64 KiB
	 * send buffer: EAGAIN must happen, and POLLOUT must come back once the
	 * server reads. */
	int sb = 65536;
	CHECK_ERRNO(setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb) == 0, "SO_SNDBUF");
	size_t off = 0;
	int eagains = 0, partial = 0;
	while (off < NB_UP) {
		size_t k = NB_UP - off < sizeof buf ? NB_UP - off : sizeof buf;
		conf_fill(buf, k, 60, off);
		r = write(c->fd, buf, k);
		if (is_eagain(r)) {
			eagains++;
			CHECK(conf_wait_fd(c->fd, POLLOUT, 10000) == 1,
			      "no POLLOUT within 10 s after EAGAIN at %zu", off);
			continue;
		}
		CHECK_ERRNO(r > 0, "non-blocking write at %zu", off);
		if ((size_t)r < k)
			partial++;
		off += (size_t)r;
	}
	CHECK(eagains > 0, "2 MiB to a peer that is not reading never gave EAGAIN");
	printf("nonblock: %d EAGAIN, %d partial writes\n", eagains, partial);

	/* Read the reply: every POLLIN is followed by data. */
	for (off = 0; off < NB_DOWN;) {
		CHECK(conf_wait_fd(c->fd, POLLIN, 10000) == 1,
		      "no POLLIN within 10 s with %zu bytes outstanding", NB_DOWN - off);
		r = read(c->fd, buf, 4096);
		CHECK(!is_eagain(r), "poll reported POLLIN but read gave EAGAIN at %zu", off);
		CHECK_ERRNO(r > 0, "read at %zu (%zd)", off, r);
		CHECK(conf_mismatch(buf, (size_t)r, 61, off) < 0, "corrupted data near %zu", off);
		off += (size_t)r;
	}
	r = read(c->fd, buf, sizeof buf);
	CHECK(is_eagain(r), "read after all data: %zd (%s), expected EAGAIN", r,
	      r < 0 ? conf_errname(errno) : "-");
	return send_byte(c->fd, 'N') < 0 ? -1 : conf_expect_eof(c->fd);
}

static int nonblock_server(struct conf_ctx *c)
{
	conf_msleep(300);
	if (conf_recv_pat(c->fd, 60, 0, NB_UP) < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		if (conf_send_pat(c->fd, 61, (uint64_t)i * (NB_DOWN / 3), NB_DOWN / 3) < 0)
			return -1;
		conf_msleep(50);
	}
	return recv_byte(c->fd, 'N');
}

/* ready: three bursts read one byte per wakeup with poll, select, epoll. */
enum { W_POLL, W_SELECT, W_EPOLL };
static const char *wname[] = { "poll", "select", "epoll" };

static int wait_readable(int fd, int how, int ep, int timeout_ms)
{
	if (how == W_POLL)
		return conf_wait_fd(fd, POLLIN, timeout_ms);
	if (how == W_SELECT) {
		fd_set rs;
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		FD_ZERO(&rs);
		FD_SET(fd, &rs);
		int r = select(fd + 1, &rs, NULL, NULL, &tv);
		return r < 0 ? -1 : (r > 0 && FD_ISSET(fd, &rs));
	}
	struct epoll_event ev;
	int r = epoll_wait(ep, &ev, 1, timeout_ms);
	return r < 0 ? -1 : (r == 1 && (ev.events & EPOLLIN));
}

#define BURST 3000

static int ready_client(struct conf_ctx *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = c->fd };
	int ep = epoll_create1(EPOLL_CLOEXEC), rc = -1;
	uint64_t off = 0;
	CHECK_ERRNO(ep >= 0, "epoll_create1");
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conf_fail_errno("epoll_ctl");
		goto out;
	}
	if (conf_wait_fd(c->fd, POLLOUT, 0) != 1) {
		conf_fail("an idle connected socket is not writable");
		goto out;
	}
	for (int how = W_POLL; how <= W_EPOLL; how++) {
		for (int i = 0; i < BURST; i++, off++) {
			uint8_t b;
			if (wait_readable(c->fd, how, ep, 3000) != 1) {
				conf_fail("%s: not readable with %d bytes of the burst unread", wname[how],
					  BURST - i);
				goto out;
			}
			ssize_t r = recv(c->fd, &b, 1, MSG_DONTWAIT);
			if (r != 1) {
				conf_fail("%s said readable, recv gave %zd (%s) with %d bytes unread",
					  wname[how], r, r < 0 ? conf_errname(errno) : "-", BURST - i);
				goto out;
			}
			if (b != conf_pat(70, off)) {
				conf_fail("corrupted byte at %llu", (unsigned long long)off);
				goto out;
			}
		}
		/* Everything read: not readable, and a read says EAGAIN. */
		if (wait_readable(c->fd, how, ep, 150) != 0) {
			conf_fail("%s: readable after the whole burst was read", wname[how]);
			goto out;
		}
		uint8_t b;
		ssize_t r = recv(c->fd, &b, 1, MSG_DONTWAIT);
		if (!is_eagain(r)) {
			conf_fail("recv after the burst: %zd, expected EAGAIN", r);
			goto out;
		}
		if (send_byte(c->fd, 'A') < 0)
			goto out;
	}
	/* The server closes: readable, and read returns 0. */
	if (wait_readable(c->fd, W_EPOLL, ep, 5000) != 1) {
		conf_fail("not readable at EOF");
		goto out;
	}
	uint8_t b;
	ssize_t r = recv(c->fd, &b, 1, MSG_DONTWAIT);
	if (r != 0) {
		conf_fail("recv at EOF: %zd (%s)", r, r < 0 ? conf_errname(errno) : "-");
		goto out;
	}
	rc = 0;
out:
	close(ep);
	return rc;
}

static int ready_server(struct conf_ctx *c)
{
	for (int k = 0; k < 3; k++)
		if (conf_send_pat(c->fd, 70, (uint64_t)k * BURST, BURST) < 0 ||
		    recv_byte(c->fd, 'A') < 0)
			return -1;
	conf_msleep(200);
	return 0;
}

/* epollet: edge-triggered, reading 333 bytes until EAGAIN; never a hang. */
#define ET_CHUNK 5000
#define ET_N 20

static int epollet_client(struct conf_ctx *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data.fd = c->fd };
	static uint8_t buf[333];
	int ep = epoll_create1(EPOLL_CLOEXEC), rc = -1, eof = 0;
	size_t off = 0;
	CHECK_ERRNO(ep >= 0, "epoll_create1");
	if (conf_set_nonblock(c->fd, 1) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conf_fail_errno("epoll_ctl");
		goto out;
	}
	while (!eof) {
		int n = epoll_wait(ep, &ev, 1, 3000);
		if (n != 1) {
			conf_fail("edge-triggered epoll_wait: %s after %zu of %d bytes",
				  n == 0 ? "hang (3 s)" : "error", off, ET_CHUNK * ET_N);
			goto out;
		}
		for (;;) {
			ssize_t r = read(c->fd, buf, sizeof buf);
			if (is_eagain(r))
				break;
			if (r < 0) {
				conf_fail_errno("read");
				goto out;
			}
			if (r == 0) {
				eof = 1;
				break;
			}
			if (off + (size_t)r > ET_CHUNK * ET_N ||
			    conf_mismatch(buf, (size_t)r, 80, off) >= 0) {
				conf_fail("corrupted data near %zu", off);
				goto out;
			}
			off += (size_t)r;
		}
	}
	if (off != ET_CHUNK * ET_N) {
		conf_fail("EOF after %zu of %d bytes", off, ET_CHUNK * ET_N);
		goto out;
	}
	rc = 0;
out:
	close(ep);
	return rc;
}

static int epollet_server(struct conf_ctx *c)
{
	for (int i = 0; i < ET_N; i++) {
		if (conf_send_pat(c->fd, 80, (uint64_t)i * ET_CHUNK, ET_CHUNK) < 0)
			return -1;
		conf_msleep(10);
	}
	return 0;
}

/* fionread: FIONREAD counts the plaintext bytes available, exactly. */
#define FR_N 12345

static int fionread_client(struct conf_ctx *c)
{
	int n = -1;
	static uint8_t buf[FR_N];
	int64_t t0 = conf_now_ms();
	CHECK(conf_wait_fd(c->fd, POLLIN, 10000) == 1, "not readable");
	for (;;) {
		CHECK_ERRNO(ioctl(c->fd, FIONREAD, &n) == 0, "ioctl(FIONREAD)");
		CHECK(n >= 0 && n <= FR_N, "FIONREAD %d, but only %d bytes were sent", n, FR_N);
		if (n == FR_N)
			break;
		CHECK(conf_now_ms() - t0 < 5000, "FIONREAD stays at %d, expected %d", n, FR_N);
		conf_msleep(10);
	}
	if (conf_read_exact(c->fd, buf, 345) < 0)
		return -1;
	CHECK_ERRNO(ioctl(c->fd, FIONREAD, &n) == 0, "ioctl(FIONREAD)");
	CHECK(n == FR_N - 345, "FIONREAD after reading 345: %d, expected %d", n, FR_N - 345);
	if (conf_read_exact(c->fd, buf + 345, FR_N - 345) < 0)
		return -1;
	CHECK(conf_mismatch(buf, FR_N, 90, 0) < 0, "corrupted data");
	CHECK_ERRNO(ioctl(c->fd, FIONREAD, &n) == 0, "ioctl(FIONREAD)");
	CHECK(n == 0, "FIONREAD after reading everything: %d", n);
	if (send_byte(c->fd, 'F') < 0 || conf_expect_eof(c->fd) < 0)
		return -1;
	CHECK_ERRNO(ioctl(c->fd, FIONREAD, &n) == 0, "ioctl(FIONREAD) at EOF");
	CHECK(n == 0, "FIONREAD at EOF: %d", n);
	return 0;
}

static int fionread_server(struct conf_ctx *c)
{
	static uint8_t buf[FR_N];
	conf_fill(buf, FR_N, 90, 0);
	ssize_t r = write(c->fd, buf, FR_N);
	CHECK(r == FR_N, "write returned %zd", r);
	return recv_byte(c->fd, 'F');
}

const struct conf_case conf_cases_ready[] = {
	{ "nonblock", nonblock_client, nonblock_server, 1 },
	{ "ready", ready_client, ready_server, 0 },
	{ "epollet", epollet_client, epollet_server, 0 },
	{ "fionread", fionread_client, fionread_server, 0 },
	{ NULL, NULL, NULL, 0 },
};
