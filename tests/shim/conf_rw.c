/*
 * conf_rw.c - data-path cases: read/write with odd sizes and one-byte reads
 * of a large write, readv/writev with many iovecs, sendto/recvfrom,
 * sendmsg/recvmsg, sendmmsg/recvmmsg, sendfile, a large transfer both ways
 * at once, and the echo case used by the wire and fallback tests.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conformance.h"

/* Sizes come from writable tables so that the compiler cannot prove them
 * constant: _FORTIFY_SOURCE then routes read/recv/recvfrom through their
 * __*_chk variants, which the shim must interpose. */
size_t conf_wsizes[] = { 1, 2, 3, 7, 100, 1500, 4096, 65537 };
size_t conf_rsizes[] = { 1, 5, 13, 333, 8191, 70000 };
size_t conf_one = 1;
extern size_t conf_wsizes[], conf_rsizes[], conf_one;

#define RW_UP 200003
#define RW_DOWN 300007

static int rw_client(struct conf_ctx *c)
{
	static uint8_t buf[65537];
	size_t off = 0, i = 0;
	while (off < RW_UP) {
		size_t k = conf_wsizes[i++ % 8];
		if (k > RW_UP - off)
			k = RW_UP - off;
		conf_fill(buf, k, 1, off);
		ssize_t r = write(c->fd, buf, k);
		CHECK_ERRNO(r >= 0, "write");
		CHECK((size_t)r == k, "blocking write returned %zd of %zu", r, k);
		off += k;
	}
	/* One-byte reads of the server's single large write. */
	for (off = 0; off < RW_DOWN; off++) {
		uint8_t b[1];
		ssize_t r = read(c->fd, b, conf_one);
		CHECK_ERRNO(r >= 0, "one-byte read at %zu", off);
		CHECK(r == 1, "one-byte read at %zu returned %zd", off, r);
		CHECK(b[0] == conf_pat(2, off), "corrupted byte at %zu", off);
	}
	return conf_expect_eof(c->fd);
}

static int rw_server(struct conf_ctx *c)
{
	static uint8_t buf[70000];
	size_t off = 0, i = 0;
	while (off < RW_UP) {
		size_t k = conf_rsizes[i++ % 6];
		if (k > RW_UP - off)
			k = RW_UP - off;
		ssize_t r = read(c->fd, buf, k);
		CHECK_ERRNO(r >= 0, "read");
		CHECK(r > 0, "EOF after %zu bytes", off);
		CHECK(conf_mismatch(buf, (size_t)r, 1, off) < 0, "corrupted data near %zu", off);
		off += (size_t)r;
	}
	uint8_t *big = malloc(RW_DOWN);
	CHECK(big, "malloc");
	conf_fill(big, RW_DOWN, 2, 0);
	ssize_t r = write(c->fd, big, RW_DOWN);
	int e = errno;
	free(big);
	errno = e;
	CHECK_ERRNO(r >= 0, "large write");
	CHECK(r == RW_DOWN, "blocking write of %d returned %zd", RW_DOWN, r);
	return 0;
}

/* writev/readv: 64 iovecs (some empty) per call, 20 calls each way. */
static size_t iov_layout(struct iovec *iov, uint8_t *buf, int n, unsigned mul, unsigned mod)
{
	size_t total = 0;
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = buf + total;
		iov[i].iov_len = (i * mul) % mod;
		total += iov[i].iov_len;
	}
	return total;
}

static int iov_send(int fd, uint32_t seed)
{
	static uint8_t buf[64 * 300];
	struct iovec iov[64];
	size_t per = iov_layout(iov, buf, 64, 37, 300);
	for (int k = 0; k < 20; k++) {
		conf_fill(buf, per, seed, (uint64_t)k * per);
		ssize_t r = writev(fd, iov, 64);
		CHECK_ERRNO(r >= 0, "writev");
		CHECK((size_t)r == per, "blocking writev returned %zd of %zu", r, per);
	}
	return 0;
}

