/*
 * many.c - one process holding many encrypted connections (test_many.sh;
 * issue 13 item 5: each connection's shared region was its own memory
 * mapping, so a process stopped near vm.max_map_count, 65,530 by default).
 *
 *   many server PORT0 NPORTS N
 *       listens on PORT0 .. PORT0+NPORTS-1; answers every byte 'x' with
 *       'y' and keeps the connection open until its peer closes it. Once
 *       N connections were answered prints
 *         server: answered N encrypted E maps M
 *       (E: connections with a session ID, M: lines of /proc/self/maps),
 *       then waits to be killed.
 *   many client HOST PORT0 NPORTS N
 *       opens N connections one after the other, round robin over the
 *       ports, each: connect, 'x' out, 'y' back, TCP_CRYPT_SESSID; keeps
 *       them all open; stops at the first failure. Prints
 *         client: connected C encrypted E maps M [failed at I: ERRNAME]
 *       then waits to be killed.
 *   many churn HOST PORT0 NPORTS N
 *       regions freed, handed out again, and shared with a fork child
 *       (run with TCPCRYPT_OWN_MAPPINGS=0, so every region is in a chunk):
 *       opens N connections; closes every other one; opens N/2 more (in
 *       the freed slots); a forked child makes an exchange on each of the
 *       N it inherits and exits; the parent then opens N/4 more, and makes
 *       an exchange on every connection it holds. Each exchange: 'x' out,
 *       'y' back, a session ID. Prints
 *         churn: ok live L maps M      or   churn: failed STEP ...
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcpcrypt/tcpcrypt.h"

#define MAX_PORTS 16

static long maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int has_sessid(int fd)
{
	unsigned char id[64];
	socklen_t len = sizeof(id);

	return getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &len) == 0 && len > 0;
}

static void wait_forever(void)
{
	for (;;)
		pause();
}

static int server(int port0, int nports, long n)
{
	int ep = epoll_create1(0), one = 1;
	long answered = 0, enc = 0;
	struct epoll_event ev, evs[256];

	if (ep < 0)
		return perror("epoll_create1"), 2;
	for (int i = 0; i < nports; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port0 + i)) };
		int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0)
			return perror("listen"), 2;
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)l << 2 | 1;    /* bit 0: a listener; bit 1: answered */
		epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	}
	while (answered < n) {
		int k = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < k; i++) {
			int fd = (int)(evs[i].data.u64 >> 2);

			if (evs[i].data.u64 & 1) {
				int c;

				while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev.events = EPOLLIN;
					ev.data.u64 = (uint64_t)c << 2;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				if (errno != EAGAIN && errno != ECONNABORTED)
					return fprintf(stderr, "server: accept: %s after %ld\n", strerror(errno), answered), 1;
			} else {
				char b;
				ssize_t r = read(fd, &b, 1);

				if (r < 0 && errno == EAGAIN)
					continue;
				if (r != 1 || b != 'x' || write(fd, "y", 1) != 1) {
					if (r != 0)
						fprintf(stderr, "server: %s\n", r < 0 ? strerror(errno) : "no 'x'");
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					close(fd);
					continue;
				}
				if (evs[i].data.u64 & 2)
					continue;       /* answered before */
				evs[i].data.u64 |= 2;
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &evs[i]);
				enc += has_sessid(fd);
				answered++;
			}
		}
	}
	printf("server: answered %ld encrypted %ld maps %ld\n", answered, enc, maps_lines());
	fflush(stdout);
	wait_forever();
	return 0;
}

/* A new connection to port0 + i % nports, with its first exchange. */
static int dial(const char *host, int port0, int nports, long i)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port0 + i % nports)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, host, &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* 'x' out, 'y' back, and a session ID: 0, or -1. */
static int exchange(int fd)
{
	char b = 0;

	return write(fd, "x", 1) == 1 && read(fd, &b, 1) == 1 && b == 'y' && has_sessid(fd) ? 0 : -1;
}

static int churn_fail(const char *step, long i)
{
	printf("churn: failed %s at %ld: %s\n", step, i, strerror(errno));
	return 1;
}

static int churn(const char *host, int port0, int nports, long n)
{
	int *fd = calloc((size_t)(2 * n), sizeof(int));
	long live = 0, i;
	pid_t pid;
	int st;

	if (!fd)
		return 2;
	for (i = 0; i < n; i++)
		if ((fd[live++] = dial(host, port0, nports, i)) < 0 || exchange(fd[live - 1]) < 0)
			return churn_fail("open", i);
	for (i = 0; i < n; i += 2) {
		close(fd[i]);
		fd[i] = -1;
	}
	for (i = 0; i < n; i += 2)     /* the freed slots, handed out again */
		if ((fd[i] = dial(host, port0, nports, i)) < 0 || exchange(fd[i]) < 0)
			return churn_fail("reopen", i);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return churn_fail("fork", 0);
	if (pid == 0) {
		for (i = 0; i < n; i++)
			if (exchange(fd[i]) < 0)
				_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return churn_fail("child's exchanges", 0);
	for (i = 0; i < n / 4; i++)
		if ((fd[live++] = dial(host, port0, nports, n + i)) < 0 || exchange(fd[live - 1]) < 0)
			return churn_fail("open after fork", i);
	for (i = 0; i < live; i++)
		if (exchange(fd[i]) < 0)
			return churn_fail("exchange on all", i);
	printf("churn: ok live %ld maps %ld\n", live, maps_lines());
	for (i = 0; i < live; i++)
		close(fd[i]);
	free(fd);
	return 0;
}

static int client(const char *host, int port0, int nports, long n)
{
	long i, enc = 0;
	const char *fail = NULL;

	for (i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port0 + i % nports)) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char b = 0;

		inet_pton(AF_INET, host, &a.sin_addr);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || write(fd, "x", 1) != 1 ||
		    read(fd, &b, 1) != 1 || b != 'y') {
			int e = errno;

			fail = b ? "bad answer" : e == ENOMEM ? "ENOMEM" : e == EMFILE ? "EMFILE" :
			       e == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : strerror(e);
			break;
		}
		enc += has_sessid(fd);
		if ((i + 1) % 10000 == 0)
			fprintf(stderr, "client: %ld connected, %ld encrypted, maps %ld\n", i + 1, enc, maps_lines());
	}
	printf("client: connected %ld encrypted %ld maps %ld", i, enc, maps_lines());
	if (fail)
		printf(" failed at %ld: %s", i, fail);
	printf("\n");
	fflush(stdout);
	wait_forever();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), atoi(argv[3]) < MAX_PORTS ? atoi(argv[3]) : MAX_PORTS, atol(argv[4]));
	if (argc == 6 && !strcmp(argv[1], "churn"))
		return churn(argv[2], atoi(argv[3]), atoi(argv[4]) < MAX_PORTS ? atoi(argv[4]) : MAX_PORTS,
		             atol(argv[5]));
	if (argc == 6 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atoi(argv[4]) < MAX_PORTS ? atoi(argv[4]) : MAX_PORTS,
		              atol(argv[5]));
	fprintf(stderr, "usage: many server PORT0 NPORTS N | client|churn HOST PORT0 NPORTS N\n");
	return 2;
}
