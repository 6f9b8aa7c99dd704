/*
 * children.c - an encrypted connection seen by code the shim does not
 * hook: children started by system(), popen(), vfork(), clone() and
 * posix_spawn(), and glibc's stdio (test_children.sh). Modes:
 *
 *   children sink HOST PORT OUT       accepts one connection, sends
 *       "server-hello\n", reads until EOF or an error and writes what it
 *       read to OUT; prints "sink: N bytes, EOF" or "sink: N bytes,
 *       error E" on stderr.
 *   children client HOST PORT HOW MARKER   connects (the connection must
 *       be encrypted: prints "client sessid X"), puts it on fd 3, writes
 *       "first\n", then lets HOW write MARKER to it, then writes "last\n"
 *       and closes. HOW:
 *         system, popen, vfork, clone, spawn, noshim   a child runs
 *             `sh -c 'printf MARKER >&3'` (spawn: the socket put on fd 3
 *             by a file action; noshim: fork + exec with LD_PRELOAD
 *             removed from the environment);
 *         view     checks that fcntl(F_GETFD) reports FD_CLOEXEC as the
 *             program set it (F_SETFD, FIOCLEX/FIONCLEX, dup, dup3,
 *             F_DUPFD_CLOEXEC), printing "view: ok", then as system
 *             (the socket not close-on-exec for the program);
 *         forkwin  the client forks while its non-blocking connect is
 *             still in progress; the parent completes the connection (and
 *             its negotiation), then the child runs system() (the child's
 *             fd must be close-on-exec although its own shim did not
 *             negotiate);
 *         fdopen   fgets() of the server's hello and fprintf(MARKER\n)
 *             through a FILE from fdopen(dup(3));
 *         stdio    a forked child puts the socket on fds 0 and 1 and
 *             execs "children stdio MARKER" (the exec handover).
 *       Prints on stdout "hello: LINE" (the server's hello as read by
 *       whoever read it) and "child: STATUS".
 *   children execle                   execle() of `sh -c 'echo $V'` with
 *       an environment holding only V=execle-env (the shim's execle must
 *       pass that environment on): prints "execle-env".
 *   children stdio MARKER             fgets() from stdin, printf() MARKER
 *       to stdout (flushed by exit); prints "hello: LINE" on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcpcrypt/tcpcrypt.h"

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "children: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int tcp_socket(const char *host, int port, struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (fd < 0 || inet_pton(AF_INET, host, &a->sin_addr) != 1)
		die("socket");
	return fd;
}

static int put_all(int fd, const char *s)
{
	size_t n = strlen(s), done = 0;

	while (done < n) {
		ssize_t r = write(fd, s + done, n - done);

		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int do_sink(const char *host, int port, const char *out)
{
	struct sockaddr_in a;
	int l = tcp_socket(host, port, &a), one = 1, c;
	char buf[4096];
	FILE *f = fopen(out, "w");
	size_t total = 0;
	ssize_t n;

	if (!f)
		die("fopen");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0)
		die("listen");
	if ((c = accept(l, NULL, NULL)) < 0)
		die("accept");
	if (put_all(c, "server-hello\n") < 0)
		die("write");
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, f);
		total += (size_t)n;
	}
	fclose(f);
	if (n < 0)
		fprintf(stderr, "sink: %zu bytes, error %s\n", total, strerror(errno));
	else
		fprintf(stderr, "sink: %zu bytes, EOF\n", total);
	close(c);
	return 0;
}

static char clone_stack[256 * 1024] __attribute__((aligned(16)));

static int clone_child(void *arg)
{
	execl("/bin/sh", "sh", "-c", (char *)arg, (char *)NULL);
	_exit(127);
}

static void status(int st)
{
	if (WIFEXITED(st))
		printf("child: exit %d\n", WEXITSTATUS(st));
	else
		printf("child: signal %d\n", WTERMSIG(st));
}

/* FD_CLOEXEC as the application set it, whatever the shim does in the
 * kernel; prints "view: ok" or what differs. */