static int iov_recv(int fd, uint32_t seed)
{
	static uint8_t buf[50 * 211];
	struct iovec iov[50];
	size_t per = iov_layout(iov, buf, 50, 53, 211);
	size_t total = 0, off = 0;
	for (int i = 0; i < 64; i++)
		total += 20 * (size_t)((i * 37) % 300);
	while (off < total) {
		ssize_t r = readv(fd, iov, 50);
		CHECK_ERRNO(r >= 0, "readv");
		CHECK(r > 0, "EOF after %zu of %zu bytes", off, total);
		CHECK((size_t)r <= per, "readv returned more than the iovecs hold");
		CHECK(conf_mismatch(buf, (size_t)r, seed, off) < 0, "corrupted data near %zu", off);
		off += (size_t)r;
		CHECK(off <= total, "more data than was sent");
	}
	return 0;
}

static int iov_client(struct conf_ctx *c)
{
	if (iov_send(c->fd, 3) < 0 || iov_recv(c->fd, 4) < 0)
		return -1;
	return conf_expect_eof(c->fd);
}

static int iov_server(struct conf_ctx *c)
{
	if (iov_recv(c->fd, 3) < 0 || iov_send(c->fd, 4) < 0)
		return -1;
	return 0;
}

/* sendto/sendmsg one way, recvfrom/recvmsg the other. */
#define FT_N 40000

static int ft_send(int fd, uint32_t seed)
{
	static uint8_t buf[FT_N];
	conf_fill(buf, FT_N, seed, 0);
	size_t off = 0;
	int turn = 0;
	while (off < FT_N) {
		size_t k = conf_wsizes[turn % 8] % 3001 + 1;
		if (k > FT_N - off)
			k = FT_N - off;
		ssize_t r;
		if (turn++ % 2 == 0) {
			r = sendto(fd, buf + off, k, MSG_NOSIGNAL, NULL, 0);
			CHECK_ERRNO(r >= 0, "sendto");
		} else {
			size_t h = k / 3;
			struct iovec iov[3] = { { buf + off, h }, { buf + off + h, 0 },
						{ buf + off + h, k - h } };
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };
			r = sendmsg(fd, &m, MSG_NOSIGNAL);
			CHECK_ERRNO(r >= 0, "sendmsg");
		}
		CHECK((size_t)r == k, "blocking send returned %zd of %zu", r, k);
		off += k;
	}
	return 0;
}

static int ft_recv(int fd, uint32_t seed)
{
	static uint8_t buf[4096];
	struct sockaddr_storage ss;
	size_t off = 0;
	int turn = 0;
	while (off < FT_N) {
		size_t k = conf_rsizes[turn % 6] % 4000 + 1;
		ssize_t r;
		if (turn++ % 2 == 0) {
			socklen_t sl = sizeof ss;
			r = recvfrom(fd, buf, conf_opaque(k), 0, (struct sockaddr *)&ss, &sl);
			CHECK_ERRNO(r >= 0, "recvfrom");
		} else {
			struct iovec iov[4] = { { buf, 1 }, { buf + 1, 0 }, { buf + 1, 17 },
						{ buf + 18, k > 18 ? k - 18 : 1 } };
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = 4 };
			r = recvmsg(fd, &m, 0);
			CHECK_ERRNO(r >= 0, "recvmsg");
			CHECK(!(m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)), "recvmsg msg_flags %#x",
			      m.msg_flags);
		}
		CHECK(r > 0, "EOF after %zu bytes", off);
		CHECK(off + (size_t)r <= FT_N, "more data than was sent");
		CHECK(conf_mismatch(buf, (size_t)r, seed, off) < 0, "corrupted data near %zu", off);
		off += (size_t)r;
	}
	return 0;
}

static int ft_client(struct conf_ctx *c)
{
	if (ft_send(c->fd, 5) < 0 || ft_recv(c->fd, 6) < 0)
		return -1;
	return conf_expect_eof(c->fd);
}

static int ft_server(struct conf_ctx *c)
{
	return ft_recv(c->fd, 5) < 0 ? -1 : ft_send(c->fd, 6);
}

/* sendmmsg: 10 calls of 5 messages with 2 iovecs; recvmmsg with
 * MSG_WAITFORONE, 4 messages of 777 bytes. */
