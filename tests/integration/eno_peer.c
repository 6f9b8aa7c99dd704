/*
 * eno_peer - test client/server for the ENO integration tests.
 *
 *   eno_peer server PORT [OPTIONS]      accept COUNT connections
 *   eno_peer client ADDR PORT [OPTIONS] connect once
 * Options:
 *   --opt-in / --no-opt-in   setsockopt(TCPCRYPT_ENO_SOCKOPT) or not (default: opt in)
 *   --content HEX            offer content (default 23 for a client, 0123 for a server)
 *   --mandatory              TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE
 *   --v6                     server: listen on :: (dual stack)
 *   --bind ADDR              server: listen on this address (IPv4 or IPv6) instead
 *   --reuseport              server: SO_REUSEPORT (a wildcard and a specific listener
 *                            on one port)
 *   --count N                server: connections to accept (default 1)
 *   --report HEX             setsockopt(TCPCRYPT_ENO_REPORT) with this session ID
 *                            (divert backend: the report request)
 *   --hold SECS              keep the connection open this long after the exchange
 *   --quiet                  no result line (benchmarks)
 *   --tfo                    client: connect with TCP Fast Open, "ping" in the SYN
 * For each connection it exchanges a line ("ping" / "pong") and prints
 *   result side=client|server optin=ERRNO get=ERRNO ok=0|1 roleB=0|1 done=0|1
 *     peer_app=0|1 cookie=0|1 opted=0|1 reason=N local=HEX peer=HEX data=ok|fail
 * Exit status 0 when the data exchange worked.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "tcpcrypt/eno_abi.h"
#include "../divert/divert_req.h"   /* the divert backend: ENOPROTOOPT -> control socket */

struct opts {
	int opt_in;
	int mandatory;
	int v6;
	int count;
	int hold;
	int quiet;
	int tfo;
	int reuseport;
	const char *bind;
	int content_len;
	unsigned char content[TCPCRYPT_ENO_CONTENT_MAX];
	int report_len;
	unsigned char report[64];
};

static int unhex(const char *s, unsigned char *out, int cap)
{
	int n = 0;
	unsigned v;

	while (s[0] && s[1] && n < cap) {
		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = v;
		s += 2;
	}
	return *s ? -1 : n;
}

static void hex(char *out, const unsigned char *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	if (n == 0)
		strcpy(out, "-");
}

/* Opts fd in; returns 0 or the errno of the setsockopt. */
static int opt_in(int fd, const struct opts *o)
{
	struct tcpcrypt_eno_offer off;

	memset(&off, 0, sizeof(off));
	off.version = TCPCRYPT_ENO_ABI_VERSION;
	off.flags = o->mandatory ? TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE : 0;
	off.len = o->content_len;
	memcpy(off.content, o->content, o->content_len);
	if (setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &off, sizeof(off)) < 0)
		return errno == ENOPROTOOPT ? divert_opt_in(fd, &off) : errno;
	return 0;
}

static int report(int fd, const struct opts *o, int role)
{
	struct tcpcrypt_eno_report r;

	memset(&r, 0, sizeof(r));
	r.version = TCPCRYPT_ENO_ABI_VERSION;
	r.role = role;
	r.aead = 0x0010;
	r.sessid_len = o->report_len;
	memcpy(r.sessid, o->report, o->report_len);
	if (setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_REPORT, &r, sizeof(r)) < 0)
		return errno == ENOPROTOOPT ? divert_report(fd, &r) : errno;
	return 0;
}

static int read_line(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap - 1) {
		n = read(fd, buf + got, 1);
		if (n <= 0)
			return -1;
		if (buf[got++] == '\n')
			break;
	}
	buf[got] = '\0';
	return 0;
}

/* Exchanges the line, prints the result; returns 0 if the data flowed. */
static int finish(int fd, const struct opts *o, int server, int optin_err)
{
	struct tcpcrypt_eno_result res;
	socklen_t len = sizeof(res);
	char line[64], lo[2 * TCPCRYPT_ENO_OPT_MAX + 1], po[2 * TCPCRYPT_ENO_OPT_MAX + 1];
	int ok = 0, get_err = 0, rep_err = 0;

	if (server) {
		ok = read_line(fd, line, sizeof(line)) == 0 && !strcmp(line, "ping\n") &&
		     write(fd, "pong\n", 5) == 5;
	} else {
		ok = (o->tfo || write(fd, "ping\n", 5) == 5) && read_line(fd, line, sizeof(line)) == 0 &&
		     !strcmp(line, "pong\n");
	}
	memset(&res, 0, sizeof(res));
	if (getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &res, &len) < 0)
		get_err = errno == ENOPROTOOPT ? divert_result(fd, &res) : errno;
	if (o->report_len)
		rep_err = report(fd, o, server);
	if (!o->quiet) {
		hex(lo, res.local_opt, res.local_len <= TCPCRYPT_ENO_OPT_MAX ? res.local_len : 0);
		hex(po, res.peer_opt, res.peer_len <= TCPCRYPT_ENO_OPT_MAX ? res.peer_len : 0);
		printf("result side=%s optin=%d get=%d report=%d ok=%d roleB=%d done=%d peer_app=%d "
		       "cookie=%d opted=%d reason=%d local=%s peer=%s data=%s\n",
		       server ? "server" : "client", optin_err, get_err, rep_err,
		       !!(res.flags & TCPCRYPT_RES_F_ENO_OK), !!(res.flags & TCPCRYPT_RES_F_ROLE_B),
		       !!(res.flags & TCPCRYPT_RES_F_DONE), !!(res.flags & TCPCRYPT_RES_F_PEER_APP),
		       !!(res.flags & TCPCRYPT_RES_F_COOKIE), !!(res.flags & TCPCRYPT_RES_F_OPTED_IN),
		       res.reason, lo, po, ok ? "ok" : "fail");
		fflush(stdout);
	}
	if (o->hold)
		sleep(o->hold);
	return ok ? 0 : 1;
}

