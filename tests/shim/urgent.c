/*
 * urgent.c - urgent data (MSG_OOB, SO_OOBINLINE, SIOCATMARK, SIGURG,
 * POLLPRI) on a TCP connection, the way an FTP or telnet server uses it.
 *
 *   urgent server PORT       accepts one connection, runs the steps,
 *                            prints one line per result on stdout
 *   urgent client HOST PORT  sends what each step needs
 *
 * The output must be the same on plain TCP and under tcpcrypt-run (the
 * shim gives plain-TCP semantics); test_urgent.sh compares them. Each
 * step but the first: the server sends a "go" byte, the client sends the
 * step's data, the server waits for SIGURG (its F_SETOWN is itself), lets
 * the rest arrive, and looks. The first step's urgent byte is sent right
 * after connect(), before the server said anything: under tcpcrypt it is
 * queued before the keys exist. The urgent bytes are the MARK_* strings
 * below (test_urgent.sh looks for them in the capture).
 * The server also prints "encrypted=0|1" on stderr (TCP_CRYPT_SESSID).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "tcpcrypt/tcpcrypt.h"

#define BULK 100000

static volatile sig_atomic_t n_sigurg;

static void on_sigurg(int sig)
{
	(void)sig;
	n_sigurg++;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void die(const char *what)
{
	fprintf(stderr, "urgent: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* One result line: the step, what was done, its return and errno or data. */
static void out(const char *step, const char *what, ssize_t r, int err, const char *data, size_t n)
{
	printf("%s %s: ", step, what);
	if (r < 0)
		printf("-1 %s\n", strerrorname_np(err));
	else if (data)
		printf("%zd \"%.*s\"\n", r, (int)n, data);
	else
		printf("%zd\n", r);
	fflush(stdout);
}

static void rd(const char *step, int fd, int flags)
{
	char buf[256];
	ssize_t r = recv(fd, buf, sizeof(buf), flags | MSG_DONTWAIT);

	out(step, flags & MSG_OOB ? (flags & MSG_PEEK ? "recv(OOB|PEEK)" : "recv(OOB)") : "recv",
	    r, errno, buf, r > 0 ? (size_t)r : 0);
}

/* A blocking read of exactly n bytes (5 s at most): data that were sent
 * after the urgent byte, whenever they arrive. */
static void rd_all(const char *step, int fd, size_t n)
{
	char buf[256];
	struct timeval tv = { 5, 0 };
	ssize_t r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), MSG_WAITALL);
	out(step, "recv(WAITALL)", r, errno, buf, r > 0 ? (size_t)r : 0);
}

/* Waits (5 s at most) until the kernel announces urgent data on fd. */
static void wait_pri(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };

	poll(&p, 1, 5000);
	msleep(200);
}

static void atmark(const char *step, int fd)
{
	int m = -1, r = ioctl(fd, SIOCATMARK, &m);

	out(step, "atmark", r < 0 ? -1 : m, errno, NULL, 0);
}

/* poll and select, without waiting: which of readable and urgent. */
static void ready(const char *step, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLPRI };
	struct timeval tv = { 0, 0 };
	fd_set rs, es;
	int r;

	r = poll(&p, 1, 0);
	printf("%s poll: %d%s%s\n", step, r, (p.revents & POLLIN) ? " in" : "",
	       (p.revents & POLLPRI) ? " pri" : "");
	FD_ZERO(&rs);
	FD_ZERO(&es);
	FD_SET(fd, &rs);
	FD_SET(fd, &es);
	r = select(fd + 1, &rs, NULL, &es, &tv);
	printf("%s select: %d%s%s\n", step, r, FD_ISSET(fd, &rs) ? " read" : "",
	       FD_ISSET(fd, &es) ? " except" : "");
	fflush(stdout);
}

/* Waits (at most 5 s) for a SIGURG after the n counted before the step
 * began, then lets the data arrive. */
static void wait_sigurg(const char *step, int n)
{
	for (int i = 0; i < 500 && n_sigurg == n; i++)
		msleep(10);
	msleep(200);
	printf("%s sigurg: %d\n", step, (int)n_sigurg - n);
	fflush(stdout);
}

static void go(int fd)
{
	if (write(fd, "g", 1) != 1)
		die("write go");
}

static void oobinline(const char *step, int fd, int on)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on)) < 0)
		die("SO_OOBINLINE");
	if (getsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &v, &l) < 0)
		die("getsockopt SO_OOBINLINE");
	printf("%s oobinline: %d\n", step, v != 0);
}