static void check_view(int fd)
{
	int bad = 0, d;

#define EXPECT(what, got, want) do { int g_ = (got); if (g_ != (want)) { \
		printf("view: %s: %d, expected %d\n", what, g_, want); bad = 1; } } while (0)
	EXPECT("F_GETFD after connect", fcntl(fd, F_GETFD), 0);
	EXPECT("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
	EXPECT("F_GETFD after F_SETFD FD_CLOEXEC", fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT("F_SETFD 0", fcntl(fd, F_SETFD, 0), 0);
	EXPECT("F_GETFD after F_SETFD 0", fcntl(fd, F_GETFD), 0);
	EXPECT("FIOCLEX", ioctl(fd, FIOCLEX), 0);
	EXPECT("F_GETFD after FIOCLEX", fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT("FIONCLEX", ioctl(fd, FIONCLEX), 0);
	EXPECT("F_GETFD after FIONCLEX", fcntl(fd, F_GETFD), 0);
	d = dup(fd);
	EXPECT("F_GETFD of dup", fcntl(d, F_GETFD), 0);
	close(d);
	d = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	EXPECT("F_GETFD of F_DUPFD_CLOEXEC", fcntl(d, F_GETFD), FD_CLOEXEC);
	close(d);
	EXPECT("dup3 O_CLOEXEC", dup3(fd, 12, O_CLOEXEC), 12);
	EXPECT("F_GETFD of dup3 O_CLOEXEC", fcntl(12, F_GETFD), FD_CLOEXEC);
	EXPECT("dup2 onto it", dup2(fd, 12), 12);
	EXPECT("F_GETFD of dup2", fcntl(12, F_GETFD), 0);
	close(12);
	EXPECT("F_GETFD of a closed fd", fcntl(12, F_GETFD), -1);
#undef EXPECT
	if (!bad)
		printf("view: ok\n");
}

/* A child writes MARKER to fd 3 by way of how. */
static void bypass(const char *self, const char *how, const char *marker, int fd)
{
	char cmd[256];
	pid_t p;
	int st = 0;

	snprintf(cmd, sizeof(cmd), "printf %%s '%s' >&3", marker);
	if (!strcmp(how, "system")) {
		st = system(cmd);
	} else if (!strcmp(how, "popen")) {
		FILE *f = popen(cmd, "r");
		char b[64];

		if (!f)
			die("popen");
		while (fgets(b, sizeof(b), f))
			;
		st = pclose(f);
	} else if (!strcmp(how, "vfork")) {
		p = vfork();
		if (p == 0) {
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
		waitpid(p, &st, 0);
	} else if (!strcmp(how, "clone")) {
		p = clone(clone_child, clone_stack + sizeof(clone_stack), CLONE_VM | SIGCHLD, cmd);
		if (p < 0)
			die("clone");
		waitpid(p, &st, 0);
	} else if (!strcmp(how, "spawn")) {
		char *argv[] = { (char *)"sh", (char *)"-c", cmd, NULL };
		posix_spawn_file_actions_t fa;
		int e, spare = dup(fd);

		/* the socket reaches the child's fd 3 only through a file action */
		if (spare < 0 || dup2(spare, 9) < 0)
			die("dup");
		close(spare);
		close(fd);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, 9, 3);
		if ((e = posix_spawn(&p, "/bin/sh", &fa, NULL, argv, environ)) != 0) {
			errno = e;
			die("posix_spawn");
		}
		posix_spawn_file_actions_destroy(&fa);
		waitpid(p, &st, 0);
		if (dup2(9, fd) < 0)
			die("dup2");
		close(9);
	} else if (!strcmp(how, "view")) {
		check_view(fd);
		st = system(cmd);
	} else if (!strcmp(how, "noshim")) {
		static char *env[] = { (char *)"PATH=/usr/bin:/bin", NULL };

		p = fork();
		if (p == 0) {
			execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, env);
			_exit(127);
		}
		waitpid(p, &st, 0);
	} else if (!strcmp(how, "stdio")) {
		p = fork();
		if (p == 0) {
			if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
				die("dup2");
			execl(self, self, "stdio", marker, (char *)NULL);
			_exit(127);
		}
		waitpid(p, &st, 0);
	} else {
		fprintf(stderr, "children: unknown way %s\n", how);
		exit(2);
	}
	status(st);
}

/* fgets and fprintf through FILEs on the connection (one to read, one to
 * write, as servers that use stdio on sockets do). */
static void through_fdopen(int fd, const char *marker)
{
	FILE *in = fdopen(dup(fd), "r"), *out = fdopen(dup(fd), "w");
	char line[128];

	if (!in || !out)
		die("fdopen");
	if (!fgets(line, sizeof(line), in))
		strcpy(line, "(none)\n");
	printf("hello: %s", line);
	if (fprintf(out, "%s\n", marker) < 0 || fflush(out) != 0)
		die("fprintf");
	if (fclose(out) != 0 || fclose(in) != 0)
		die("fclose");
	printf("child: exit 0\n");
}

/* forkwin: the connection negotiated by the parent after fork(); the
 * child then runs system(). */
static int fork_window(const char *host, int port, const char *marker)
{
	struct sockaddr_in a;
	int fd = tcp_socket(host, port, &a), go[2], st;
	char cmd[256], line[128], c;
	ssize_t n;
	pid_t p;

	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			die("dup2");
		close(fd);
		fd = 3;
	}
	if (pipe(go) < 0)
		die("pipe");
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EINPROGRESS)
		die("non-blocking connect");
	p = fork();
	if (p == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		snprintf(cmd, sizeof(cmd), "printf %%s '%s' >&3", marker);
		_exit(WEXITSTATUS(system(cmd)));
	}
	close(go[0]);
	fcntl(fd, F_SETFL, 0);
	if (put_all(fd, "first\n") < 0)
		die("write first");
	n = read(fd, line, sizeof(line) - 1);
	line[n > 0 ? n : 0] = '\0';
	printf("hello: %s", n > 0 ? line : "(none)\n");
	if (write(go[1], "g", 1) != 1)
		die("write pipe");
	waitpid(p, &st, 0);
	status(st);
	if (put_all(fd, "last\n") < 0)
		printf("last: %s\n", strerror(errno));
	close(fd);
	return 0;
}

