/*
 * recv_flags.c - the recv flags MSG_TRUNC, MSG_PEEK and MSG_WAITALL (and
 * their combinations) on a TCP connection, through recv, recvfrom, recvmsg.
 *
 *   recv_flags server PORT      accepts one connection, runs the cases,
 *                               prints one line per result on stdout
 *   recv_flags client HOST PORT feeds the server, step by step
 *
 * The output must be the same on plain TCP and under tcpcrypt-run (the
 * shim must give plain-TCP semantics); test_recv_flags.sh compares them.
 * Each step: the server sends a "go" byte, the client writes the step's
 * data (in the writes listed for it), the server waits until it has
 * arrived (except where the case is about waiting) and receives.
 * The server also prints "encrypted=0|1" on stderr (TCP_CRYPT_SESSID).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tcpcrypt/tcpcrypt.h"

#define NSTEPS 16

/* What the client writes at each step: up to three writes of n bytes,
 * gap_ms apart; close_after: shut the connection down afterwards. */
static const struct step {
	size_t n[3];
	int gap_ms;
	int close_after;
} steps[NSTEPS] = {
	{ { 100 }, 0, 0 },            /* 0: recv(NULL, MSG_TRUNC) */
	{ { 50 }, 0, 0 },             /* 1: MSG_TRUNC into a buffer: not copied */
	{ { 16 }, 0, 0 },             /* 2: MSG_PEEK */
	{ { 50 }, 0, 0 },             /* 3: MSG_PEEK|MSG_TRUNC */
	{ { 30, 70 }, 300, 0 },       /* 4: MSG_WAITALL across two writes */
	{ { 64 }, 0, 0 },             /* 5: recvmsg(MSG_TRUNC), NULL iov bases */
	{ { 64 }, 0, 0 },             /* 6: recvfrom(NULL, MSG_TRUNC) */
	{ { 0 }, 0, 0 },              /* 7: MSG_TRUNC|MSG_DONTWAIT, nothing there */
	{ { 10 }, 0, 0 },             /* 8: MSG_WAITALL interrupted by a signal */
	{ { 1000, 1000, 1000 }, 50, 0 }, /* 9: MSG_TRUNC across writes */
	{ { 10, 10, 100 }, 300, 0 },  /* 10: MSG_PEEK|MSG_WAITALL across three writes */
	{ { 10, 10 }, 0, 0 },         /* 11: MSG_PEEK|MSG_WAITALL|MSG_DONTWAIT */
	{ { 10, 30000 }, 300, 0 },    /* 12: MSG_PEEK|MSG_WAITALL into a large write */
	{ { 10 }, 0, 0 },             /* 13: MSG_PEEK|MSG_WAITALL and SO_RCVTIMEO */
	{ { 10, 10 }, 1500, 0 },      /* 14: MSG_PEEK|MSG_WAITALL and a signal */
	{ { 10, 10 }, 300, 1 },       /* 15: MSG_PEEK|MSG_WAITALL ended by EOF */
};

