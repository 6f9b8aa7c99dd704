/*
 * epoll_fork.c - fork() while other threads are inside epoll_ctl() on
 * encrypted sockets (test_epoll_fork.sh). The shim's epoll_ctl takes a
 * lock of its own; a child forked while another thread held it must still
 * be able to call epoll_ctl (the lock must not be inherited held).
 *
 *   epoll_fork server PORT N      accepts N connections, then reads each
 *       until EOF and exits.
 *   epoll_fork client HOST PORT N FORKS
 *       opens N connections, checks that each carries a tcpcrypt session
 *       (TCP_CRYPT_SESSID), registers them in an epoll set, starts two
 *       threads that call epoll_ctl on them without pause, and forks FORKS
 *       times; each child calls epoll_ctl once on a connection and exits.
 *       A child that has not exited after CHILD_LIMIT_MS is reported as
 *       hung (FAIL, exit 1). Prints "epoll_fork ok FORKS" on success.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpcrypt/tcpcrypt.h"

#define MAXCONN 64
#define CHILD_LIMIT_MS 5000

static int conns[MAXCONN], nconn, epfd;
static volatile int stop;

static void die(const char *what)
{
	fprintf(stderr, "epoll_fork: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void addr_of(const char *host, int port, struct sockaddr_in *a)
{
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
		fprintf(stderr, "epoll_fork: bad address %s\n", host);
		exit(2);
	}
}

static int server(int port, int n)
{
	struct sockaddr_in a;
	struct pollfd pf[MAXCONN];
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0), open_left;
	char buf[256];

	addr_of("0.0.0.0", port, &a);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, MAXCONN) < 0)
		die("listen");
	for (int i = 0; i < n; i++) {
		pf[i].fd = accept(lfd, NULL, NULL);
		if (pf[i].fd < 0)
			die("accept");
		pf[i].events = POLLIN;
	}
	for (open_left = n; open_left > 0;) {
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (int i = 0; i < n; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			ssize_t r = read(pf[i].fd, buf, sizeof buf);

			if (r > 0 || (r < 0 && (errno == EINTR || errno == EAGAIN)))
				continue;
			close(pf[i].fd);
			pf[i].fd = -1;
			open_left--;
		}
	}
	return 0;
}

/* Registers, modifies and removes the connections without pause. */
static void *hammer(void *arg)
{
	uint64_t k = (uintptr_t)arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < nconn; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (k++ % 4096) << 8 | (unsigned)i };

			epoll_ctl(epfd, EPOLL_CTL_MOD, conns[i], &ev);
			if (k % 7 == 0) {
				epoll_ctl(epfd, EPOLL_CTL_DEL, conns[i], NULL);
				epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i], &ev);
			}
		}
	}
	return NULL;
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits for the child; 1 if it exited 0, 0 if it failed, -1 if it hung. */
static int reap(pid_t pid, int *status)
{
	long end = ms_now() + CHILD_LIMIT_MS;
	struct timespec nap = { 0, 200000 };

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
		if (r < 0 && errno != EINTR)
			die("waitpid");
		if (ms_now() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
}

static int client(const char *host, int port, int n, int forks)
{
	struct sockaddr_in a;
	pthread_t th[2];
	int hung = 0, failed = 0;

	addr_of(host, port, &a);
	for (nconn = 0; nconn < n; nconn++) {
		uint8_t sid[64];
		socklen_t len = sizeof sid;
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
			die("connect");
		if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) < 0 || len != 33) {
			fprintf(stderr, "FAIL: connection %d carries no tcpcrypt session\n", nconn);
			return 1;
		}
		conns[nconn] = fd;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	for (int i = 0; i < nconn; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (unsigned)i };

		if (epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i], &ev) < 0)
			die("epoll_ctl");
	}
	for (int t = 0; t < 2; t++)
		if ((errno = pthread_create(&th[t], NULL, hammer, (void *)(uintptr_t)(t * 100000))))
			die("pthread_create");
	for (int f = 0; f < forks && !hung; f++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xc0ffee };

			/* MOD or ADD: the hammering threads may have removed it. */
			if (epoll_ctl(epfd, EPOLL_CTL_MOD, conns[0], &ev) < 0 &&
			    epoll_ctl(epfd, EPOLL_CTL_ADD, conns[0], &ev) < 0 && errno != EEXIST)
				_exit(3);
			_exit(0);
		}
		switch (reap(pid, &status)) {
		case -1:
			fprintf(stderr, "FAIL: child %d of %d hung in epoll_ctl for %d ms (killed)\n",
			        f + 1, forks, CHILD_LIMIT_MS);
			hung = 1;
			break;
		case 0:
			fprintf(stderr, "FAIL: child %d exited with status 0x%x\n", f + 1, status);
			failed++;
			break;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < nconn; i++)
		close(conns[i]);
	if (hung || failed)
		return 1;
	printf("epoll_fork ok %d\n", forks);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "server") == 0) {
		int n = atoi(argv[3]);

		if (n >= 1 && n <= MAXCONN)
			return server(atoi(argv[2]), n);
	}
	if (argc == 6 && strcmp(argv[1], "client") == 0) {
		int n = atoi(argv[4]), forks = atoi(argv[5]);

		if (n >= 1 && n <= MAXCONN && forks >= 1)
			return client(argv[2], atoi(argv[3]), n, forks);
	}
	fprintf(stderr, "usage: epoll_fork server PORT N\n"
	                "       epoll_fork client HOST PORT N FORKS\n");
	return 2;
}
