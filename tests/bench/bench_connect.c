/*
 * bench_connect - cost of TCP-ENO on connection setup.
 *
 *   bench_connect server PORT COUNT [--opt-in]
 *       accepts COUNT connections (getsockopt of the ENO result when opted
 *       in, then close), then prints its CPU time per connection.
 *   bench_connect client ADDR PLAIN_PORT OPTIN_PORT CONNS REPS
 *       REPS rounds; each round makes CONNS connections to PLAIN_PORT
 *       without opting in, then CONNS to OPTIN_PORT opting in (setsockopt
 *       before connect, getsockopt after), alternating which goes first.
 *       (OPTIN_PORT 0: plain only). Prints median / p99 latency (socket() to connected and, when opted
 *       in, the result read) and client CPU per connection for each mode.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include "tcpcrypt/eno_abi.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static int offer(int fd, int listener)
{
	struct tcpcrypt_eno_offer o;

	memset(&o, 0, sizeof(o));
	o.version = TCPCRYPT_ENO_ABI_VERSION;
	if (listener) {
		o.len = 2;
		o.content[0] = 0x01;
		o.content[1] = 0x23;
	} else {
		o.len = 1;
		o.content[0] = 0x23;
	}
	return setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &o, sizeof(o));
}

static int result_ok(int fd)
{
	struct tcpcrypt_eno_result r;
	socklen_t len = sizeof(r);

	if (getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &r, &len) < 0)
		return 0;
	return !!(r.flags & TCPCRYPT_RES_F_ENO_OK);
}

static int server(int port, long count, int opt_in)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), c, one = 1;
	long i, ok = 0;
	double c0;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (opt_in && offer(fd, 1) < 0)
		return perror("setsockopt offer"), 1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0)
		return perror("bind/listen"), 1;
	c0 = cpu_us();
	for (i = 0; i < count; i++) {
		c = accept(fd, NULL, NULL);
		if (c < 0)
			return perror("accept"), 1;
		if (opt_in)
			ok += result_ok(c);
		close(c);
	}
	printf("server port=%d opt_in=%d conns=%ld eno_ok=%ld cpu_us_per_conn=%.2f\n", port, opt_in,
	       count, ok, (cpu_us() - c0) / count);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One connection; returns its latency in us, or -1. */
static double one_conn(const struct sockaddr_in *a, int opt_in, long *ok)
{
	double t0 = now_us(), t;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (opt_in && offer(fd, 0) < 0) {
		close(fd);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0) {
		close(fd);
		return -1;
	}
	if (opt_in)
		*ok += result_ok(fd);
	t = now_us() - t0;
	close(fd);
	return t;
}

static int client(const char *addr, int pport, int oport, long conns, int reps)
{
	struct sockaddr_in a[2] = { { .sin_family = AF_INET, .sin_port = htons(pport) },
				    { .sin_family = AF_INET, .sin_port = htons(oport) } };
	double *lat[2], *rdiff, cpu[2] = { 0, 0 }, c0, t;
	long n[2] = { 0, 0 }, ok[2] = { 0, 0 }, errs = 0, i;
	int r, k, m, nrd = 0;

	inet_pton(AF_INET, addr, &a[0].sin_addr);
	a[1].sin_addr = a[0].sin_addr;
	lat[0] = calloc(conns * reps, sizeof(double));
	lat[1] = calloc(conns * reps, sizeof(double));
	if (!lat[0] || !lat[1])
		return 1;
	rdiff = calloc(reps, sizeof(double));
	if (!rdiff)
		return 1;
	for (r = 0; r < reps; r++) {
		long start[2] = { n[0], n[1] };

		for (k = 0; k < 2; k++) {
			m = (r + k) & 1;       /* alternate which mode goes first */
			if (m == 1 && oport == 0)
				continue;      /* plain only */
			c0 = cpu_us();
			for (i = 0; i < conns; i++) {
				t = one_conn(&a[m], m, &ok[m]);
				if (t < 0)
					errs++;
				else
					lat[m][n[m]++] = t;
			}
			cpu[m] += cpu_us() - c0;
		}
		/* this round's median difference (drift between rounds cancels) */
		if (oport && n[0] > start[0] && n[1] > start[1]) {
			qsort(lat[0] + start[0], n[0] - start[0], sizeof(double), cmp);
			qsort(lat[1] + start[1], n[1] - start[1], sizeof(double), cmp);
			rdiff[nrd++] = lat[1][start[1] + (n[1] - start[1]) / 2] -
				       lat[0][start[0] + (n[0] - start[0]) / 2];
		}
	}
	for (m = 0; m < (oport ? 2 : 1); m++) {
		qsort(lat[m], n[m], sizeof(double), cmp);
		printf("client mode=%s conns=%ld eno_ok=%ld p50_us=%.1f p90_us=%.1f p99_us=%.1f "
		       "cpu_us_per_conn=%.2f\n", m ? "opt-in" : "plain", n[m], ok[m],
		       n[m] ? lat[m][n[m] / 2] : 0, n[m] ? lat[m][n[m] * 9 / 10] : 0,
		       n[m] ? lat[m][n[m] * 99 / 100] : 0, n[m] ? cpu[m] / n[m] : 0);
	}
	if (nrd) {
		qsort(rdiff, nrd, sizeof(double), cmp);
		printf("client paired_rounds=%d median_of_round_diffs_us=%.1f min=%.1f max=%.1f\n", nrd,
		       rdiff[nrd / 2], rdiff[0], rdiff[nrd - 1]);
	}
	printf("client errors=%ld\n", errs);
	free(rdiff);
	free(lat[0]);
	free(lat[1]);
	return errs ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), atol(argv[3]), argc > 4 && !strcmp(argv[4], "--opt-in"));
	if (argc == 7 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atoi(argv[4]), atol(argv[5]), atoi(argv[6]));
	fprintf(stderr, "usage: bench_connect server PORT COUNT [--opt-in]\n"
			"       bench_connect client ADDR PLAIN_PORT OPTIN_PORT CONNS REPS\n");
	return 2;
}