/* The stream's byte at offset off: a printable pattern. */
static char pattern(size_t off)
{
	return (char)('A' + (off * 7 + off / 26) % 26);
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void die(const char *what)
{
	fprintf(stderr, "recv_flags: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Prints a result line: case name, return value, errno name if < 0. */
static void result(const char *name, ssize_t r, int err)
{
	if (r < 0)
		printf("%s: -1 %s\n", name, strerrorname_np(err));
	else
		printf("%s: %zd\n", name, r);
	fflush(stdout);
}

/* Reads exactly n bytes (or to EOF) and prints whether they are the
 * stream's bytes at offset off. */
static void expect_data(int fd, const char *name, size_t off, size_t n)
{
	char buf[4096];
	size_t got = 0, bad = 0;

	while (got < n) {
		ssize_t r = read(fd, buf, n - got < sizeof(buf) ? n - got : sizeof(buf));

		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			bad += buf[i] != pattern(off + got + (size_t)i);
		got += (size_t)r;
	}
	printf("%s: read %zu of %zu, %zu wrong\n", name, got, n, bad);
	fflush(stdout);
}

/* Milliseconds since an earlier now_ms(). */
static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Prints whether a call took between lo and hi ms (not the time itself:
 * the output must be the same in both runs). */
static void took(const char *name, long t0, long lo, long hi)
{
	long t = now_ms() - t0;

	printf("%s: took %s\n", name, t < lo ? "too little" : t > hi ? "too long" : "as long as the timeout");
	fflush(stdout);
}

/* Prints buf[0..n) compared with the stream at off. */
static void show(const char *name, const char *buf, ssize_t n, size_t off)
{
	size_t bad = 0;

	for (ssize_t i = 0; i < n; i++)
		bad += buf[i] != pattern(off + (size_t)i);
	printf("%s: data %zd bytes, %zu wrong\n", name, n < 0 ? 0 : n, bad);
	fflush(stdout);
}

static void go(int fd)
{
	if (write(fd, "g", 1) != 1)
		die("write go");
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int server(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int one = 1, ls, fd;
	size_t off = 0;          /* stream offset of the next unread byte */
	char buf[4096];
	ssize_t r;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
		die("listen");
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("accept");
	{
		uint8_t id[64];
		socklen_t l = sizeof(id);

		fprintf(stderr, "encrypted=%d\n", getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &l) == 0);
	}

	/* 0: recv(fd, NULL, n, MSG_TRUNC) discards (HAProxy's drain). */
	go(fd);
	msleep(200);
	r = recv(fd, NULL, 40, MSG_TRUNC);
	result("trunc-null-40", r, errno);
	r = recv(fd, NULL, 1000, MSG_TRUNC);
	result("trunc-null-1000", r, errno);
	off += 100;

	/* 1: MSG_TRUNC with a buffer: the bytes are discarded, the buffer
	 * left as it was. */
	go(fd);
	msleep(200);
	memset(buf, '.', sizeof(buf));
	r = recv(fd, buf, 20, MSG_TRUNC);
	result("trunc-buf-20", r, errno);
	printf("trunc-buf-20: buffer %s\n", buf[0] == '.' && buf[19] == '.' ? "untouched" : "written");
	expect_data(fd, "trunc-buf-rest", off + 20, 30);
	off += 50;

	/* 2: MSG_PEEK returns the bytes without consuming them. */
	go(fd);
	msleep(200);
	r = recv(fd, buf, sizeof(buf), MSG_PEEK);
	result("peek-all", r, errno);
	show("peek-all", buf, r, off);
	r = recv(fd, buf, 5, MSG_PEEK);
	result("peek-5", r, errno);
	show("peek-5", buf, r, off);
	expect_data(fd, "peek-then-read", off, 16);
	off += 16;

	/* 3: MSG_PEEK|MSG_TRUNC: how much is there, nothing copied or consumed. */
	go(fd);
	msleep(200);
	r = recv(fd, NULL, 20, MSG_PEEK | MSG_TRUNC);
	result("peek-trunc-20", r, errno);
	r = recv(fd, NULL, 1000, MSG_PEEK | MSG_TRUNC);
	result("peek-trunc-1000", r, errno);
	expect_data(fd, "peek-trunc-then-read", off, 50);
	off += 50;

	/* 4: MSG_WAITALL waits for the second write. */
	go(fd);
	r = recv(fd, buf, 100, MSG_WAITALL);
	result("waitall-100", r, errno);
	show("waitall-100", buf, r, off);
	off += 100;

	/* 5: recvmsg(MSG_TRUNC) with NULL buffers in the iovecs. */
	go(fd);
	msleep(200);
	{
		struct iovec iov[2] = { { NULL, 10 }, { NULL, 20 } };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

		r = recvmsg(fd, &m, MSG_TRUNC);
		result("recvmsg-trunc-30", r, errno);
		printf("recvmsg-trunc-30: msg_flags %#x\n", r >= 0 ? (unsigned)m.msg_flags : 0u);
	}
	expect_data(fd, "recvmsg-trunc-rest", off + 30, 34);
	off += 64;

	/* 6: recvfrom(fd, NULL, n, MSG_TRUNC, ...). */
	go(fd);
	msleep(200);
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		r = recvfrom(fd, NULL, 64, MSG_TRUNC, (struct sockaddr *)&ss, &sl);
		result("recvfrom-trunc-64", r, errno);
	}
	off += 64;

	/* 7: nothing there, MSG_DONTWAIT: EAGAIN. */
	go(fd);
	msleep(200);
	r = recv(fd, NULL, 10, MSG_TRUNC | MSG_DONTWAIT);
	result("trunc-dontwait-empty", r, errno);
	r = recv(fd, buf, 10, MSG_PEEK | MSG_DONTWAIT);
	result("peek-dontwait-empty", r, errno);

	/* 8: MSG_WAITALL, a signal arrives after part of the data: the part. */
	{
		struct sigaction sa_alrm = { .sa_handler = on_alarm };    /* no SA_RESTART */

		sigaction(SIGALRM, &sa_alrm, NULL);
	}
	go(fd);
	msleep(100);
	alarm(1);
	r = recv(fd, buf, 100, MSG_WAITALL);
	result("waitall-signal", r, errno);
	show("waitall-signal", buf, r, off);
	off += 10;

	/* 9: MSG_TRUNC across writes. */
	go(fd);
	msleep(500);
	r = recv(fd, NULL, 2500, MSG_TRUNC);
	result("trunc-null-2500", r, errno);
	expect_data(fd, "trunc-2500-rest", off + 2500, 500);
	off += 3000;

	/* 10: MSG_PEEK|MSG_WAITALL waits for bytes written apart (a header
	 * split across frames) and returns them, leaving the rest of the
	 * buffer alone; the read that follows gets the same bytes. */
	go(fd);
	memset(buf, '.', sizeof(buf));
	r = recv(fd, buf, 32, MSG_PEEK | MSG_WAITALL);
	result("peek-waitall-32", r, errno);
	show("peek-waitall-32", buf, r, off);
	printf("peek-waitall-32: after it %s\n", buf[32] == '.' ? "untouched" : "written");
	{
		char rd[32];

		r = recv(fd, rd, sizeof(rd), MSG_WAITALL);
		result("read-after-peek-32", r, errno);
		printf("read-after-peek-32: %s the peeked bytes\n",
		       r == 32 && memcmp(rd, buf, 32) == 0 ? "equal to" : "differ from");
	}
	expect_data(fd, "peek-waitall-rest", off + 32, 88);
	off += 120;

	/* 11: MSG_PEEK|MSG_WAITALL|MSG_DONTWAIT: what is there, no wait. */
	go(fd);
	msleep(300);
	r = recv(fd, buf, 100, MSG_PEEK | MSG_WAITALL | MSG_DONTWAIT);
	result("peek-waitall-dontwait", r, errno);
	show("peek-waitall-dontwait", buf, r, off);
	expect_data(fd, "peek-waitall-dontwait-read", off, 20);
	off += 20;

	/* 12: MSG_PEEK|MSG_WAITALL whose bytes end in a large write (a
	 * frame of many segments). */
	go(fd);
	r = recv(fd, buf, 32, MSG_PEEK | MSG_WAITALL);
	result("peek-waitall-large", r, errno);
	show("peek-waitall-large", buf, r, off);
	expect_data(fd, "peek-waitall-large-read", off, 30010);
	off += 30010;

	/* 13: MSG_PEEK|MSG_WAITALL with SO_RCVTIMEO: the bytes there after
	 * the timeout; EAGAIN after it when there are none. */
	{
		struct timeval tv = { 0, 500000 }, no = { 0, 0 };
		long t0;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
			die("SO_RCVTIMEO");
		go(fd);
		msleep(200);
		t0 = now_ms();
		r = recv(fd, buf, 100, MSG_PEEK | MSG_WAITALL);
		result("peek-waitall-timeout", r, errno);
		took("peek-waitall-timeout", t0, 400, 2000);
		show("peek-waitall-timeout", buf, r, off);
		expect_data(fd, "peek-waitall-timeout-read", off, 10);
		off += 10;
		t0 = now_ms();
		r = recv(fd, buf, 100, MSG_PEEK | MSG_WAITALL);
		result("peek-waitall-timeout-empty", r, errno);
		took("peek-waitall-timeout-empty", t0, 400, 2000);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &no, sizeof(no));
	}

	/* 14: MSG_PEEK|MSG_WAITALL, a signal arrives between the writes: the
	 * first write's bytes. */
	go(fd);
	msleep(100);
	alarm(1);
	r = recv(fd, buf, 20, MSG_PEEK | MSG_WAITALL);
	result("peek-waitall-signal", r, errno);
	show("peek-waitall-signal", buf, r, off);
	expect_data(fd, "peek-waitall-signal-read", off, 20);
	off += 20;

	/* 15: MSG_PEEK|MSG_WAITALL for more than ever comes: what came
	 * before the peer's close. */
	go(fd);
	r = recv(fd, buf, 100, MSG_PEEK | MSG_WAITALL);
	result("peek-waitall-eof", r, errno);
	show("peek-waitall-eof", buf, r, off);

	/* then MSG_WAITALL ended by EOF. */
	r = recv(fd, buf, 100, MSG_WAITALL);
	result("waitall-eof", r, errno);
	show("waitall-eof", buf, r, off);
	r = recv(fd, buf, 100, MSG_WAITALL);
	result("after-eof", r, errno);
	close(fd);
	close(ls);
	return 0;
}

static int client(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	size_t off = 0;
	static char buf[32768];   /* (the largest write) */
	char g;
	int fd;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		die("getaddrinfo");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect");
	freeaddrinfo(ai);
	for (int i = 0; i < NSTEPS; i++) {
		if (read(fd, &g, 1) != 1)
			die("read go");
		for (int w = 0; w < 3 && steps[i].n[w]; w++) {
			if (w)
				msleep(steps[i].gap_ms);
			for (size_t k = 0; k < steps[i].n[w]; k++)
				buf[k] = pattern(off + k);
			if (write(fd, buf, steps[i].n[w]) != (ssize_t)steps[i].n[w])
				die("write");
			off += steps[i].n[w];
		}
		if (steps[i].close_after)
			break;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(argv[2]);
	if (argc == 4 && strcmp(argv[1], "client") == 0)
		return client(argv[2], argv[3]);
	fprintf(stderr, "usage: recv_flags server PORT | recv_flags client HOST PORT\n");
	return 2;
}
