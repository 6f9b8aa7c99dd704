/*
 * parked.c - many key exchanges parked on a server program that does not
 * accept, while the same client process serves live connections
 * (test_parked.sh, bench_parked.sh; issue 13: the progress thread must
 * not slow down with the number of connections that wait).
 *
 *   parked server HOLD LIVE N
 *       listens on HOLD (backlog N, never accepted until told) and LIVE;
 *       echoes every connection it accepts, except: "CTL\n" makes that
 *       LIVE connection the control one; "GO\n" on it makes the server
 *       accept the N HOLD connections (answered "OK\n"); a "hello" (64
 *       bytes: 'H', the sender's CLOCK_MONOTONIC time as a double) is not
 *       echoed: how long it took to arrive (a double, s) goes to the
 *       control connection. Exits 0 once N HOLD connections were accepted
 *       and closed.
 *   parked client HOST HOLD LIVE N L KEYLOG
 *       1. opens N connections to HOLD (blocking connect: each returns at
 *          TCP's handshake, its key exchange parked);
 *       2. with them parked, L connections to LIVE one after the other:
 *          connect, 64 bytes out, their echo back, TCP_CRYPT_SESSID; then
 *          L hellos: connect, the hello written before the keys exist, and
 *          the application reads only the control connection (the server
 *          says there when the hello arrived): the shim's progress thread
 *          alone finishes the key exchange and sends the hello;
 *       3. sends "GO", waits until KEYLOG (this process's key log) holds
 *          the N + L sessions (the parked ones finished by the progress
 *          thread alone), checks TCP_CRYPT_SESSID on all N, echoes 512
 *          random bytes on every 50th, closes them.
 *       Prints one "key value..." line per figure; exits 1 on any error.
 *   parked fds HOST HOLD LIVE
 *       fd numbers, dups and fork against the progress thread's epoll
 *       set (server N = 2): a parked connection dup'd and its first fd
 *       closed; a live connection that gets the closed fd's number, its
 *       hello; a hello queued on the dup; a fork whose child alone keeps
 *       another parked connection (the parent closes its fd) and queues a
 *       hello on it, and makes a live connection with a hello of its own;
 *       then the server accepts. Each hello must arrive (the progress
 *       threads alone send them); prints "fds ok" and their delays.
 *       The progress thread's CPU is read from /proc/self/task/TID/schedstat
 *       (every thread but the main one).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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

#define SAMPLE_EVERY 50
#define COMPLETE_LIMIT_S 120

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time (ms) of every thread of this process but the main one. */
static double helper_cpu_ms(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	double ms = 0;
	pid_t me = getpid();

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[320];
		unsigned long long ns;
		FILE *f;

		if (e->d_name[0] == '.' || atoi(e->d_name) == me)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			ms += ns / 1e6;
		fclose(f);
	}
	closedir(d);
	return ms;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EAGAIN) {
			struct pollfd q = { .fd = fd, .events = POLLOUT };

			poll(&q, 1, 1000);
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- server ---- */

static int listener(int port, int backlog)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, backlog) < 0)
		return -1;
	return fd;
}

/* What the server keeps per fd: 1 live, 2 hold. */
static char *kind_of;
static int ctl_fd = -1;

/* A hello arrived: its delay to the control connection. */
static void hello_arrived(const char *buf)
{
	double sent, d;

	memcpy(&sent, buf + 1, sizeof(sent));
	d = now_s() - sent;
	if (ctl_fd < 0 || write_all(ctl_fd, &d, sizeof(d)) < 0) {
		fprintf(stderr, "server: no control connection for a hello\n");
		exit(1);
	}
}