static int run_server(int port, const struct opts *o)
{
	int fd, c, one = 1, i, rc = 0, optin_err = 0;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };

	int v6 = o->v6;

	if (o->bind) {
		v6 = strchr(o->bind, ':') != NULL;
		if (v6 ? inet_pton(AF_INET6, o->bind, &a6.sin6_addr) != 1
		       : inet_pton(AF_INET, o->bind, &a4.sin_addr) != 1) {
			fprintf(stderr, "eno_peer: bad address %s\n", o->bind);
			return 2;
		}
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return perror("socket"), 2;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return perror("SO_REUSEPORT"), 2;
	if (v6 && o->bind)     /* a specific IPv6 address: IPv6 only */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (o->opt_in)
		optin_err = opt_in(fd, o);
	if ((v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		   : bind(fd, (struct sockaddr *)&a4, sizeof(a4))) < 0 || listen(fd, 128) < 0)
		return perror("bind/listen"), 2;
	for (i = 0; i < o->count; i++) {
		c = accept(fd, NULL, NULL);
		if (c < 0)
			return perror("accept"), 2;
		rc |= finish(c, o, 1, optin_err);
		close(c);
	}
	close(fd);
	return rc;
}

static int run_client(const char *addr, int port, const struct opts *o)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, v6 = strchr(addr, ':') != NULL, rc, optin_err = 0;

	if (v6 ? inet_pton(AF_INET6, addr, &a6.sin6_addr) != 1 : inet_pton(AF_INET, addr, &a4.sin_addr) != 1) {
		fprintf(stderr, "eno_peer: bad address %s\n", addr);
		return 2;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return perror("socket"), 2;
	if (o->opt_in)
		optin_err = opt_in(fd, o);
	if (o->tfo) {
		/* the line goes out in the SYN; finish() must not send it again */
		if ((v6 ? sendto(fd, "ping\n", 5, MSG_FASTOPEN, (struct sockaddr *)&a6, sizeof(a6))
			: sendto(fd, "ping\n", 5, MSG_FASTOPEN, (struct sockaddr *)&a4, sizeof(a4))) != 5)
			return perror("sendto MSG_FASTOPEN"), 2;
	} else if ((v6 ? connect(fd, (struct sockaddr *)&a6, sizeof(a6))
		       : connect(fd, (struct sockaddr *)&a4, sizeof(a4))) < 0)
		return perror("connect"), 2;
	rc = finish(fd, o, 0, optin_err);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { .opt_in = 1, .count = 1 };
	int server, i, first, have_content = 0;

	if (argc < 3 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")) ||
	    (!strcmp(argv[1], "client") && argc < 4)) {
		fprintf(stderr, "usage: eno_peer server PORT [opts] | eno_peer client ADDR PORT [opts]\n");
		return 2;
	}
	server = !strcmp(argv[1], "server");
	first = server ? 3 : 4;
	for (i = first; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--opt-in"))
			o.opt_in = 1;
		else if (!strcmp(a, "--no-opt-in"))
			o.opt_in = 0;
		else if (!strcmp(a, "--mandatory"))
			o.mandatory = 1;
		else if (!strcmp(a, "--v6"))
			o.v6 = 1;
		else if (!strcmp(a, "--quiet"))
			o.quiet = 1;
		else if (!strcmp(a, "--tfo"))
			o.tfo = 1;
		else if (!strcmp(a, "--reuseport"))
			o.reuseport = 1;
		else if (!strcmp(a, "--bind") && v) {
			o.bind = v;
			i++;
		}
		else if (!strcmp(a, "--content") && v) {
			o.content_len = unhex(v, o.content, sizeof(o.content));
			have_content = 1;
			i++;
		} else if (!strcmp(a, "--report") && v) {
			o.report_len = unhex(v, o.report, sizeof(o.report));
			i++;
		} else if (!strcmp(a, "--count") && v) {
			o.count = atoi(v);
			i++;
		} else if (!strcmp(a, "--hold") && v) {
			o.hold = atoi(v);
			i++;
		} else {
			fprintf(stderr, "eno_peer: bad option %s\n", a);
			return 2;
		}
		if (o.content_len < 0 || o.report_len < 0) {
			fprintf(stderr, "eno_peer: bad hex\n");
			return 2;
		}
	}
	if (!have_content) {
		o.content_len = server ? 2 : 1;
		memcpy(o.content, server ? "\x01\x23" : "\x23", o.content_len);
	}
	if (server)
		return run_server(atoi(argv[2]), &o);
	return run_client(argv[2], atoi(argv[3]), &o);
}
