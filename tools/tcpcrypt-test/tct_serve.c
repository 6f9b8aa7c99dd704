/*
 * tct_serve.c - see tct_serve.h. One thread, one poll loop over
 * non-blocking sockets: at most TCT_SERVE_MAX connections (the listener
 * is not polled while that many are open), a request head of at most
 * REQ_MAX bytes, REQ_MS to send it and IDLE_MS of keep-alive silence.
 * The shim encrypts and decrypts under the ordinary socket calls; this
 * file only sees plaintext, and reads the session's facts through the
 * TCP_CRYPT_* socket options (tct_page.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tcpcrypt/tcpcrypt.h"
#include "tct_http.h"
#include "tct_page.h"
#include "tct_serve.h"

#define TCT_SERVE_MAX 256
#define REQ_MAX       8192
#define OUT_MAX       16384
#define REQ_MS        10000
#define IDLE_MS       30000
#define DRAIN_MS      2000
#define REEXEC_ENV    "TCPCRYPT_TEST_SERVE_REEXEC"

struct conn {
	int fd;
	struct sockaddr_storage sa;
	socklen_t salen;
	int have_visit;
	struct tct_visit visit;
	size_t in_len, out_off, out_len;
	int closing;                 /* close once out is sent */
	int draining;                /* closing: our side shut, discarding input until EOF */
	long long deadline;          /* monotonic ms */
	char in[REQ_MAX];
	char out[OUT_MAX];
};

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int e = errno;
	char c = (char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a stop is pending anyway */
	}
	errno = e;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when the preloaded shim answers the TCP_CRYPT_* options here. */
static int have_shim(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), x = 0, r;
	socklen_t l = sizeof(x);

	if (fd < 0)
		return 0;
	r = getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_APP_AWARE, &x, &l);
	close(fd);
	return r == 0;
}

/* Runs this program again under tcpcrypt-run with the same arguments.
 * Returns only on failure, with the exit status. */
static int reexec_under_shim(struct tct_ctx *c, int argc, char **argv)
{
	char run[PATH_MAX + 32], shim[PATH_MAX + 32];
	char **av;
	ssize_t n;

	if (getenv(REEXEC_ENV)) {
		fprintf(stderr, "tcpcrypt-test: the shim did not load under tcpcrypt-run "
			"(LD_PRELOAD=%s)\n", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
		return 1;
	}
	n = readlink("/proc/self/exe", c->self, sizeof(c->self) - 1);
	if (n <= 0) {
		fprintf(stderr, "tcpcrypt-test: cannot find myself: %s\n", strerror(errno));
		return 1;
	}
	c->self[n] = '\0';
	tct_find_run(c, run, sizeof(run), shim, sizeof(shim));
	av = calloc((size_t)argc + 2, sizeof(*av));
	if (!av) {
		fprintf(stderr, "tcpcrypt-test: out of memory\n");
		return 1;
	}
	av[0] = run;
	av[1] = c->self;
	memcpy(av + 2, argv + 1, (size_t)(argc - 1) * sizeof(*av));
	setenv(REEXEC_ENV, "1", 1);
	setenv("TCPCRYPT_CONTROL", c->control, 1);   /* -u, for the shim's divert client */
	fflush(stdout);
	execv(run, av);
	fprintf(stderr, "tcpcrypt-test: cannot run %s: %s (run tcpcrypt-test --serve under "
		"tcpcrypt-run yourself)\n", run, strerror(errno));
	free(av);
	return 1;
}

/* A listening socket on port of every address (IPv6 with IPv4 mapped, or
 * IPv4 alone where IPv6 is off), or a negative errno. */
static int open_listener(unsigned port)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int one = 1, zero = 0, fd, e;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0 && listen(fd, 128) == 0)
			return fd;
		e = errno;
		close(fd);
		if (e != EADDRNOTAVAIL && e != EAFNOSUPPORT)
			return -e;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&s4, sizeof(s4)) < 0 || listen(fd, 128) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Says whether the listener took part in TCP-ENO (else every visitor
 * gets plain TCP). */
