/*
 * bench_connect - cost of TCP-ENO on connection setup.
 *
 *   bench_connect server PORT COUNT [--opt-in]
 *       accepts COUNT connections (getsockopt of the ENO result when opted
 *       in, then close), then prints its CPU time per connection.
 *   bench_connect client ADDR NONE_PORT PLAIN_PORT OPTIN_PORT CONNS REPS
 *                 [CGROUP_NONE CGROUP_ATTACHED]   (directories, or fd:N)
 *       REPS rounds; each round makes CONNS connections in each mode, the
 *       order rotating: "none" (to NONE_PORT from CGROUP_NONE, where no
 *       programs run; only when the cgroups are given), "plain" (to
 *       PLAIN_PORT, not opted in) and "opt-in" (to OPTIN_PORT, setsockopt
 *       before connect, getsockopt after); the client moves itself between
 *       the cgroups. Prints median / p90 / p99 latency (socket() to
 *       connected and, when opted in, the result read), client CPU per
 *       connection, and the median of the per-round opt-in - plain
 *       differences.
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

/* Moves this process into a cgroup (its new sockets belong to it): dir is
 * a cgroup directory, or "fd:N" for a cgroup.procs file opened for us
 * before `ip netns exec` (its sysfs has no cgroup mounts). */
static int join_cgroup(const char *dir)
{
	char path[4096], pid[32];
	int fd, n, r;

	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (!strncmp(dir, "fd:", 3))
		return write(atoi(dir + 3), pid, n) == n ? 0 : -1;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = write(fd, pid, n) == n ? 0 : -1;
	close(fd);
	return r;
}

static const char *const mode_name[3] = { "none", "plain", "opt-in" };

/* Modes: 0 "none": plain socket in a cgroup without the programs (only
 * with cgroups given), 1 "plain": plain socket where the programs run,
 * 2 "opt-in". */
static int client(const char *addr, const int *port, long conns, int reps, char *const *cg)
{
	struct sockaddr_in a[3];
	double *lat[3], *rdiff, cpu[3] = { 0, 0, 0 }, c0, t;
	long n[3] = { 0, 0, 0 }, ok[3] = { 0, 0, 0 }, errs = 0, i;
	int r, k, m, nrd = 0, first = cg ? 0 : 1;

	for (m = 0; m < 3; m++) {
		memset(&a[m], 0, sizeof(a[m]));
		a[m].sin_family = AF_INET;
		a[m].sin_port = htons(port[m]);
		inet_pton(AF_INET, addr, &a[m].sin_addr);
		lat[m] = calloc(conns * reps, sizeof(double));
		if (!lat[m])
			return 1;
	}
	rdiff = calloc(reps, sizeof(double));
	if (!rdiff)
		return 1;
	for (r = 0; r < reps; r++) {
		long start[3] = { n[0], n[1], n[2] };

		for (k = first; k < 3; k++) {
			/* rotate which mode goes first */
			m = first + (r + k - first) % (3 - first);
			if (cg && join_cgroup(cg[m == 0 ? 0 : 1]) < 0) {
				perror("bench_connect: cgroup.procs");
				return 1;
			}
			c0 = cpu_us();
			for (i = 0; i < conns; i++) {
				t = one_conn(&a[m], m == 2, &ok[m]);
				if (t < 0)
					errs++;
				else
					lat[m][n[m]++] = t;
			}
			cpu[m] += cpu_us() - c0;
		}
		/* this round's median difference opt-in - plain (drift cancels) */
		if (n[1] > start[1] && n[2] > start[2]) {
			qsort(lat[1] + start[1], n[1] - start[1], sizeof(double), cmp);
			qsort(lat[2] + start[2], n[2] - start[2], sizeof(double), cmp);
			rdiff[nrd++] = lat[2][start[2] + (n[2] - start[2]) / 2] -
				       lat[1][start[1] + (n[1] - start[1]) / 2];
		}
	}
	for (m = first; m < 3; m++) {
		qsort(lat[m], n[m], sizeof(double), cmp);
		printf("client mode=%s conns=%ld eno_ok=%ld p50_us=%.1f p90_us=%.1f p99_us=%.1f "
		       "cpu_us_per_conn=%.2f\n", mode_name[m], n[m], ok[m],
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
	for (m = 0; m < 3; m++)
		free(lat[m]);
	return errs ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), atol(argv[3]), argc > 4 && !strcmp(argv[4], "--opt-in"));
	if ((argc == 8 || argc == 10) && !strcmp(argv[1], "client")) {
		int port[3] = { atoi(argv[3]), atoi(argv[4]), atoi(argv[5]) };

		return client(argv[2], port, atol(argv[6]), atoi(argv[7]), argc == 10 ? argv + 8 : NULL);
	}
	fprintf(stderr, "usage: bench_connect server PORT COUNT [--opt-in]\n"
			"       bench_connect client ADDR NONE_PORT PLAIN_PORT OPTIN_PORT CONNS REPS"
			" [CGROUP_NONE CGROUP_ATTACHED]\n");
	return 2;
}