static int do_client(const char *self, const char *host, int port, const char *how, const char *marker)
{
	struct sockaddr_in a;
	unsigned char id[TCPCRYPT_SESSID_MAX];
	socklen_t l = sizeof(id);
	int fd = tcp_socket(host, port, &a);
	char line[128];

	if (!strcmp(how, "forkwin")) {
		close(fd);
		return fork_window(host, port, marker);
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			die("dup2");
		close(fd);
		fd = 3;
	}
	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &l) < 0)
		l = 0;
	fprintf(stderr, "client sessid %s\n", l ? "yes" : "-");
	if (put_all(fd, "first\n") < 0)
		die("write first");
	if (!strcmp(how, "fdopen")) {
		through_fdopen(fd, marker);
	} else {
		if (strcmp(how, "stdio")) {
			ssize_t n = read(fd, line, sizeof(line) - 1);

			line[n > 0 ? n : 0] = '\0';
			printf("hello: %s", n > 0 ? line : "(none)\n");
		}
		fflush(stdout);
		bypass(self, how, marker, fd);
	}
	if (put_all(fd, "last\n") < 0)
		printf("last: %s\n", strerror(errno));
	close(fd);
	return 0;
}

static int do_stdio(const char *marker)
{
	char line[128];

	if (!fgets(line, sizeof(line), stdin))
		strcpy(line, "(none)\n");
	fprintf(stderr, "hello: %s", line);
	printf("%s\n", marker);
	return 0;                    /* exit() flushes stdout */
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (!strcmp(m, "sink") && argc == 5)
		return do_sink(argv[2], atoi(argv[3]), argv[4]);
	if (!strcmp(m, "client") && argc == 6)
		return do_client(argv[0], argv[2], atoi(argv[3]), argv[4], argv[5]);
	if (!strcmp(m, "execle")) {
		static char *env[] = { (char *)"V=execle-env", NULL };

		execle("/bin/sh", "sh", "-c", "echo \"$V\"", (char *)NULL, env);
		die("execle");
	}
	if (!strcmp(m, "stdio") && argc == 3)
		return do_stdio(argv[2]);
	fprintf(stderr, "usage: children sink|client|stdio ...\n");
	return 2;
}