static void serve_conn(int ep, int fd, int *go, int *held_closed)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		if (kind_of[fd] == 2)
			(*held_closed)++;
		kind_of[fd] = 0;
		epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		return;
	}
	if (kind_of[fd] == 1 && n == 4 && memcmp(buf, "CTL\n", 4) == 0) {
		ctl_fd = fd;
		return;
	}
	if (n == 64 && buf[0] == 'H') {
		hello_arrived(buf);
		return;
	}
	if (fd == ctl_fd && n == 3 && memcmp(buf, "GO\n", 3) == 0) {
		*go = 1;
		write_all(fd, "OK\n", 3);
		return;
	}
	if (write_all(fd, buf, (size_t)n) < 0) {
		fprintf(stderr, "server: write: %s\n", strerror(errno));
		exit(1);
	}
}

static void accept_all(int ep, int lfd, int kind, int *accepted)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

		if (c < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				fprintf(stderr, "server: accept: %s\n", strerror(errno));
				exit(1);
			}
			return;
		}
		kind_of[c] = (char)kind;
		ev.data.fd = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0) {
			fprintf(stderr, "server: epoll_ctl: %s\n", strerror(errno));
			exit(1);
		}
		if (kind == 2)
			(*accepted)++;
	}
}

static int server(int hold_port, int live_port, int n)
{
	int hold = listener(hold_port, n + 128), live = listener(live_port, 1024);
	int ep = epoll_create1(0), go = 0, go_done = 0, accepted = 0, held_closed = 0;
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];

	kind_of = calloc(1 << 20, 1);
	if (hold < 0 || live < 0 || ep < 0 || !kind_of) {
		fprintf(stderr, "server: set-up: %s\n", strerror(errno));
		return 1;
	}
	ev.data.fd = live;
	epoll_ctl(ep, EPOLL_CTL_ADD, live, &ev);
	while (held_closed < n) {
		int k = epoll_wait(ep, evs, 256, 1000);

		for (int i = 0; i < k; i++) {
			int fd = evs[i].data.fd;

			if (fd == live)
				accept_all(ep, live, 1, &accepted);
			else if (fd == hold)
				accept_all(ep, hold, 2, &accepted);
			else
				serve_conn(ep, fd, &go, &held_closed);
		}
		if (go && !go_done) {
			go_done = 1;
			ev.data.fd = hold;
			epoll_ctl(ep, EPOLL_CTL_ADD, hold, &ev);
			accept_all(ep, hold, 2, &accepted);
		}
	}
	printf("server accepted %d\n", accepted);
	return 0;
}

/* ---- client ---- */

static int connect_to(const char *host, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, host, &a.sin_addr);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int encrypted(int fd)
{
	uint8_t id[64];
	socklen_t l = sizeof(id);

	return getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &l) == 0 && l > 0;
}

