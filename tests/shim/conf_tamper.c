/*
 * conf_tamper.c - the "tamper" case, run by test_tamper.sh with a router
 * that flips one bit in a data segment (it is not in the default list).
 *
 * The client sends 4 MiB of pattern and half-closes, ignoring errors. The
 * server reads until EOF or an error, checking that everything it got is a
 * prefix of the pattern, and prints
 *     tamper: N good bytes, then EOF|corrupt|ENAME
 * With --expect crypt the case passes only when the read failed with
 * ECONNRESET, EBADMSG or EPROTO and no corrupted byte was delivered; with
 * --expect none (plain TCP) only when the corruption was delivered, which
 * shows that the router really flipped a bit.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "conformance.h"

#define TAMPER_N (4u << 20)

static int tamper_client(struct conf_ctx *c)
{
	if (conf_send_pat(c->fd, 99, 0, TAMPER_N) == 0 && shutdown(c->fd, SHUT_WR) == 0)
		conf_drain_eof(c->fd);
	return 0; /* the verdict is the server's */
}

static int tamper_server(struct conf_ctx *c)
{
	static uint8_t buf[65536];
	struct timeval tv = { 15, 0 };
	uint64_t off = 0;
	int64_t bad = -1;
	int err = 0;
	char how[64];

	/* A receiver that silently waits for a frame that never comes hangs. */
	CHECK_ERRNO(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0,
		    "SO_RCVTIMEO");
	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? errno : 0;
			break;
		}
		if (bad < 0) {
			ssize_t m = conf_mismatch(buf, (size_t)r, 99, off);
			if (m >= 0)
				bad = (int64_t)off + m;
		}
		off += (uint64_t)r;
	}
	if (err == EAGAIN || err == EWOULDBLOCK)
		snprintf(how, sizeof how, "a read timeout (hang)");
	else
		snprintf(how, sizeof how, "%s", err ? conf_errname(err) : "EOF");
	if (bad >= 0)
		printf("tamper: %lld good bytes, then corrupt; %llu bytes in all, then %s\n",
		       (long long)bad, (unsigned long long)off, how);
	else
		printf("tamper: %llu good bytes, then %s\n", (unsigned long long)off, how);

	if (c->expect == EXPECT_CRYPT) {
		CHECK(bad < 0, "corrupted data delivered to the application at offset %lld",
		      (long long)bad);
		CHECK(err == ECONNRESET || err == EBADMSG || err == EPROTO,
		      "the tampered stream ended with %s, expected ECONNRESET, EBADMSG or EPROTO",
		      how);
		CHECK(off < TAMPER_N, "all data arrived although a segment was tampered with");
	} else if (c->expect == EXPECT_NONE) {
		CHECK(bad >= 0, "plain TCP: no corruption arrived (did the router flip a bit?)");
	}
	return 0;
}

/* "urgforge": the router forges a TCP urgent pointer into the data. Plain
 * TCP takes the byte it names out of the stream (the application sees a
 * byte missing); tcpcrypt authenticates urgent data inside the frames, so
 * the forged pointer changes nothing: all 4 MiB intact, then EOF. */
static int urgforge_server(struct conf_ctx *c)
{
	static uint8_t buf[65536];
	struct timeval tv = { 15, 0 };
	uint64_t off = 0;
	int64_t bad = -1;
	int err = 0;

	CHECK_ERRNO(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0,
		    "SO_RCVTIMEO");
	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? errno : 0;
			break;
		}
		if (bad < 0) {
			ssize_t m = conf_mismatch(buf, (size_t)r, 99, off);
			if (m >= 0)
				bad = (int64_t)off + m;
		}
		off += (uint64_t)r;
	}
	printf("urgforge: %llu bytes, first difference at %lld, then %s\n",
	       (unsigned long long)off, (long long)bad, err ? conf_errname(err) : "EOF");
	if (c->expect == EXPECT_CRYPT) {
		CHECK(bad < 0 && off == TAMPER_N && err == 0,
		      "a forged urgent pointer changed the encrypted stream");
	} else if (c->expect == EXPECT_NONE) {
		CHECK(bad >= 0 && off == TAMPER_N - 1,
		      "plain TCP: the forged urgent pointer took no byte out (did the router forge it?)");
	}
	return 0;
}

const struct conf_case conf_cases_tamper[] = {
	{ "tamper", tamper_client, tamper_server, 0 },
	{ "urgforge", tamper_client, urgforge_server, 0 },
	{ NULL, NULL, NULL, 0 },
};