static void report_listener(int fd, unsigned port)
{
	struct tcpcrypt_eno_result res;
	socklen_t l = sizeof(res);

	printf("tcpcrypt-test: serving the test page on port %u (http://HOST:%u/, text form "
	       "http://HOST:%u/?plain); one line per request follows\n", port, port, port);
	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_ENO_RESULT, &res, &l) < 0)
		fprintf(stderr, "tcpcrypt-test: warning: the listening socket is not opted in to "
			"TCP-ENO (%s; is tcpcryptd running?): visitors will get plain TCP\n",
			strerror(errno));
}

static void log_error(const struct conn *k, int status, const char *why)
{
	char peer[80];

	tct_addr_str((const struct sockaddr *)&k->sa, k->salen, peer, sizeof(peer));
	printf("peer=%s status=%d error=\"%s\"\n", peer, status, why);
}

/* Queues a response; an error closes the connection after it. */
static void respond(struct conn *k, int status, const char *ctype, const char *body, size_t blen,
                    int head_only, int keep_alive)
{
	k->out_off = 0;
	k->out_len = tct_http_response(k->out, sizeof(k->out), status, ctype, body, blen, head_only,
				       keep_alive);
	if (!keep_alive)
		k->closing = 1;
}

static void respond_error(struct conn *k, int status, const char *why, int keep_alive)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, why);

	log_error(k, status, why);
	respond(k, status, "text/plain; charset=utf-8", body, (size_t)n, 0, keep_alive);
}

/* Answers one complete request head. */
static void answer(struct conn *k, const char *head, size_t len)
{
	static char body[OUT_MAX - 512];
	struct tct_req r;
	size_t n;

	tct_http_parse(head, len, &r);
	if (r.status) {
		respond_error(k, r.status, r.error, r.keep_alive);
		return;
	}
	if (!k->have_visit) {
		tct_visit_read(k->fd, (struct sockaddr *)&k->sa, k->salen, &k->visit);
		k->have_visit = 1;
	}
	n = tct_visit_line(&k->visit, body, sizeof(body) - 1);
	printf("%s\n", body);
	if (r.want_text) {
		body[n++] = '\n';
		respond(k, 200, "text/plain; charset=utf-8", body, n, r.head_only, r.keep_alive);
		return;
	}
	n = tct_visit_html(&k->visit, body, sizeof(body));
	if (!n) {
		respond_error(k, 500, "the page does not fit", 0);
		return;
	}
	respond(k, 200, "text/html; charset=utf-8", body, n, r.head_only, r.keep_alive);
}

/* Answers the next request in k->in if it is complete. */
static void process(struct conn *k)
{
	size_t h = tct_http_head_len(k->in, k->in_len);

	if (!h) {
		if (k->in_len == sizeof(k->in))
			respond_error(k, 431, "request head larger than 8192 bytes", 0);
		return;
	}
	answer(k, k->in, h);
	memmove(k->in, k->in + h, k->in_len - h);
	k->in_len -= h;
}

/* Sends what is queued. Returns 0, or -1 when the connection is done. */
static int flush_out(struct conn *k)
{
	ssize_t n;

	while (k->out_off < k->out_len) {
		n = send(k->fd, k->out + k->out_off, k->out_len - k->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			k->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1;
	}
	k->out_off = k->out_len = 0;
	if (k->closing) {
		/* a lingering close: closing with unread input would reset the
		 * connection, and the client could lose the answer */
		shutdown(k->fd, SHUT_WR);
		k->draining = 1;
		k->deadline = now_ms() + DRAIN_MS;
		return 0;
	}
	k->deadline = now_ms() + (k->in_len ? REQ_MS : IDLE_MS);
	return 0;
}

/* Reads what arrived. Returns 0, or -1 when the connection is done. */
static int read_in(struct conn *k)
{
	ssize_t n;

	if (k->in_len == sizeof(k->in))
		return 0;
	n = recv(k->fd, k->in + k->in_len, sizeof(k->in) - k->in_len, 0);
	if (n == 0)
		return -1;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (k->in_len == 0)
		k->deadline = now_ms() + REQ_MS;
	k->in_len += (size_t)n;
	return 0;
}

/* Discards input after our answer to a bad request. Returns -1 at EOF. */
static int drain(struct conn *k)
{
	ssize_t n = recv(k->fd, k->in, sizeof(k->in), 0);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return 0;
	return -1;
}

/* One round of work on k after poll said revents. Returns -1 to close. */
static int serve_conn(struct conn *k, short revents)
{
	if (revents & POLLNVAL)
		return -1;
	if (k->draining)
		return drain(k);
	if ((revents & (POLLOUT | POLLERR | POLLHUP)) && k->out_len && flush_out(k) < 0)
		return -1;
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !k->out_len && read_in(k) < 0)
		return -1;
	while (!k->out_len && !k->closing && k->in_len) {
		size_t before = k->in_len;

		process(k);
		if (!k->out_len && k->in_len == before)
			break;          /* incomplete: wait for more */
	}
	if (k->out_len && flush_out(k) < 0)
		return -1;
	return 0;
}