static int mm_send(int fd, uint32_t seed, size_t *total)
{
	static uint8_t buf[5 * 2 * 1000];
	uint64_t off = 0;
	for (int k = 0; k < 10; k++) {
		struct mmsghdr mm[5];
		struct iovec iov[10];
		size_t used = 0;
		memset(mm, 0, sizeof mm);
		for (int m = 0; m < 5; m++) {
			for (int j = 0; j < 2; j++) {
				size_t len = (size_t)((k * 131 + m * 71 + j * 333) % 997 + 1);
				iov[m * 2 + j].iov_base = buf + used;
				iov[m * 2 + j].iov_len = len;
				used += len;
			}
			mm[m].msg_hdr.msg_iov = &iov[m * 2];
			mm[m].msg_hdr.msg_iovlen = 2;
		}
		conf_fill(buf, used, seed, off);
		int r = sendmmsg(fd, mm, 5, MSG_NOSIGNAL);
		CHECK_ERRNO(r >= 0, "sendmmsg");
		CHECK(r == 5, "blocking sendmmsg sent %d of 5 messages", r);
		for (int m = 0; m < 5; m++)
			CHECK(mm[m].msg_len == iov[m * 2].iov_len + iov[m * 2 + 1].iov_len,
			      "sendmmsg msg_len %u of message %d", mm[m].msg_len, m);
		off += used;
	}
	*total = off;
	return 0;
}

static size_t mm_total(void)
{
	size_t t = 0;
	for (int k = 0; k < 10; k++)
		for (int m = 0; m < 5; m++)
			for (int j = 0; j < 2; j++)
				t += (size_t)((k * 131 + m * 71 + j * 333) % 997 + 1);
	return t;
}

static int mm_recv(int fd, uint32_t seed)
{
	static uint8_t buf[4][777];
	size_t total = mm_total(), off = 0;
	while (off < total) {
		struct mmsghdr mm[4];
		struct iovec iov[4];
		memset(mm, 0, sizeof mm);
		for (int m = 0; m < 4; m++) {
			iov[m].iov_base = buf[m];
			iov[m].iov_len = sizeof buf[m];
			mm[m].msg_hdr.msg_iov = &iov[m];
			mm[m].msg_hdr.msg_iovlen = 1;
		}
		int r = recvmmsg(fd, mm, 4, MSG_WAITFORONE, NULL);
		CHECK_ERRNO(r >= 0, "recvmmsg");
		CHECK(r >= 1 && r <= 4, "recvmmsg returned %d", r);
		for (int m = 0; m < r; m++) {
			size_t n = mm[m].msg_len;
			CHECK(n > 0 || off == total, "recvmmsg: empty message %d (EOF?) at %zu", m, off);
			CHECK(off + n <= total, "more data than was sent");
			CHECK(conf_mismatch(buf[m], n, seed, off) < 0, "corrupted data near %zu", off);
			off += n;
		}
	}
	return 0;
}

static int mm_client(struct conf_ctx *c)
{
	size_t t;
	if (mm_send(c->fd, 7, &t) < 0 || mm_recv(c->fd, 8) < 0)
		return -1;
	return conf_expect_eof(c->fd);
}

static int mm_server(struct conf_ctx *c)
{
	size_t t;
	return mm_recv(c->fd, 7) < 0 ? -1 : mm_send(c->fd, 8, &t);
}

/* sendfile from a temporary file: first half with an offset pointer (the
 * file position must not move), second half from the file position. */
#define SF_N 1000003

static int sf_send(int fd, uint32_t seed)
{
	char path[] = "/tmp/conformance-sf.XXXXXX";
	int ffd = mkstemp(path);
	CHECK_ERRNO(ffd >= 0, "mkstemp");
	unlink(path);
	if (conf_send_pat(ffd, seed, 0, SF_N) < 0) {
		close(ffd);
		return -1;
	}
	int rc = -1;
	off_t off = 0, half = SF_N / 2;
	if (lseek(ffd, 12345, SEEK_SET) != 12345) {
		conf_fail_errno("lseek");
		goto out;
	}
	while (off < half) {
		ssize_t r = sendfile(fd, ffd, &off, (size_t)(half - off));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			conf_fail_errno("sendfile with offset at %lld", (long long)off);
			goto out;
		}
	}
	if (off != half || lseek(ffd, 0, SEEK_CUR) != 12345) {
		conf_fail("sendfile with an offset: offset %lld, file position moved to %lld",
			  (long long)off, (long long)lseek(ffd, 0, SEEK_CUR));
		goto out;
	}
	lseek(ffd, half, SEEK_SET);
	size_t left = SF_N - (size_t)half;
	while (left > 0) {
		ssize_t r = sendfile(fd, ffd, NULL, left + 1000); /* more than remains */
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			conf_fail_errno("sendfile from the file position, %zu left", left);
			goto out;
		}
		left -= (size_t)r;
	}
	if (lseek(ffd, 0, SEEK_CUR) != SF_N) {
		conf_fail("sendfile did not advance the file position");
		goto out;
	}
	rc = 0;
