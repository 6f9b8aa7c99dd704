/*
 * conformance.c - a socket conformance program for the tcpcrypt shim.
 *
 *   conformance server PORT [--expect MODE]
 *   conformance client HOST PORT [--case NAME]... [--expect MODE] [--marker STR]
 *   conformance list
 *
 * An ordinary application (plain socket API and <tcpcrypt/tcpcrypt.h>): it
 * must pass identically on plain TCP and under tcpcrypt-run. Every case is a
 * connection of its own: the client sends "CASE name\n", the server answers
 * "GO\n", then both run their half of the case. After the header both ends
 * read TCP_CRYPT_SESSID and print
 *     sessid client|server NAME HEX|ENAME
 * and check it against MODE: any (default), none (ENOPROTOOPT: no shim),
 * plain (ENOTCONN: shim, not negotiated), crypt (33 bytes starting 0x23).
 * Each case prints "ok NAME" or "FAIL NAME: why". The client sends the
 * pseudo case "quit" at the end, which stops the server. Both exit 0 only
 * when every case passed. Port PORT+1 must be closed (refused connects).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conformance.h"

static const char *current_case = "-";
static const char *current_role = "-";

static void on_alarm(int sig)
{
	char msg[160];
	(void)sig;
	int n = snprintf(msg, sizeof msg, "FAIL %s: %s timed out (hang)\n", current_case,
			 current_role);
	if (n > 0 && write(STDOUT_FILENO, msg, (size_t)n) < 0)
		_exit(3);
	_exit(3);
}

static const struct conf_case *find_case(const char *name)
{
	const struct conf_case *tabs[] = { conf_cases_rw, conf_cases_flags, conf_cases_ready,
					     conf_cases_nbrw, conf_cases_tamper };
	for (size_t t = 0; t < sizeof tabs / sizeof tabs[0]; t++)
		for (const struct conf_case *k = tabs[t]; k->name; k++)
			if (strcmp(k->name, name) == 0)
				return k;
	return NULL;
}

static void print_sessid(struct conf_ctx *c)
{
	printf("sessid %s %s ", c->server ? "server" : "client", c->name);
	if (c->sessid_errno)
		printf("%s\n", conf_errname(c->sessid_errno));
	else {
		for (size_t i = 0; i < c->sessid_len; i++)
			printf("%02x", c->sessid[i]);
		printf("\n");
	}
}

/* The session ID expected for case c: "noenc" turns tcpcrypt off. */
static enum conf_expect case_expect(const struct conf_ctx *c)
{
	if (strcmp(c->name, "noenc") == 0 && c->expect == EXPECT_CRYPT)
		return EXPECT_PLAIN;
	return c->expect;
}

static int after_header(struct conf_ctx *c)
{
	conf_get_sessid(c->fd, c->sessid, &c->sessid_len, &c->sessid_errno);
	print_sessid(c);
	return conf_check_sessid(c, case_expect(c));
}

int conf_handshake(struct conf_ctx *c)
{
	char hdr[80], go[3];
	int n = snprintf(hdr, sizeof hdr, "CASE %s\n", c->name);
	if (conf_write_all(c->fd, hdr, (size_t)n) < 0)
		return -1;
	if (conf_read_exact(c->fd, go, 3) < 0)
		return -1;
	CHECK(memcmp(go, "GO\n", 3) == 0, "bad answer to the case header");
	return after_header(c);
}

static int parse_expect(const char *s, enum conf_expect *e)
{
	static const char *names[] = { "any", "none", "plain", "crypt" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*e = (enum conf_expect)i;
			return 0;
		}
	fprintf(stderr, "conformance: bad --expect %s\n", s);
	return -1;
}

static const char *default_cases[] = {
	"rw", "iov", "fromto", "mmsg", "sendfile", "msgflags", "nosignal", "rcvtimeo",
	"shutdown", "dup", "fork", "noenc", "nonblock", "nbrw", "ready", "epollet", "fionread",
	"large", NULL
};

static int run_client_case(struct conf_ctx *base, const char *name)
{
	const struct conf_case *k = find_case(name);
	struct conf_ctx c = *base;
	int rc, err;

	if (!k) {
		printf("FAIL %s: no such case\n", name);
		return -1;
	}
	c.name = name;
	c.fd = -1;
	current_case = name;
	conf_errmsg[0] = 0;
	alarm(30);
	rc = 0;
	if (!k->custom_connect) {
		c.fd = conf_connect_raw(&c, 0, 0, &err);
		rc = c.fd < 0 ? -1 : conf_handshake(&c);
	}
	if (rc == 0)
		rc = k->client(&c);
	alarm(0);
	if (c.fd >= 0)
		close(c.fd);
	if (rc == 0)
		printf("ok %s\n", name);
	else
		printf("FAIL %s: client: %s\n", name, conf_errmsg);
	return rc;
}

