/*
 * exec.c - execve, execv, execvp, execvpe, execl, execlp, execle, fexecve:
 * the process image is about to go, and its references on shared session
 * state go with it (they come back if the exec fails). glibc's exec
 * functions call each other internally, past the shim, so each is wrapped.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdtable.h"
#include "fork.h"
#include "libc_syms.h"
#include "log.h"
#include "shim.h"
#include "sock.h"

#define MAX_KEPT 64

struct kept {
	int n;
	int fd[MAX_KEPT];
};

/* An encrypted connection must not reach the new program: without the
 * session state it would write plaintext into the stream. Such fds get
 * FD_CLOEXEC for the exec (the new program sees them closed), and get it
 * back if the exec fails. */
static void close_on_exec_one(int fd, struct tc_sock *s, void *arg)
{
	struct kept *k = arg;
	int st = tc_sock_state(s), fl;

	if (s->kind != TC_K_CONN || (st != TC_ST_HANDSHAKE && st != TC_ST_READY) || k->n == MAX_KEPT)
		return;
	fl = tc_real_fcntl(fd, F_GETFD, 0);
	if (fl < 0 || (fl & FD_CLOEXEC))
		return;
	tc_real_fcntl(fd, F_SETFD, (long)(fl | FD_CLOEXEC));
	k->fd[k->n++] = fd;
	tc_warn("fd %d: an encrypted connection cannot pass through exec; closed for the new program", fd);
}

static void before_exec(struct kept *k)
{
	k->n = 0;
	tc_fd_foreach(close_on_exec_one, k);
	tc_fork_proc_refs(-1);
}

static void after_failed_exec(struct kept *k)
{
	tc_fork_proc_refs(1);
	for (int i = 0; i < k->n; i++) {
		int fl = tc_real_fcntl(k->fd[i], F_GETFD, 0);

		if (fl >= 0)
			tc_real_fcntl(k->fd[i], F_SETFD, (long)(fl & ~FD_CLOEXEC));
	}
}

/* Runs an exec with this process's references dropped around it. */
#define TC_EXEC(call) do { \
	struct kept k_; \
	int r_, e_, mine_ = __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) && getpid() == tc_pid; \
	if (mine_) \
		before_exec(&k_); \
	r_ = (call); \
	e_ = errno; \
	if (mine_) \
		after_failed_exec(&k_); \
	errno = e_; \
	return r_; \
} while (0)

TC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	TC_EXEC(tc_real_execve(path, argv, envp));
}

TC_EXPORT int execv(const char *path, char *const argv[])
{
	TC_EXEC(tc_real_execv(path, argv));
}

TC_EXPORT int execvp(const char *file, char *const argv[])
{
	TC_EXEC(tc_real_execvp(file, argv));
}

TC_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	TC_EXEC(tc_real_execvpe(file, argv, envp));
}

TC_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	TC_EXEC(tc_real_fexecve(fd, argv, envp));
}

/* Collects the NULL-terminated variadic argument list of execl*; also
 * returns the pointer after the NULL (execle's envp). */
static char **collect(const char *arg0, va_list ap, char ***envp)
{
	va_list aq;
	size_t n = 1;
	char **v;

	va_copy(aq, ap);
	while (va_arg(aq, char *))
		n++;
	va_end(aq);
	v = malloc((n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	v[0] = (char *)arg0;
	for (size_t i = 1; i <= n; i++)
		v[i] = i < n ? va_arg(ap, char *) : NULL;
	if (n > 0 && envp)
		*envp = va_arg(ap, char **);
	return v;
}

TC_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	char **v;
	int r;

	va_start(ap, arg);
	v = collect(arg, ap, NULL);
	va_end(ap);
	if (!v)
		return -1;
	r = execv(path, v);
	free(v);
	return r;
}

TC_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	char **v;
	int r;

	va_start(ap, arg);
	v = collect(arg, ap, NULL);
	va_end(ap);
	if (!v)
		return -1;
	r = execvp(file, v);
	free(v);
	return r;
}

TC_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **v, **envp = NULL;
	int r;

	va_start(ap, arg);
	v = collect(arg, ap, &envp);
	va_end(ap);
	if (!v)
		return -1;
	r = execve(path, v, envp);
	free(v);
	return r;
}