/* Sessions in the key log (two lines each). */
static long keylog_sessions(const char *path)
{
	char buf[65536];
	long lines = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines / 2;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One request/response on a new LIVE connection: its time (s), or -1. */
static double live_one(const char *host, int port)
{
	char req[64], rsp[64];
	double t0 = now_s();
	int fd = connect_to(host, port), ok;

	if (fd < 0)
		return -1;
	memset(req, 'a' + (int)(t0 * 1000) % 26, sizeof(req));
	ok = write_all(fd, req, sizeof(req)) == 0 && read_all(fd, rsp, sizeof(rsp)) == 0 &&
	     memcmp(req, rsp, sizeof(req)) == 0;
	ok = ok && encrypted(fd);
	close(fd);
	return ok ? now_s() - t0 : -1;
}

/* A hello on a new LIVE connection, then only the control connection is
 * read: the hello's delay (s), or -1. */
static double hello_one(const char *host, int port, int ctl)
{
	char msg[64] = { 'H' };
	double t0, d;
	int fd = connect_to(host, port);

	if (fd < 0)
		return -1;
	t0 = now_s();
	memcpy(msg + 1, &t0, sizeof(t0));
	if (write_all(fd, msg, sizeof(msg)) < 0 || read_all(ctl, &d, sizeof(d)) < 0)
		d = -1;
	close(fd);
	return d;
}

/* Sorts n latencies (s) and prints them as one line. */
static void report(const char *what, double *lat, int n, int errors, double total, double cpu)
{
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	if (n > 0)
		printf("%s %d errors %d median_ms %.3f p90_ms %.3f max_ms %.3f total_s %.3f thread_cpu_ms %.1f\n",
		       what, n, errors, lat[n / 2] * 1e3, lat[n * 9 / 10] * 1e3, lat[n - 1] * 1e3, total, cpu);
}

static int sample_echo(int fd, unsigned seed)
{
	unsigned char out[512], in[512];

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(rand_r(&seed) >> 7);
	return write_all(fd, out, sizeof(out)) == 0 && read_all(fd, in, sizeof(in)) == 0 &&
	       memcmp(out, in, sizeof(in)) == 0;
}

static int client(const char *host, int hold_port, int live_port, int n, int l, const char *keylog)
{
	int *fds = calloc((size_t)n, sizeof(int)), ctl, errors = 0, notenc = 0, samples = 0, hellos_failed = 0;
	double *lat = calloc((size_t)(l > 0 ? l : 1), sizeof(double)), t, c0, c1;
	long sess;
	char ok[3];

	if (!fds || !lat)
		return 1;
	ctl = connect_to(host, live_port);
	if (ctl < 0 || write_all(ctl, "CTL\n", 4) < 0) {
		fprintf(stderr, "client: control connection: %s\n", strerror(errno));
		return 1;
	}
	/* 1. park N */
	t = now_s();
	for (int i = 0; i < n; i++) {
		fds[i] = connect_to(host, hold_port);
		if (fds[i] < 0) {
			fprintf(stderr, "client: parked connect %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	printf("park %d %.3f\n", n, now_s() - t);
	fflush(stdout);
	/* the progress thread with N parked and nothing else to do */
	c0 = helper_cpu_ms();
	sleep(2);
	printf("idle_cpu_ms_per_s %.2f\n", (helper_cpu_ms() - c0) / 2);
	/* 2. live connections while the N wait */
	c0 = helper_cpu_ms();
	t = now_s();
	for (int i = 0; i < l; i++) {
		lat[i] = live_one(host, live_port);
		if (lat[i] < 0) {
			fprintf(stderr, "client: live connection %d failed: %s\n", i, strerror(errno));
			errors++;
			lat[i] = 1e9;
		}
	}
	c1 = helper_cpu_ms();
	report("live", lat, l, errors, now_s() - t, c1 - c0);
	/* hellos that the progress thread alone sends */
	c0 = helper_cpu_ms();
	t = now_s();
	for (int i = 0; i < l; i++) {
		lat[i] = hello_one(host, live_port, ctl);
		if (lat[i] < 0) {
			fprintf(stderr, "client: hello %d failed: %s\n", i, strerror(errno));
			hellos_failed++;
			lat[i] = 1e9;
		}
	}
	c1 = helper_cpu_ms();
	report("hello", lat, l, hellos_failed, now_s() - t, c1 - c0);
	errors += hellos_failed;
	/* 3. the server accepts: the parked ones finish in the background */
	c0 = helper_cpu_ms();
	t = now_s();
	if (write_all(ctl, "GO\n", 3) < 0 || read_all(ctl, ok, 3) < 0) {
		fprintf(stderr, "client: GO: %s\n", strerror(errno));
		return 1;
	}
	while ((sess = keylog_sessions(keylog)) < (long)n + 2 * l + 1 && now_s() - t < COMPLETE_LIMIT_S)
		usleep(10000);
	printf("complete %ld of %d %.3f thread_cpu_ms %.1f\n", sess - 2 * l - 1, n, now_s() - t,
	       helper_cpu_ms() - c0);
	for (int i = 0; i < n; i++) {
		if (!encrypted(fds[i]))
			notenc++;
		else if (i % SAMPLE_EVERY == 0 && (samples++, !sample_echo(fds[i], (unsigned)i)))
			errors++;
	}
	printf("encrypted %d of %d samples %d errors %d\n", n - notenc, n, samples, errors);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	close(ctl);
	return errors || notenc || sess < (long)n + 2 * l + 1;
}

/* The next hello's delay from the control connection, within 10 s (s),
 * or -1. */
static double next_hello(int ctl)
{
	struct pollfd q = { .fd = ctl, .events = POLLIN };
	double d;

	if (poll(&q, 1, 10000) != 1 || read_all(ctl, &d, sizeof(d)) < 0)
		return -1;
	return d;
}

/* A hello on fd, whose key exchange may not be done: the application
 * does not touch fd again until it arrived. */
static int hello_on(int fd)
{
	char msg[64] = { 'H' };
	double t0 = now_s();

	memcpy(msg + 1, &t0, sizeof(t0));
	return write_all(fd, msg, sizeof(msg));
}

static int fds_fail(const char *what)
{
	fprintf(stderr, "fds: %s: %s\n", what, strerror(errno));
	return 1;
}

static int fds(const char *host, int hold_port, int live_port)
{
	int ctl = connect_to(host, live_port), x, y, x2, w, go[2], st;
	double d[4];
	char ok[3];
	pid_t child;

	if (ctl < 0 || write_all(ctl, "CTL\n", 4) < 0)
		return fds_fail("control connection");
	/* a parked connection registered through x, then known only as y */
	x = connect_to(host, hold_port);
	if (x < 0 || (y = dup(x)) < 0 || close(x) < 0)
		return fds_fail("parked connection, dup");
	/* x's number again, for a live connection: its own registration
	 * while the old entry (x, the parked socket) lives on through y */
	x2 = connect_to(host, live_port);
	if (x2 != x)
		fprintf(stderr, "fds: the live connection got fd %d, not %d\n", x2, x);
	if (x2 < 0 || hello_on(x2) < 0 || (d[0] = next_hello(ctl)) < 0)
		return fds_fail("hello on the reused fd number");
	if (hello_on(y) < 0)
		return fds_fail("hello on the dup");
	/* a parked connection that only a fork child keeps */
	w = connect_to(host, hold_port);
	if (w < 0 || pipe(go) < 0)
		return fds_fail("second parked connection");
	child = fork();
	if (child < 0)
		return fds_fail("fork");
	if (child == 0) {
		int c = connect_to(host, live_port);
		char b;

		close(go[1]);
		if (c < 0 || hello_on(c) < 0 || hello_on(w) < 0)
			_exit(fds_fail("child's hellos"));
		(void)!read(go[0], &b, 1);  /* until the parent got them all */
		close(c);
		close(w);
		_exit(0);
	}
	close(go[0]);
	close(w);
	if ((d[1] = next_hello(ctl)) < 0)
		return fds_fail("the child's live hello");
	if (write_all(ctl, "GO\n", 3) < 0 || read_all(ctl, ok, 3) < 0)
		return fds_fail("GO");
	if ((d[2] = next_hello(ctl)) < 0 || (d[3] = next_hello(ctl)) < 0)
		return fds_fail("hellos of the parked connections (dup, child)");
	if (!encrypted(y))
		return fds_fail("the dup is not encrypted");
	(void)!write(go[1], "x", 1);
	close(go[1]);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fds_fail("the child failed");
	close(y);
	close(x2);
	printf("fds ok, hellos arrived after %.3f %.3f ms (live), %.3f %.3f ms (parked, after accept)\n",
	       d[0] * 1e3, d[1] * 1e3, d[2] * 1e3, d[3] * 1e3);
	close(ctl);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 8 && strcmp(argv[1], "client") == 0)
		return client(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), argv[7]);
	if (argc == 5 && strcmp(argv[1], "fds") == 0)
		return fds(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: parked server HOLD LIVE N | client HOST HOLD LIVE N L KEYLOG | fds HOST HOLD LIVE\n");
	return 2;
}