static void drop(struct conn **conns, int i, int *n)
{
	close(conns[i]->fd);
	free(conns[i]);
	conns[i] = conns[--*n];
}

/* Accepts what is pending while there is room. */
static void accept_all(int lfd, struct conn **conns, int *n)
{
	struct conn *k;

	while (*n < TCT_SERVE_MAX) {
		k = calloc(1, sizeof(*k));
		if (!k)
			return;
		k->salen = sizeof(k->sa);
		k->fd = accept4(lfd, (struct sockaddr *)&k->sa, &k->salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (k->fd < 0) {
			free(k);
			return;
		}
		k->deadline = now_ms() + REQ_MS;
		conns[(*n)++] = k;
	}
}

/* The poll loop, until a signal arrives on sig_pipe. */
static void serve_loop(int lfd, struct conn **conns)
{
	static struct pollfd p[TCT_SERVE_MAX + 2];
	long long t, next;
	int n = 0, i, np, r;

	for (;;) {
		t = now_ms();
		next = t + IDLE_MS;
		p[0] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = n < TCT_SERVE_MAX ? lfd : -1, .events = POLLIN };
		for (i = 0; i < n; i++) {
			p[2 + i].fd = conns[i]->fd;
			p[2 + i].events = conns[i]->out_len ? POLLOUT : POLLIN;
			p[2 + i].revents = 0;
			if (conns[i]->deadline < next)
				next = conns[i]->deadline;
		}
		np = n;
		r = poll(p, (nfds_t)(2 + np), (int)(next > t ? next - t : 0));
		if (r < 0 && errno != EINTR) {
			perror("tcpcrypt-test: poll");
			break;
		}
		if (r > 0 && p[0].revents)
			break;
		t = now_ms();
		/* backwards, so that drop() moves only connections already seen */
		for (i = np - 1; i >= 0; i--) {
			short ev = r > 0 ? p[2 + i].revents : 0;

			if ((ev && serve_conn(conns[i], ev) < 0) || (!ev && conns[i]->deadline <= t))
				drop(conns, i, &n);
		}
		if (r > 0 && p[1].revents)
			accept_all(lfd, conns, &n);
		fflush(stdout);
	}
	while (n > 0)
		drop(conns, n - 1, &n);
}

int tct_serve(struct tct_ctx *c, const char *port, int argc, char **argv)
{
	struct sigaction sa;
	struct conn **conns;
	char *end;
	long pn = strtol(port, &end, 10);
	int lfd;

	if (*end || pn < 1 || pn > 65535) {
		fprintf(stderr, "tcpcrypt-test: bad port '%s' (1-65535)\n", port);
		return 2;
	}
	if (!have_shim())
		return reexec_under_shim(c, argc, argv);
	unsetenv(REEXEC_ENV);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("tcpcrypt-test: pipe");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = open_listener((unsigned)pn);
	if (lfd < 0) {
		fprintf(stderr, "tcpcrypt-test: cannot listen on port %ld: %s\n", pn, strerror(-lfd));
		return 1;
	}
	conns = calloc(TCT_SERVE_MAX, sizeof(*conns));
	if (!conns) {
		close(lfd);
		fprintf(stderr, "tcpcrypt-test: out of memory\n");
		return 1;
	}
	report_listener(lfd, (unsigned)pn);
	serve_loop(lfd, conns);
	free(conns);
	close(lfd);
	fprintf(stderr, "tcpcrypt-test: stopped\n");
	return 0;
}
