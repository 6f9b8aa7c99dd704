/*
 * bench_divert - handshake cost: connect/accept with or without opting in
 * (eBPF sockopt, or the divert daemon when the sockopt is absent).
 *
 *   bench_divert server PORT COUNT [--opt-in]
 *   bench_divert client ADDR PORT COUNT [--opt-in]
 * The client times each connection from socket() to the ENO result being
 * known (opt-in) or connect() returning (plain), prints one latency in
 * microseconds per line, and on stderr how many negotiated. The server
 * accepts COUNT connections, reads each one's result and closes it.
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
#include <sys/socket.h>
#include "tcpcrypt/eno_abi.h"
#include "divert_req.h"

static int opt_in(int fd, int listener)
{
	struct tcpcrypt_eno_offer off;

	memset(&off, 0, sizeof(off));
	off.version = TCPCRYPT_ENO_ABI_VERSION;
	off.len = listener ? 2 : 1;
	off.content[0] = listener ? 0x01 : 0x23;
	off.content[1] = 0x23;
	if (setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &off, sizeof(off)) < 0)
		return errno == ENOPROTOOPT ? divert_opt_in(fd, &off) : errno;
	return 0;
}

/* 1 if the connection negotiated ENO. */
static int eno_ok(int fd)
{
	struct tcpcrypt_eno_result res;
	socklen_t len = sizeof(res);

	memset(&res, 0, sizeof(res));
	if (getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &res, &len) < 0 &&
	    (errno != ENOPROTOOPT || divert_result(fd, &res) != 0))
		return 0;
	return (res.flags & TCPCRYPT_RES_F_ENO_OK) != 0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	int server, optin, port, count, i, ok = 0, one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET };

	if (argc < 4 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		fprintf(stderr, "usage: bench_divert server PORT COUNT [--opt-in] | "
			"client ADDR PORT COUNT [--opt-in]\n");
		return 2;
	}
	server = !strcmp(argv[1], "server");
	if (!server && argc < 5)
		return 2;
	optin = !strcmp(argv[argc - 1], "--opt-in");
	port = atoi(argv[server ? 2 : 3]);
	count = atoi(argv[server ? 3 : 4]);
	a.sin_port = htons(port);
	if (server) {
		int l = socket(AF_INET, SOCK_STREAM, 0), c;

		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || (optin && opt_in(l, 1)) ||
		    listen(l, 512) < 0)
			return perror("server"), 1;
		for (i = 0; i < count; i++) {
			c = accept(l, NULL, NULL);
			if (c < 0)
				return perror("accept"), 1;
			if (optin)
				ok += eno_ok(c);
			close(c);
		}
		fprintf(stderr, "server eno_ok=%d/%d\n", ok, count);
		return 0;
	}
	if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
		return 2;
	for (i = 0; i < count; i++) {
		double t0 = now_us();
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || (optin && opt_in(fd, 0)) || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			return perror("client"), 1;
		if (optin)
			ok += eno_ok(fd);
		printf("%.1f\n", now_us() - t0);
		close(fd);
	}
	fprintf(stderr, "client eno_ok=%d/%d\n", ok, count);
	return 0;
}