static int client_main(int argc, char **argv)
{
	struct conf_ctx c = { .fd = -1, .marker = "conformance-marker" };
	const char *cases[64];
	int ncases = 0, failed = 0, quit = 1;

	if (argc < 4)
		return 2;
	c.host = argv[2];
	c.port = argv[3];
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--case") == 0 && i + 1 < argc && ncases < 63)
			cases[ncases++] = argv[++i];
		else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
			if (parse_expect(argv[++i], &c.expect) < 0)
				return 2;
		} else if (strcmp(argv[i], "--marker") == 0 && i + 1 < argc)
			c.marker = argv[++i];
		else if (strcmp(argv[i], "--no-quit") == 0)
			quit = 0;
		else {
			fprintf(stderr, "conformance: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (ncases == 0)
		for (const char **n = default_cases; *n; n++)
			cases[ncases++] = *n;
	for (int i = 0; i < ncases; i++)
		if (run_client_case(&c, cases[i]) < 0)
			failed++;
	if (quit) {
		int err;
		c.name = "quit";
		c.fd = conf_connect_raw(&c, 0, 0, &err);
		if (c.fd >= 0) {
			if (conf_write_all(c.fd, "CASE quit\n", 10) == 0)
				conf_expect_eof(c.fd);
			close(c.fd);
		}
	}
	printf("client: %d of %d cases failed\n", failed, ncases);
	return failed ? 1 : 0;
}

/* Reads "CASE name\n" byte by byte. */
static int read_header(int fd, char *name, size_t size)
{
	char line[80];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		CHECK_ERRNO(r >= 0, "reading the case header");
		CHECK(r == 1, "EOF in the case header after %zu bytes", n);
		if (line[n] == '\n')
			break;
		CHECK(++n < sizeof line, "case header too long");
	}
	line[n] = 0;
	CHECK(strncmp(line, "CASE ", 5) == 0, "bad case header");
	snprintf(name, size, "%s", line + 5);
	return 0;
}

static int listen_on(const char *port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
				   .sin6_port = htons((uint16_t)atoi(port)) };
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("conformance: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
		perror("conformance: bind/listen");
		close(fd);
		return -1;
	}
	return fd;
}

static int server_main(int argc, char **argv)
{
	struct conf_ctx base = { .fd = -1, .server = 1 };
	int failed = 0, lfd;
	static char name[80];

	if (argc < 3)
		return 2;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
			if (parse_expect(argv[++i], &base.expect) < 0)
				return 2;
		} else {
			fprintf(stderr, "conformance: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if ((lfd = listen_on(argv[2])) < 0)
		return 2;
	printf("listening\n");
	for (;;) {
		struct conf_ctx c = base;
		const struct conf_case *k;
		int rc;

		c.fd = accept(lfd, NULL, NULL);
		if (c.fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("conformance: accept");
			return 2;
		}
		current_case = "-";
		conf_errmsg[0] = 0;
		alarm(30);
		if (read_header(c.fd, name, sizeof name) < 0) {
			printf("FAIL header: server: %s\n", conf_errmsg);
			failed++;
			close(c.fd);
			alarm(0);
			continue;
		}
		if (strcmp(name, "quit") == 0) {
			close(c.fd);
			break;
		}
		c.name = current_case = name;
		k = find_case(name);
		rc = -1;
		if (!k)
			conf_fail("no such case");
		else if (conf_write_all(c.fd, "GO\n", 3) == 0 && after_header(&c) == 0)
			rc = k->server(&c);
		alarm(0);
		close(c.fd);
		if (rc == 0)
			printf("ok %s\n", name);
		else {
			printf("FAIL %s: server: %s\n", name, conf_errmsg);
			failed++;
		}
	}
	close(lfd);
	printf("server: %d cases failed\n", failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN); /* nosignal sets its own */
	if (argc >= 2 && strcmp(argv[1], "client") == 0) {
		current_role = "client";
		return client_main(argc, argv);
	}
	if (argc >= 2 && strcmp(argv[1], "server") == 0) {
		current_role = "server";
		return server_main(argc, argv);
	}
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		for (const char **n = default_cases; *n; n++)
			printf("%s\n", *n);
		printf("echo\ntamper\nurgforge\n");
		return 0;
	}
	fprintf(stderr, "usage: conformance server PORT [--expect any|none|plain|crypt]\n"
			"       conformance client HOST PORT [--case NAME]... [--expect MODE]"
			" [--marker STR] [--no-quit]\n"
			"       conformance list\n");
	return 2;
}
