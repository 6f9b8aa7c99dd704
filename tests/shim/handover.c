/*
 * handover.c - encrypted connections in a seccomp sandbox and across exec
 * (test_handover.sh). Modes:
 *
 *   handover client HOST PORT LINE    connects, prints its session ID (hex,
 *       "-" if none) on stderr as "client sessid X", sends LINE\n, prints
 *       everything it receives until EOF on stdout.
 *   handover serve HOST PORT [noshim] accepts one connection; a forked
 *       child puts it on fds 0 and 1 and execs "handover child" (with
 *       "noshim": an environment without LD_PRELOAD), the parent closes it.
 *   handover child                    (the exec'd image) prints its session
 *       ID as "child sessid X" on stderr, reads a line from fd 0, forks a
 *       grandchild that execs "handover noop" with the socket inherited,
 *       waits for it, writes "reply:LINE" to fd 1 with dprintf.
 *   handover spawn HOST PORT [noshim] as serve, the child started by
 *       posix_spawn (no handover there: the new image must not read it);
 *       with "noshim", the child is /bin/sh in an environment without
 *       LD_PRELOAD, which writes "spawn-secret-MARKER" to fd 1 (the
 *       connection) and reports how that went on stderr.
 *   handover echo HOST PORT           accepts connections, echoes each (forked).
 *   handover sandbox HOST PORT N [nb] connects, enters an OpenSSH-like
 *       pre-auth sandbox (rlimits, then a seccomp filter that allows read,
 *       write, poll & co. and traps everything else, reporting each trapped
 *       call on stderr as "SIGSYS nr"), sends N bytes and reads the echo;
 *       "nb": O_NONBLOCK set before the sandbox, poll() loops; "sys":
 *       the limits, no_new_privs and the filter set through syscall()
 *       (prlimit64, prctl, seccomp), as libseccomp's seccomp_load does for
 *       the filter. Prints "sandbox ok" if the echo matches.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "tcpcrypt/tcpcrypt.h"

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "handover: %s: %s\n", what, strerror(errno));
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

static int dial(const char *host, int port)
{
	struct sockaddr_in a;
	int fd = tcp_socket(host, port, &a);

	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	return fd;
}

static int listen_on(const char *host, int port)
{
	struct sockaddr_in a;
	int fd = tcp_socket(host, port, &a), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
		die("listen");
	return fd;
}

static void print_sessid(const char *who, int fd)
{
	unsigned char id[TCPCRYPT_SESSID_MAX];
	socklen_t l = sizeof(id);

	fprintf(stderr, "%s sessid ", who);
	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &l) < 0)
		l = 0;
	if (l == 0)
		fprintf(stderr, "-");
	for (socklen_t i = 0; i < l && i < sizeof(id); i++)
		fprintf(stderr, "%02x", id[i]);
	fprintf(stderr, "\n");
}

/* printf to fd with one write(). */
__attribute__((format(printf, 2, 3)))
static int say(int fd, const char *fmt, ...)
{
	va_list ap;
	char buf[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return write(fd, buf, (size_t)n) == n ? 0 : -1;
}

static int do_client(const char *host, int port, const char *line)
{
	int fd = dial(host, port);
	char buf[4096];
	ssize_t n;

	print_sessid("client", fd);
	/* (write(), not dprintf(): glibc's stdio writes past the shim) */
	if (say(fd, "%s\n", line) < 0)
		die("write");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n < 0)
		fprintf(stderr, "client read: %s\n", strerror(errno));
	return 0;
}

