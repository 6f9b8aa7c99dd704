/*
 * bench_net - plain TCP programs for bench_all.sh. They know nothing of
 * tcpcrypt except one getsockopt (TCP_CRYPT_AEAD, answered by the shim when
 * run under tcpcrypt-run) that reports what protected the connection, so a
 * case that silently fell back to plain TCP shows up in the output.
 *
 *   bench_net bulk-recv PORT COUNT
 *       accepts COUNT connections one after the other; each sends an 8-byte
 *       length and that many bytes, which are read (256 KiB reads) and
 *       answered with one byte; prints the CPU time each took (cpu_s=).
 *   bench_net bulk-send ADDR PORT BYTES
 *       sends BYTES (256 KiB writes) and waits for the answer; prints
 *       secs= (connect to answer), MBps= (10^6 bytes per second) and
 *       cpu_s= (its CPU time, user + system).
 *   bench_net echo PORT
 *       echo server (poll, any number of connections) until killed.
 *   bench_net rps ADDR PORT SECONDS
 *       new connection per request for SECONDS: connect, write 1 byte, read
 *       1 byte, close; prints conns=, cps= and cpu_s=.
 *   bench_net lat ADDR PORT COUNT SIZE FILE
 *       one connection, COUNT round trips of SIZE bytes; writes each round
 *       trip time in microseconds to FILE (one a line), prints p50/p99.
 *   bench_net hold-server PORT COUNT
 *   bench_net hold-client ADDR PORT COUNT
 *       open COUNT connections (each exchanges one byte each way, so any
 *       key exchange is done), print VmRSS before and after and "ready",
 *       then sleep until killed.
 *
 * Every output line is "key=value ..." for the script to pick apart.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include "tcpcrypt/tcpcrypt.h"

#define BUF_SIZE (256 * 1024)

static unsigned char buf[BUF_SIZE];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_net: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* What protects fd: "aes128gcm", "aes256gcm", "chacha20poly1305", or "plain". */
static const char *protection(int fd)
{
	int aead = 0;
	socklen_t len = sizeof(aead);

	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_AEAD, &aead, &len) < 0)
		return "plain";
	switch (aead) {
	case TCPCRYPT_AEAD_AES_128_GCM: return "aes128gcm";
	case TCPCRYPT_AEAD_AES_256_GCM: return "aes256gcm";
	case TCPCRYPT_AEAD_CHACHA20_POLY1305: return "chacha20poly1305";
	default: return "other";
	}
}

/* CPU time (user + system) of this process so far, in seconds. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int listen_on(const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static int connect_to(const char *addr, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "bench_net: bad address %s\n", addr);
		exit(2);
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		c += w;
		n -= (size_t)w;
	}
}

/* Reads exactly n bytes; returns 0 at EOF before any byte. */
static int read_all(int fd, void *p, size_t n)
{
	unsigned char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, c + got, n - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EPIPE;
			die("read (short)");
		}
		got += (size_t)r;
	}
	return 1;
}

