/*
 * tct_selftest.c - the encrypted loopback connection of `tcpcrypt-test`
 * (no arguments): this program re-executes itself under tcpcrypt-run as a
 * shimmed server on 127.0.0.1, then connects to it twice: once with the
 * engine directly (tct_probe, which reports the ENO options and the AEAD),
 * once as a shimmed client. Both ends' session IDs must agree.
 *
 * The peers talk to the tool one line at a time on their stdout:
 *   "port N"       the server listens on 127.0.0.1:N
 *   "sessid HEX"   the session ID that getsockopt(TCP_CRYPT_SESSID) gave
 *   "nosess WHY"   getsockopt(TCP_CRYPT_SESSID) failed
 * Anything else (tcpcrypt-run's or the shim's messages) is shown on failure.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tcpcrypt/tcpcrypt.h"
#include "session.h"
#include "tct_host.h"
#include "tct_probe.h"

/* ---- the peers (run under the shim) ---- */

/* Prints the session ID of fd, or why there is none. */
static void report_sessid(int fd)
{
	uint8_t id[TCPCRYPT_SESSID_MAX];
	char hex[2 * TCPCRYPT_SESSID_MAX + 1];
	socklen_t l = sizeof(id);
	int i, r;

	/* accept() does not wait for Init1: the shim's progress thread
	 * finishes the exchange; the ID exists once it has */
	for (i = 0; i < 500; i++) {
		l = sizeof(id);
		r = getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &l);
		if (r == 0 || errno != ENOTCONN)
			break;
		usleep(10000);
	}
	if (r == 0 && l <= sizeof(id)) {
		tct_hex(id, l, hex);
		printf("sessid %s\n", hex);
	} else {
		printf("nosess %s\n", strerror(errno));
	}
	fflush(stdout);
}

/* Reads until EOF (or an error). */
static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int tct_peer_server(int nconn)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t l = sizeof(sin);
	int fd, c, i;

	alarm(30);      /* never outlive a tool that went away */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &l) < 0) {
		printf("error listen: %s\n", strerror(errno));
		return 1;
	}
	printf("port %u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (i = 0; i < nconn; i++) {
		c = accept(fd, NULL, NULL);
		if (c < 0) {
			printf("error accept: %s\n", strerror(errno));
			return 1;
		}
		report_sessid(c);
		drain(c);
		close(c);
	}
	close(fd);
	return 0;
}

int tct_peer_client(const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd;

	alarm(30);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)atoi(port));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		printf("error connect: %s\n", strerror(errno));
		return 1;
	}
	report_sessid(fd);
	shutdown(fd, SHUT_WR);
	drain(fd);
	close(fd);
	return 0;
}

/* ---- the tool's side ---- */

struct peer {
	pid_t pid;
	int fd;              /* the read end of its stdout and stderr */
	char buf[4096];      /* unparsed output */
	size_t len;
	char other[2048];    /* lines that were not protocol lines */
	size_t olen;
};

/* Starts `run self args...` with stdout and stderr into a pipe. */
static int spawn(struct peer *p, const char *run, const char *self, const char *mode, const char *arg)
{
	int fds[2];

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	p->pid = fork();
	if (p->pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execl(run, run, self, mode, arg, (char *)NULL);
		printf("error exec %s: %s\n", run, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	if (p->pid < 0) {
		close(fds[0]);
		return -errno;
	}
	p->fd = fds[0];
	return 0;
}

/* Next protocol line of p (without the newline) into line; other lines are
 * kept for the failure message. Returns 0, -ETIMEDOUT or -EPIPE. */
static int next_line(struct peer *p, char *line, size_t cap, int timeout_ms)
{
	struct timespec t0, t1;
	struct pollfd pf = { .fd = p->fd, .events = POLLIN };
	char *nl;
	ssize_t n;
	size_t k;
	int left = timeout_ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		while ((nl = memchr(p->buf, '\n', p->len))) {
			k = (size_t)(nl - p->buf);
			*nl = '\0';
			if (!strncmp(p->buf, "port ", 5) || !strncmp(p->buf, "sessid ", 7) ||
			    !strncmp(p->buf, "nosess ", 7)) {
				size_t m = k < cap - 1 ? k : cap - 1;

				memcpy(line, p->buf, m);
				line[m] = '\0';
				memmove(p->buf, nl + 1, p->len - k - 1);
				p->len -= k + 1;
				return 0;
			}
			if (p->olen + k + 2 < sizeof(p->other)) {
				memcpy(p->other + p->olen, p->buf, k);
				p->olen += k;
				p->other[p->olen++] = ';';
				p->other[p->olen] = '\0';
			}
			memmove(p->buf, nl + 1, p->len - k - 1);
			p->len -= k + 1;
		}
		if (p->len == sizeof(p->buf))
			p->len = 0;     /* a line too long to be ours */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = timeout_ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, left) <= 0)
			continue;
		n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);
		if (n <= 0)
			return -EPIPE;
		p->len += (size_t)n;
	}
}

/* Waits for p to exit (killing it after timeout_ms); returns its status. */
static int reap(struct peer *p, int timeout_ms)
{
	int st = 0, i;

	if (p->pid <= 0)
		return -1;
	for (i = 0; i < timeout_ms / 10; i++) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid)
			goto done;
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &st, 0);
	st = -1;
