/*
 * conf_nbrw.c - the "nbrw" case: both ends non-blocking (O_NONBLOCK set
 * with fcntl after the header), odd write sizes through write, writev and
 * send, odd read sizes through read, readv and recv, one-byte reads of a
 * large write; every EAGAIN is followed by poll, and every poll that says
 * ready is followed by a call that makes progress.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conformance.h"

#define NBRW_UP 200003
#define NBRW_DOWN 300007

static const size_t wsz[] = { 1, 2, 3, 7, 100, 1500, 4096, 65537, 13, 9999 };
static const size_t rsz[] = { 1, 5, 13, 333, 8191, 70000, 2, 4097 };

static int eagain(ssize_t r)
{
	return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Sends n pattern bytes with odd sizes, rotating write/writev/send. */
static int nb_send(int fd, uint32_t seed, size_t n, int *eagains)
{
	static uint8_t buf[65537];
	size_t off = 0;
	unsigned turn = 0, ready_no_progress = 0;
	while (off < n) {
		size_t k = wsz[turn % 10];
		if (k > n - off)
			k = n - off;
		conf_fill(buf, k, seed, off);
		ssize_t r;
		switch (turn % 3) {
		case 0:
			r = write(fd, buf, k);
			break;
		case 1: {
			struct iovec iov[3] = { { buf, k / 2 }, { buf + k / 2, 0 },
						{ buf + k / 2, k - k / 2 } };
			r = writev(fd, iov, 3);
			break;
		}
		default:
			r = send(fd, buf, k, MSG_NOSIGNAL);
		}
		if (eagain(r)) {
			(*eagains)++;
			CHECK(++ready_no_progress < 1000, "POLLOUT but EAGAIN 1000 times in a row");
			CHECK(conf_wait_fd(fd, POLLOUT, 10000) == 1, "no POLLOUT in 10 s at %zu", off);
			continue; /* retry the same bytes */
		}
		CHECK_ERRNO(r > 0, "non-blocking send at %zu", off);
		CHECK((size_t)r <= k, "sent more than asked");
		ready_no_progress = 0;
		off += (size_t)r;
		turn++;
	}
	return 0;
}

/* Receives n pattern bytes with odd sizes, rotating read/readv/recv.
 * one: one-byte reads only. */
static int nb_recv(int fd, uint32_t seed, size_t n, int one)
{
	static uint8_t buf[70000];
	size_t off = 0;
	unsigned turn = 0;
	int polled = 0;
	while (off < n) {
		size_t k = one ? 1 : rsz[turn % 8];
		ssize_t r;
		switch (one ? 0 : turn % 3) {
		case 0:
			r = read(fd, buf, k);
			break;
		case 1: {
			struct iovec iov[2] = { { buf, 1 }, { buf + 1, k - 1 } };
			r = readv(fd, iov, 2);
			break;
		}
		default:
			r = recv(fd, buf, k, 0);
		}
		if (eagain(r)) {
			CHECK(!polled, "poll said readable, then the read gave EAGAIN at %zu", off);
			CHECK(conf_wait_fd(fd, POLLIN, 10000) == 1, "no POLLIN in 10 s at %zu of %zu",
			      off, n);
			polled = 1;
			continue;
		}
		CHECK_ERRNO(r >= 0, "non-blocking read at %zu", off);
		CHECK(r > 0, "EOF after %zu of %zu bytes", off, n);
		CHECK(off + (size_t)r <= n, "more data than was sent");
		CHECK(conf_mismatch(buf, (size_t)r, seed, off) < 0, "corrupted data near %zu", off);
		polled = 0;
		off += (size_t)r;
		turn++;
	}
	return 0;
}

static int nbrw_client(struct conf_ctx *c)
{
	int e = 0;
	CHECK_ERRNO(conf_set_nonblock(c->fd, 1) == 0, "O_NONBLOCK");
	if (nb_send(c->fd, 100, NBRW_UP, &e) < 0 || nb_recv(c->fd, 101, NBRW_DOWN, 1) < 0)
		return -1;
	return conf_expect_eof(c->fd);
}

static int nbrw_server(struct conf_ctx *c)
{
	static uint8_t big[NBRW_DOWN];
	int e = 0;
	CHECK_ERRNO(conf_set_nonblock(c->fd, 1) == 0, "O_NONBLOCK");
	if (nb_recv(c->fd, 100, NBRW_UP, 0) < 0)
		return -1;
	/* One large non-blocking write, then the rest as it drains. */
	conf_fill(big, NBRW_DOWN, 101, 0);
	size_t off = 0;
	while (off < NBRW_DOWN) {
		ssize_t r = write(c->fd, big + off, NBRW_DOWN - off);
		if (eagain(r)) {
			e++;
			CHECK(conf_wait_fd(c->fd, POLLOUT, 10000) == 1, "no POLLOUT in 10 s");
			continue;
		}
		CHECK_ERRNO(r > 0, "non-blocking write");
		off += (size_t)r;
	}
	return 0;
}

const struct conf_case conf_cases_nbrw[] = {
	{ "nbrw", nbrw_client, nbrw_server, 0 },
	{ NULL, NULL, NULL, 0 },
};