static int do_serve(const char *self, const char *host, int port, int noshim)
{
	int l = listen_on(host, port), c, st;
	pid_t p;

	c = accept(l, NULL, NULL);
	if (c < 0)
		die("accept");
	p = fork();
	if (p == 0) {
		char *argv[] = { (char *)self, (char *)"child", NULL };
		char **env = environ;

		if (noshim) {
			static char *none[] = { (char *)"PATH=/usr/bin:/bin", NULL };
			env = none;
		}
		if (dup2(c, 0) < 0 || dup2(c, 1) < 0)
			die("dup2");
		close(c);
		close(l);
		execve(self, argv, env);
		die("execve");
	}
	close(c);
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* serve, but the child is started with posix_spawn (fds 0 and 1 by file
 * actions). */
static int do_spawn(const char *self, const char *host, int port, int noshim)
{
	int l = listen_on(host, port), c, st;
	char *argv[] = { (char *)self, (char *)"child", NULL };
	char *sh_argv[] = { (char *)"sh", (char *)"-c",
	                    (char *)"printf spawn-secret-MARKER || echo 'spawned write failed' >&2", NULL };
	static char *none[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	pid_t p;

	c = accept(l, NULL, NULL);
	if (c < 0)
		die("accept");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, c, 0);
	posix_spawn_file_actions_adddup2(&fa, c, 1);
	if (noshim)
		errno = posix_spawn(&p, "/bin/sh", &fa, NULL, sh_argv, none);
	else
		errno = posix_spawn(&p, self, &fa, NULL, argv, environ);
	if (errno != 0)
		die("posix_spawn");
	posix_spawn_file_actions_destroy(&fa);
	close(c);
	waitpid(p, &st, 0);
	return 0;
}

static int do_child(const char *self)
{
	char line[256];
	size_t n = 0;
	int st;
	pid_t p;

	print_sessid("child", 0);
	while (n < sizeof(line) - 1) {
		ssize_t r = read(0, line + n, 1);

		if (r <= 0) {
			fprintf(stderr, "child read: %s after %zu bytes\n", r < 0 ? strerror(errno) : "EOF", n);
			return 1;
		}
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	/* A grandchild that execs with the socket inherited while this image
	 * keeps using it (a shell running a command). */
	p = fork();
	if (p == 0) {
		execl(self, self, "noop", (char *)NULL);
		_exit(127);
	}
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "child: grandchild failed\n");
	/* dprintf: glibc writes it past the shim's write(); the shim covers it */
	if (dprintf(1, "reply:%s\n", line) < 0) {
		fprintf(stderr, "child write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int do_echo(const char *host, int port)
{
	int l = listen_on(host, port);

	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(l, NULL, NULL);
		char buf[8192];
		ssize_t n;

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(l);
			while ((n = read(c, buf, sizeof(buf))) > 0)
				if (write(c, buf, (size_t)n) != n)
					break;
			_exit(0);
		}
		close(c);
	}
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char m[64];
	int n = snprintf(m, sizeof(m), "SIGSYS %d\n", si->si_syscall);

	(void)sig;
	if (write(2, m, (size_t)n) < 0) {
	}
	((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -EPERM;
}

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* OpenSSH's pre-auth sandbox, roughly (sandbox-seccomp-filter.c). */
static void enter_sandbox(int raw)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_close), ALLOW(SYS_exit),
		ALLOW(SYS_exit_group), ALLOW(SYS_futex), ALLOW(SYS_getpid), ALLOW(SYS_gettid),
		ALLOW(SYS_getrandom), ALLOW(SYS_clock_gettime), ALLOW(SYS_gettimeofday),
		ALLOW(SYS_poll), ALLOW(SYS_ppoll), ALLOW(SYS_select), ALLOW(SYS_pselect6),
		ALLOW(SYS_brk), ALLOW(SYS_mmap), ALLOW(SYS_munmap), ALLOW(SYS_mremap),
		ALLOW(SYS_madvise), ALLOW(SYS_mprotect), ALLOW(SYS_rt_sigprocmask),
		ALLOW(SYS_rt_sigreturn), ALLOW(SYS_shutdown), ALLOW(SYS_nanosleep),
		ALLOW(SYS_clock_nanosleep), ALLOW(SYS_getuid), ALLOW(SYS_geteuid),
		ALLOW(SYS_getpgid), ALLOW(SYS_time),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	struct sigaction sa;
	struct rlimit zero = { 0, 0 }, one = { 1, 1 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	if (raw) {
		if (syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, &zero, NULL) < 0 ||
		    syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &one, NULL) < 0)
			die("prlimit64");
		if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			die("seccomp");
		return;
	}
	if (setrlimit(RLIMIT_FSIZE, &zero) < 0 || setrlimit(RLIMIT_NOFILE, &one) < 0)
		die("setrlimit");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		die("seccomp");
}

/* One direction of the sandboxed transfer: all of buf, poll()ing when the
 * socket is non-blocking. */
static int xfer(int fd, unsigned char *buf, size_t n, int out)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = out ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);

		if (r > 0) {
			done += (size_t)r;
		} else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { .fd = fd, .events = out ? POLLOUT : POLLIN };
			poll(&p, 1, 5000);
		} else {
			return -1;
		}
	}
	return 0;
}

static int do_sandbox(const char *host, int port, size_t n, int nb, int raw)
{
	unsigned char *out = malloc(n), *in = malloc(n);
	int fd = dial(host, port);

	if (!out || !in)
		return 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	if (nb && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl");
	enter_sandbox(raw);
	/* chunks small enough that the echo never fills both socket buffers */
	for (size_t off = 0; off < n; off += 4096) {
		size_t c = n - off < 4096 ? n - off : 4096;

		if (xfer(fd, out + off, c, 1) < 0 || xfer(fd, in + off, c, 0) < 0) {
			if (write(2, "sandbox: transfer failed\n", 25) < 0) {
			}
			return 1;
		}
	}
	if (memcmp(in, out, n)) {
		if (write(2, "sandbox: echo differs\n", 22) < 0) {
		}
		return 1;
	}
	if (write(1, "sandbox ok\n", 11) < 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (!strcmp(m, "client") && argc == 5)
		return do_client(argv[2], atoi(argv[3]), argv[4]);
	if (!strcmp(m, "serve") && argc >= 4)
		return do_serve(argv[0], argv[2], atoi(argv[3]), argc > 4 && !strcmp(argv[4], "noshim"));
	if (!strcmp(m, "spawn") && argc >= 4)
		return do_spawn(argv[0], argv[2], atoi(argv[3]), argc > 4 && !strcmp(argv[4], "noshim"));
	if (!strcmp(m, "child"))
		return do_child(argv[0]);
	if (!strcmp(m, "noop"))
		return 0;
	if (!strcmp(m, "echo") && argc == 4)
		return do_echo(argv[2], atoi(argv[3]));
	if (!strcmp(m, "sandbox") && argc >= 5)
		return do_sandbox(argv[2], atoi(argv[3]), (size_t)atol(argv[4]), argc > 5 && !strcmp(argv[5], "nb"),
		                  argc > 5 && !strcmp(argv[5], "sys"));
	fprintf(stderr, "usage: handover client|serve|child|echo|sandbox ...\n");
	return 2;
}