done:
	close(p->fd);
	p->pid = -1;
	return st;
}

/* What a peer said besides the protocol, for a failure message. */
static const char *chatter(const struct peer *p)
{
	return p->olen ? p->other : "nothing";
}

/* The engine client against the shimmed server; fills hex with the ID. */
static int probe_once(struct tct_ctx *c, struct peer *srv, const char *port, char *hex)
{
	const char *what = "encrypted loopback connection (engine -> shim)";
	struct tct_probe_result r;
	char line[256], lo[2 * TCPCRYPT_ENO_OPT_MAX + 1], pe[2 * TCPCRYPT_ENO_OPT_MAX + 1];

	tct_probe("127.0.0.1", port, c->timeout_ms, &r);
	if (r.status != TCT_PROBE_ENCRYPTED) {
		tct_check(c, TCT_FAIL, what, "%s%s", r.err,
			  r.status == TCT_PROBE_FALLBACK ? " (the shimmed server did not negotiate)" : "");
		return -EPROTO;
	}
	tct_hex(r.sessid, r.sessid_len, hex);
	if (next_line(srv, line, sizeof(line), c->timeout_ms) < 0 || strncmp(line, "sessid ", 7)) {
		tct_check(c, TCT_FAIL, what, "the shimmed server has no session: %s (it said: %s)",
			  line[0] && strncmp(line, "port", 4) ? line : "no answer", chatter(srv));
		return -EPROTO;
	}
	if (strcmp(line + 7, hex)) {
		tct_check(c, TCT_FAIL, what, "session IDs differ: ours %s, the server's %s", hex, line + 7);
		return -EPROTO;
	}
	tct_hex(r.local_opt, r.local_len, lo);
	tct_hex(r.peer_opt, r.peer_len, pe);
	tct_check(c, TCT_OK, what, "ENO ours %s, peer's %s, role %c, %s, same session ID at both ends",
		  lo, pe, r.role == TCPCRYPT_ROLE_B ? 'B' : 'A', tc_aead_name(r.aead));
	return 0;
}

/* The shimmed client against the shimmed server; fills hex with the ID. */
static int shim_client_once(struct tct_ctx *c, const char *run, struct peer *srv, const char *port,
			    char *hex, size_t hexcap)
{
	const char *what = "encrypted loopback connection (shim -> shim)";
	struct peer cli;
	char line[256] = "", sline[256] = "";
	int r;

	if (spawn(&cli, run, c->self, "--peer-client", port) < 0) {
		tct_check(c, TCT_FAIL, what, "cannot start %s: %s", run, strerror(errno));
		return -EAGAIN;
	}
	r = next_line(&cli, line, sizeof(line), c->timeout_ms);
	if (r == 0)
		r = next_line(srv, sline, sizeof(sline), c->timeout_ms);
	reap(&cli, c->timeout_ms);
	if (r < 0 || strncmp(line, "sessid ", 7) || strncmp(sline, "sessid ", 7)) {
		tct_check(c, TCT_FAIL, what, "client: %s (it said: %s); server: %s",
			  line[0] ? line : "no answer", chatter(&cli), sline[0] ? sline : "no answer");
		return -EPROTO;
	}
	if (strcmp(line + 7, sline + 7)) {
		tct_check(c, TCT_FAIL, what, "session IDs differ: client %s, server %s", line + 7, sline + 7);
		return -EPROTO;
	}
	tct_check(c, TCT_OK, what, "same session ID at both ends");
	if (!hex[0] && strlen(line + 7) < hexcap)
		memcpy(hex, line + 7, strlen(line + 7) + 1);
	return 0;
}

int tct_check_loopback(struct tct_ctx *c, const char *run)
{
	const char *what = "a shimmed server starts";
	struct peer srv;
	char line[256], hex[2 * TCPCRYPT_SESSID_MAX + 1] = "";
	/* the engine client opts in by itself: only with the eBPF backend */
	int engine = !c->backend[0] || !strcmp(c->backend, "ebpf");
	int r = 0;

	setenv("TCPCRYPT_CONTROL", c->control, 1);   /* for tcpcrypt-run's own check */
	if (spawn(&srv, run, c->self, "--peer-server", engine ? "2" : "1") < 0) {
		tct_check(c, TCT_FAIL, what, "cannot start %s: %s", run, strerror(errno));
		return -EAGAIN;
	}
	if (next_line(&srv, line, sizeof(line), c->timeout_ms) < 0 || strncmp(line, "port ", 5)) {
		reap(&srv, 100);
		tct_check(c, TCT_FAIL, what, "%s %s --peer-server said: %s", run, c->self, chatter(&srv));
		return -EPROTO;
	}
	tct_check(c, TCT_OK, what, "tcpcrypt-run, 127.0.0.1 port %s", line + 5);
	if (engine)
		r = probe_once(c, &srv, line + 5, hex);
	if (r == 0)
		r = shim_client_once(c, run, &srv, line + 5, hex, sizeof(hex));
	reap(&srv, r == 0 ? c->timeout_ms : 100);
	if (hex[0] && r == 0)
		printf("session ID: %s\n", hex);
	return r;
}