out:
	close(ffd);
	return rc;
}

static int sf_client(struct conf_ctx *c)
{
	if (sf_send(c->fd, 9) < 0 || conf_recv_pat(c->fd, 10, 0, SF_N) < 0)
		return -1;
	return conf_expect_eof(c->fd);
}

static int sf_server(struct conf_ctx *c)
{
	return conf_recv_pat(c->fd, 9, 0, SF_N) < 0 ? -1 : sf_send(c->fd, 10);
}

/* 8 MiB each way at the same time: a writer thread and the reader. */
#define LARGE_N (8u << 20)

struct writer {
	int fd;
	uint32_t seed;
	int rc;
	char err[600];
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	w->rc = conf_send_pat(w->fd, w->seed, 0, LARGE_N);
	if (w->rc < 0)
		snprintf(w->err, sizeof w->err, "writer: %s", conf_errmsg);
	return NULL;
}

static int large_both(int fd, uint32_t out_seed, uint32_t in_seed)
{
	struct writer w = { .fd = fd, .seed = out_seed };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, writer_main, &w) == 0, "pthread_create");
	int rc = conf_recv_pat(fd, in_seed, 0, LARGE_N);
	pthread_join(t, NULL);
	if (rc < 0)
		return -1;
	CHECK(w.rc == 0, "%s", w.err);
	return 0;
}

static int large_client(struct conf_ctx *c)
{
	if (large_both(c->fd, 11, 12) < 0)
		return -1;
	CHECK(shutdown(c->fd, SHUT_WR) == 0, "shutdown");
	return conf_expect_eof(c->fd);
}

static int large_server(struct conf_ctx *c)
{
	if (large_both(c->fd, 12, 11) < 0)
		return -1;
	return conf_expect_eof(c->fd);
}

/* echo: the client sends its marker and half-closes, the server echoes
 * what it got and closes. */
static int echo_client(struct conf_ctx *c)
{
	size_t n = strlen(c->marker);
	char *back = malloc(n + 1);
	CHECK(back, "malloc");
	int rc = conf_write_all(c->fd, c->marker, n);
	if (rc == 0 && shutdown(c->fd, SHUT_WR) < 0)
		rc = conf_fail_errno("shutdown");
	if (rc == 0)
		rc = conf_read_exact(c->fd, back, n);
	if (rc == 0 && memcmp(back, c->marker, n) != 0)
		rc = conf_fail("echo differs");
	free(back);
	return rc ? rc : conf_expect_eof(c->fd);
}

static int echo_server(struct conf_ctx *c)
{
	static char buf[65536];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(c->fd, buf + n, sizeof buf - n);
		CHECK_ERRNO(r >= 0, "read");
		if (r == 0)
			break;
		n += (size_t)r;
		CHECK(n < sizeof buf, "echo too long");
	}
	printf("echo received %zu bytes\n", n);
	return conf_write_all(c->fd, buf, n);
}

const struct conf_case conf_cases_rw[] = {
	{ "rw", rw_client, rw_server, 0 },
	{ "iov", iov_client, iov_server, 0 },
	{ "fromto", ft_client, ft_server, 0 },
	{ "mmsg", mm_client, mm_server, 0 },
	{ "sendfile", sf_client, sf_server, 0 },
	{ "large", large_client, large_server, 0 },
	{ "echo", echo_client, echo_server, 0 },
	{ NULL, NULL, NULL, 0 },
};