static int server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sigaction sa;
	uint8_t id[TCPCRYPT_SESSID_MAX];
	socklen_t l = sizeof(id);
	int ls, fd, one = 1, base;
	static char bulk[BULK + 1];
	size_t got = 0, bad = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigurg;
	sigaction(SIGURG, &sa, NULL);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0)
		die("listen");
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("accept");
	if (fcntl(fd, F_SETOWN, getpid()) < 0)
		die("F_SETOWN");
	fprintf(stderr, "encrypted=%d\n", getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &l) == 0);

	/* 1. "p" then urgent "Q", right after connect (before the keys; the
	 * SIGURG may come before F_SETOWN) */
	wait_pri(fd);
	ready("1", fd);
	rd("1", fd, 0);               /* "p", stops at the mark */
	atmark("1", fd);
	rd("1", fd, MSG_OOB | MSG_PEEK);
	rd("1", fd, MSG_OOB);         /* "Q" */
	rd("1", fd, MSG_OOB);         /* read already */
	atmark("1", fd);              /* the mark stays until a read passes it */
	ready("1", fd);
	rd("1", fd, 0);               /* nothing after the mark */
	atmark("1", fd);

	/* 2. one send "abcR" with MSG_OOB: "R" is urgent */
	base = n_sigurg;
	go(fd);
	wait_sigurg("2", base);
	rd("2", fd, 0);               /* "abc" */
	atmark("2", fd);
	rd("2", fd, 0);               /* passes the mark: "R" is not in the stream */
	atmark("2", fd);
	rd("2", fd, MSG_OOB);         /* passed: no urgent byte any more */

	/* 3. with SO_OOBINLINE: "deS", "S" urgent, stays in the stream */
	oobinline("3", fd, 1);
	base = n_sigurg;
	go(fd);
	wait_sigurg("3", base);
	ready("3", fd);
	rd("3", fd, 0);               /* "de" */
	atmark("3", fd);
	rd("3", fd, MSG_OOB);         /* EINVAL with SO_OOBINLINE */
	rd_all("3", fd, 5);           /* "S" and what follows */
	atmark("3", fd);
	oobinline("3", fd, 0);

	/* 4. urgent "T" behind 100,000 bytes: read up to the mark */
	base = n_sigurg;
	go(fd);
	wait_sigurg("4", base);
	for (;;) {
		int m = 0;
		ssize_t r;

		if (ioctl(fd, SIOCATMARK, &m) < 0)
			die("SIOCATMARK");
		if (m)
			break;
		r = read(fd, bulk, sizeof(bulk) - got > 4096 ? 4096 : sizeof(bulk) - got);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			bad += bulk[i] != (char)('a' + (got + (size_t)i) % 26);
		got += (size_t)r;
	}
	printf("4 before the mark: %zu bytes, %zu wrong\n", got, bad);
	rd("4", fd, MSG_OOB);         /* "T" */
	rd_all("4", fd, 5);           /* "after" */

	/* 9. two urgent sends before the reader reaches the first ("aU" then
	 * "bV", U and V urgent). Plain TCP keeps only the last urgent pointer
	 * (U becomes ordinary data); tcpcrypt keeps every urgent byte that
	 * came authenticated (test_urgent.sh checks these lines apart). */
	base = n_sigurg;
	go(fd);
	wait_sigurg("9", base);
	rd("9", fd, 0);
	atmark("9", fd);
	rd("9", fd, MSG_OOB);
	rd("9", fd, 0);
	atmark("9", fd);
	rd("9", fd, MSG_OOB);
	rd("9", fd, 0);

	/* 5. the peer closes: EOF, no urgent byte */
	go(fd);
	msleep(300);
	rd("5", fd, MSG_OOB);
	rd("5", fd, 0);
	close(fd);
	close(ls);
	return 0;
}

static void wait_go(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		die("read go");
}

static void snd(int fd, const char *s, size_t n, int flags)
{
	if (send(fd, s, n, flags) != (ssize_t)n)
		die("send");
}

static int client(const char *host, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static char bulk[BULK];
	int fd;

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		die("address");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	snd(fd, "p", 1, 0);
	snd(fd, "Q", 1, MSG_OOB);
	wait_go(fd);
	snd(fd, "abcR", 4, MSG_OOB);
	wait_go(fd);
	snd(fd, "deS", 3, MSG_OOB);
	snd(fd, "more", 4, 0);
	wait_go(fd);
	for (size_t i = 0; i < sizeof(bulk); i++)
		bulk[i] = (char)('a' + i % 26);
	snd(fd, bulk, sizeof(bulk), 0);
	snd(fd, "T", 1, MSG_OOB);
	snd(fd, "after", 5, 0);
	wait_go(fd);
	snd(fd, "aU", 2, MSG_OOB);
	snd(fd, "bV", 2, MSG_OOB);
	wait_go(fd);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: urgent server PORT | urgent client HOST PORT\n");
	return 2;
}
