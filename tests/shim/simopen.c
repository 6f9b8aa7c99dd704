/*
 * simopen.c - one end of a TCP simultaneous open, or of an ordinary
 * connection, with the ENO b bit of TCP_CRYPT_PASSIVE (test_simopen.sh).
 *
 *   simopen connect LADDR LPORT RADDR RPORT PASSIVE MSG
 *       binds to LADDR:LPORT (SO_REUSEADDR), sets TCP_CRYPT_PASSIVE to
 *       PASSIVE (0 or 1) unless PASSIVE is "-", and connect()s to
 *       RADDR:RPORT (blocking): with the peer doing the same towards us at
 *       the same moment, a simultaneous open.
 *   simopen connect-nb ...
 *       the same with a non-blocking connect() (EINPROGRESS, poll() for
 *       POLLOUT, SO_ERROR), then back to blocking.
 *   simopen listen LADDR LPORT - - PASSIVE MSG
 *       listens on LADDR:LPORT and accepts one connection.
 *
 * Then both write MSG and a newline, read the peer's line, and print on
 * stdout:
 *   got LINE
 *   sessid HEX       (TCP_CRYPT_SESSID; "sessid - ERRNO-NAME" when it fails)
 *   role A|B|-       (TCP_CRYPT_ROLE)
 *   reason N|-       (TCP_CRYPT_ENO_RESULT: TCPCRYPT_ENO_R_*)
 * Exit 0 when the line came, 1 otherwise (the reason on stderr).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt/tcpcrypt.h"

static int die(const char *what)
{
	fprintf(stderr, "simopen: %s: %s\n", what, strerror(errno));
	return -1;
}

static int addr_of(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		errno = EINVAL;
		return die(ip);
	}
	return 0;
}

/* A TCP socket bound to ip:port, with TCP_CRYPT_PASSIVE set as asked. */
static int bound_socket(const char *ip, const char *port, const char *passive)
{
	struct sockaddr_in sa;
	int fd, one = 1, b;

	if (addr_of(ip, port, &sa) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return die("SO_REUSEADDR");
	if (strcmp(passive, "-") != 0) {
		b = atoi(passive);
		if (setsockopt(fd, IPPROTO_TCP, TCP_CRYPT_PASSIVE, &b, sizeof(b)) < 0)
			return die("TCP_CRYPT_PASSIVE");
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return die("bind");
	return fd;
}

/* A non-blocking connect(): waits for it with poll(), reads SO_ERROR. */
static int connect_nb(int fd, const struct sockaddr_in *peer)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t el = sizeof(err);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return die("fcntl");
	if (connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) == 0)
		return fcntl(fd, F_SETFL, fl);
	if (errno != EINPROGRESS)
		return die("connect");
	if (poll(&pfd, 1, 20000) != 1)
		return die("poll");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		errno = err ? err : errno;
		return die("connect (SO_ERROR)");
	}
	return fcntl(fd, F_SETFL, fl);
}

static int do_connect(char **av, int nb)
{
	struct sockaddr_in peer;
	int fd = bound_socket(av[2], av[3], av[6]);

	if (fd < 0 || addr_of(av[4], av[5], &peer) < 0)
		return -1;
	if (nb)
		return connect_nb(fd, &peer) < 0 ? -1 : fd;
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0)
		return die("connect");
	return fd;
}

static int do_listen(char **av)
{
	int fd = bound_socket(av[2], av[3], av[6]), c;

	if (fd < 0)
		return -1;
	if (listen(fd, 4) < 0)
		return die("listen");
	c = accept(fd, NULL, NULL);
	if (c < 0)
		return die("accept");
	close(fd);
	return c;
}

/* Reads one line (without its newline) into buf. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r = 0;

	while (n + 1 < cap) {
		r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf[n] == '\n') {
			buf[n] = 0;
			return 0;
		}
		n++;
	}
	buf[n] = 0;
	errno = n + 1 >= cap ? EMSGSIZE : (r == 0 ? ENODATA : errno);
	return -1;
}

static void print_session(int fd)
{
	unsigned char id[TCPCRYPT_SESSID_MAX];
	socklen_t l = sizeof(id);
	int role = -1;
	socklen_t rl = sizeof(role);
	struct tcpcrypt_eno_result res;
	socklen_t resl = sizeof(res);

	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &l) < 0) {
		printf("sessid - %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	} else {
		printf("sessid ");
		for (socklen_t i = 0; i < l; i++)
			printf("%02x", id[i]);
		printf("\n");
	}
	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_ROLE, &role, &rl) < 0)
		printf("role -\n");
	else
		printf("role %s\n", role == TCPCRYPT_ROLE_B ? "B" : "A");
	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_ENO_RESULT, &res, &resl) < 0)
		printf("reason -\n");
	else
		printf("reason %d\n", res.reason);
}

int main(int ac, char **av)
{
	char line[512], msg[512];
	int fd;

	if (ac != 8 || (strcmp(av[1], "connect") && strcmp(av[1], "connect-nb") &&
			strcmp(av[1], "listen"))) {
		fprintf(stderr, "usage: simopen connect|connect-nb|listen LADDR LPORT RADDR RPORT PASSIVE MSG\n");
		return 2;
	}
	if (strcmp(av[1], "listen") == 0)
		fd = do_listen(av);
	else
		fd = do_connect(av, strcmp(av[1], "connect-nb") == 0);
	if (fd < 0)
		return 1;
	snprintf(msg, sizeof(msg), "%s\n", av[7]);
	if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
		die("write");
		return 1;
	}
	if (read_line(fd, line, sizeof(line)) < 0) {
		die("read");
		print_session(fd);
		return 1;
	}
	printf("got %s\n", line);
	print_session(fd);
	fflush(stdout);
	close(fd);
	return 0;
}