static int bulk_recv(const char *port, long count)
{
	int l = listen_on(port);

	printf("listening pid=%ld\n", (long)getpid());
	fflush(stdout);
	for (long i = 0; i < count; i++) {
		int c = accept(l, NULL, NULL);
		uint64_t total, got = 0;
		double t0, c0 = cpu_s();

		if (c < 0)
			die("accept");
		if (!read_all(c, &total, sizeof(total)))
			die("header");
		t0 = now();
		while (got < total) {
			size_t want = total - got < BUF_SIZE ? (size_t)(total - got) : BUF_SIZE;
			ssize_t r = read(c, buf, want);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				die("bulk read");
			got += (uint64_t)r;
		}
		write_all(c, "k", 1);
		printf("recv bytes=%llu secs=%.6f cpu_s=%.3f prot=%s\n", (unsigned long long)got,
		       now() - t0, cpu_s() - c0, protection(c));
		fflush(stdout);
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
	return 0;
}

static int bulk_send(const char *addr, const char *port, uint64_t total)
{
	double t0 = now(), t1;
	int fd = connect_to(addr, port);
	uint64_t sent = 0;
	char ack;

	memset(buf, 0x5a, sizeof(buf));
	write_all(fd, &total, sizeof(total));
	while (sent < total) {
		size_t n = total - sent < BUF_SIZE ? (size_t)(total - sent) : BUF_SIZE;

		write_all(fd, buf, n);
		sent += n;
	}
	if (!read_all(fd, &ack, 1))
		die("no answer");
	t1 = now();
	printf("send bytes=%llu secs=%.6f MBps=%.1f cpu_s=%.3f prot=%s\n", (unsigned long long)total,
	       t1 - t0, (double)total / (t1 - t0) / 1e6, cpu_s(), protection(fd));
	close(fd);
	return 0;
}

static _Noreturn void echo_server(const char *port)
{
	int cap = 64, n = 1;
	struct pollfd *p = calloc((size_t)cap, sizeof(*p));

	if (!p)
		die("calloc");
	p[0].fd = listen_on(port);
	p[0].events = POLLIN;
	printf("listening pid=%ld\n", (long)getpid());
	fflush(stdout);
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (int i = n - 1; i >= 1; i--) {
			ssize_t r;

			if (!p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			if (r > 0) {
				write_all(p[i].fd, buf, (size_t)r);
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			close(p[i].fd);
			p[i] = p[--n];
		}
		if (p[0].revents & POLLIN) {
			int c = accept(p[0].fd, NULL, NULL), one = 1;

			if (c < 0)
				continue;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (n == cap) {
				cap *= 2;
				p = realloc(p, (size_t)cap * sizeof(*p));
				if (!p)
					die("realloc");
			}
			p[n].fd = c;
			p[n].events = POLLIN;
			p[n].revents = 0;
			n++;
		}
	}
}

static int rps(const char *addr, const char *port, double secs)
{
	double t0 = now(), t;
	long conns = 0;
	const char *prot = "?";
	char b = 'x';

	do {
		int fd = connect_to(addr, port);

		write_all(fd, &b, 1);
		if (!read_all(fd, &b, 1))
			die("rps: no reply");
		if (conns == 0)
			prot = protection(fd);
		close(fd);
		conns++;
		t = now();
	} while (t - t0 < secs);
	printf("rps conns=%ld secs=%.6f cps=%.1f cpu_s=%.3f prot=%s\n", conns, t - t0, conns / (t - t0),
	       cpu_s(), prot);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int lat(const char *addr, const char *port, long count, size_t size, const char *file)
{
	int fd = connect_to(addr, port);
	double *v = calloc((size_t)count, sizeof(*v));
	FILE *out = fopen(file, "w");

	if (!v || !out || size == 0 || size > sizeof(buf))
		die("lat setup");
	memset(buf, 'r', size);
	/* a few round trips first: the key exchange and slow start */
	for (int i = 0; i < 50; i++) {
		write_all(fd, buf, size);
		read_all(fd, buf, size);
	}
	for (long i = 0; i < count; i++) {
		double t0 = now();

		write_all(fd, buf, size);
		if (!read_all(fd, buf, size))
			die("lat: EOF");
		v[i] = (now() - t0) * 1e6;
		fprintf(out, "%.3f\n", v[i]);
	}
	fclose(out);
	printf("lat count=%ld size=%zu prot=%s", count, size, protection(fd));
	qsort(v, (size_t)count, sizeof(*v), cmp_double);
	printf(" p50_us=%.2f p99_us=%.2f\n", v[count / 2], v[count * 99 / 100]);
	close(fd);
	free(v);
	return 0;
}

static _Noreturn void report_and_sleep(const char *who, long before, long count, long enc)
{
	long after = rss_kb();

	printf("%s pid=%ld conns=%ld encrypted=%ld rss_kb_before=%ld rss_kb_after=%ld\nready\n", who,
	       (long)getpid(), count, enc, before, after);
	fflush(stdout);
	for (;;)
		pause();
}

static _Noreturn void hold_server(const char *port, long count)
{
	int l = listen_on(port);
	long before = rss_kb(), enc = 0;
	char b;

	printf("listening pid=%ld\n", (long)getpid());
	fflush(stdout);
	for (long i = 0; i < count; i++) {
		int c = accept(l, NULL, NULL);

		if (c < 0)
			die("accept");
		if (!read_all(c, &b, 1))
			die("hold: EOF");
		write_all(c, &b, 1);
		enc += strcmp(protection(c), "plain") != 0;
	}
	report_and_sleep("hold-server", before, count, enc);
}

static _Noreturn void hold_client(const char *addr, const char *port, long count)
{
	long before = rss_kb(), enc = 0;
	char b = 'h';

	for (long i = 0; i < count; i++) {
		int fd = connect_to(addr, port);

		write_all(fd, &b, 1);
		if (!read_all(fd, &b, 1))
			die("hold: EOF");
		enc += strcmp(protection(fd), "plain") != 0;
	}
	report_and_sleep("hold-client", before, count, enc);
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_net bulk-recv PORT COUNT | bulk-send ADDR PORT BYTES | echo PORT |\n"
	                "       rps ADDR PORT SECONDS | lat ADDR PORT COUNT SIZE FILE |\n"
	                "       hold-server PORT COUNT | hold-client ADDR PORT COUNT\n");
	return 2;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "bulk-recv"))
		return bulk_recv(argv[2], atol(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "bulk-send"))
		return bulk_send(argv[2], argv[3], strtoull(argv[4], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "echo"))
		echo_server(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "rps"))
		return rps(argv[2], argv[3], atof(argv[4]));
	if (argc == 7 && !strcmp(argv[1], "lat"))
		return lat(argv[2], argv[3], atol(argv[4]), (size_t)atol(argv[5]), argv[6]);
	if (argc == 4 && !strcmp(argv[1], "hold-server"))
		hold_server(argv[2], atol(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "hold-client"))
		hold_client(argv[2], argv[3], atol(argv[4]));
	return usage();
}
