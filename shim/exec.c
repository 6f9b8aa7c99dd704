/*
 * exec.c - execve, execv, execvp, execvpe, execl, execlp, execle, fexecve:
 * the process image is about to go, and its references on shared session
 * state go with it (they come back if the exec fails). glibc's exec
 * functions call each other internally, past the shim, so each is wrapped.
 *
 * An encrypted connection that stays open across the exec (no FD_CLOEXEC:
 * sshd -R, inetd-style servers, a dup2 onto stdin/stdout) is handed over:
 * the new image inherits an fd of its shared memory (from
 * /proc/self/map_files: root or CAP_CHECKPOINT_RESTORE; so the processes
 * that still hold it keep sharing it), or, when that is not allowed and
 * no other process holds it, a copy in a memfd (the old state marked
 * failed); and
 * TCPCRYPT_INHERIT=memfd:inode:fd[.fd...][,...] in the new environment
 * tells the new image's shim (tc_exec_adopt, from its constructor) which
 * fds to adopt; it checks that each fd still is that socket (inode),
 * closes the memfds and removes the variable. A connection that cannot be
 * handed over (the new environment does not preload the shim, its keys
 * are not set within TC_EXEC_WAIT_MS, shared with other processes but no
 * map_files access) is closed for the new program instead, and
 * a new image that cannot adopt one resets it: ciphertext never reaches a
 * program as data. An encrypted connection is close-on-exec in the kernel
 * (cloexec.h): only this path opens it, just before the real exec, for
 * the connections it hands over (the application's own FD_CLOEXEC decides
 * which), so execs from vfork/clone/posix_spawn children and glibc's
 * system()/popen() find it closed. In such a child (getpid() != tc_pid)
 * nothing here touches the shared state or allocates. Not covered: a new
 * program that ignores LD_PRELOAD although its environment names the
 * shim (setuid, static): a connection handed over reaches it raw.
 */
#include "config.h"

#include <alloca.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloexec.h"
#include "fdtable.h"
#include "fork.h"
#include "inherit_parse.h"
#include "libc_syms.h"
#include "log.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"
#include "stdfile.h"

#define MAX_KEPT         64
#define TC_EXEC_WAIT_MS  3000
#define INHERIT          "TCPCRYPT_INHERIT"
#define INHERIT_MAX      4096

extern char **environ;

struct kept {
	int n;                       /* connection fds open across the exec */
	int fd[MAX_KEPT];
	struct tc_sock *s[MAX_KEPT]; /* a reference each */
	int cloexec[MAX_KEPT];       /* FD_CLOEXEC set by us */
	int opened[MAX_KEPT];        /* FD_CLOEXEC (cloexec.h) cleared for the handover */
	int mfd[MAX_KEPT];           /* >= 0: handed over through this memfd (first fd of s) */
	int shared[MAX_KEPT];        /* ... the memory all holders share (not a copy) */
	char **env;                  /* the new environment (malloc'd), or NULL */
	char var[INHERIT_MAX];
};

/* Table lock held: collects the encrypted connections' fds that stay
 * open across the exec. */
static void pick_one(int fd, struct tc_sock *s, void *arg)
{
	struct kept *k = arg;
	int st = tc_sock_state(s), fl;

	if (s->kind != TC_K_CONN || (st != TC_ST_HANDSHAKE && st != TC_ST_READY) || k->n == MAX_KEPT)
		return;
	fl = tc_real_fcntl(fd, F_GETFD, 0);
	if (fl < 0 || ((fl & FD_CLOEXEC) && !tc_cloexec_hidden(fd)))
		return;               /* the application wants it closed */
	s->refs++;
	k->fd[k->n] = fd;
	k->s[k->n] = s;
	k->cloexec[k->n] = 0;
	k->opened[k->n] = 0;
	k->mfd[k->n++] = -1;
}

/* 1 if the environment preloads the shim (the new image will have it). */
static int env_has_shim(char *const envp[])
{
	for (int i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], "LD_PRELOAD=", 11) && strstr(envp[i], "libtcpcrypt-shim"))
			return 1;
	return 0;
}

/* An fd the new program must not see: FD_CLOEXEC for the exec. */
static void close_for_exec(struct kept *k, int i, const char *why)
{
	int fl = tc_real_fcntl(k->fd[i], F_GETFD, 0);

	if (fl < 0 || (fl & FD_CLOEXEC))
		return;
	tc_real_fcntl(k->fd[i], F_SETFD, (long)(fl | FD_CLOEXEC));
	k->cloexec[i] = 1;
	tc_warn("fd %d: encrypted connection not handed over to the new program (%s); closed for it",
	        k->fd[i], why);
}

/* Hands connection i (and every later fd of the same object) over, or
 * closes it for the exec; appends to k->var. */
static void hand_over(struct kept *k, int i, size_t *len)
{
	struct stat st;
	int mfd = -EBADF, n;

	if (tc_sock_state(k->s[i]) == TC_ST_HANDSHAKE)
		tc_sock_wait_ready(k->s[i], k->fd[i], TC_EXEC_WAIT_MS);
	if (fstat(k->fd[i], &st) < 0 || (mfd = tc_sock_export(k->s[i], &k->shared[i])) < 0) {
		const char *why = mfd == -EBUSY ? "state shared with other processes, no access to "
		                  "/proc/self/map_files" : "keys not set";

		close_for_exec(k, i, why);
		for (int j = i + 1; j < k->n; j++)
			if (k->s[j] == k->s[i])
				close_for_exec(k, j, why);
		return;
	}
	n = snprintf(k->var + *len, sizeof(k->var) - *len, "%s%d:%lu:%d",
	             *len > sizeof(INHERIT) ? "," : "", mfd,
	             (unsigned long)st.st_ino, k->fd[i]);
	for (int j = i + 1; j < k->n && n > 0; j++)
		if (k->s[j] == k->s[i] && (size_t)n < sizeof(k->var) - *len)
			n += snprintf(k->var + *len + n, sizeof(k->var) - *len - (size_t)n, ".%d", k->fd[j]);
	if (n < 0 || (size_t)n >= sizeof(k->var) - *len - 1) {
		k->var[*len] = '\0';
		if (!k->shared[i])
			tc_sock_export_undo(k->s[i]);
		tc_real_close(mfd);
		close_for_exec(k, i, "too many connections");
		return;
	}
	*len += (size_t)n;
	k->mfd[i] = mfd;
	if (k->shared[i])
		tc_sock_proc_ref(k->s[i], 1);      /* the new image's, before ours goes */
	tc_info("fd %d: encrypted connection handed over to the new program", k->fd[i]);
}

/* The new environment: envp without any INHERIT, plus k->var. */
static char **new_env(struct kept *k, char *const envp[])
{
	size_t n = 0, j = 0;
	char **e;

	while (envp && envp[n])
		n++;
	e = malloc((n + 2) * sizeof(*e));
	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], INHERIT "=", sizeof(INHERIT)))
			e[j++] = envp[i];
	e[j++] = k->var;
	e[j] = NULL;
	return e;
}

/* Last step before the real exec: the connections handed over lose the
 * kernel's FD_CLOEXEC that kept them from every other exec (cloexec.h). */
static void open_handed(struct kept *k)
{
	for (int i = 0; i < k->n; i++) {
		int first = i;

		for (int j = 0; j < i; j++)
			if (k->s[j] == k->s[i]) {
				first = j;
				break;
			}
		if (k->mfd[first] >= 0 && tc_cloexec_hidden(k->fd[i])) {
			tc_cloexec_kernel(k->fd[i], 0);
			k->opened[i] = 1;
		}
	}
}

static void before_exec(struct kept *k, char *const envp[])
{
	int shim = env_has_shim(envp);
	size_t len = strlen(INHERIT "=");
	int handed = 0;

	k->n = 0;
	k->env = NULL;
	memcpy(k->var, INHERIT "=", len + 1);
	tc_fd_foreach(pick_one, k);
	for (int i = 0; i < k->n; i++) {
		int seen = 0;

		for (int j = 0; j < i; j++)
			seen |= k->s[j] == k->s[i];
		if (seen)
			continue;
		if (!shim) {
			close_for_exec(k, i, "the new environment does not preload the shim");
			for (int j = i + 1; j < k->n; j++)
				if (k->s[j] == k->s[i])
					close_for_exec(k, j, "the new environment does not preload the shim");
			continue;
		}
		hand_over(k, i, &len);
		handed |= k->mfd[i] >= 0;
	}
	if (handed && !(k->env = new_env(k, envp))) {
		for (int i = 0; i < k->n; i++)
			if (k->mfd[i] >= 0) {
				if (k->shared[i])
					tc_sock_proc_ref(k->s[i], -1);
				else
					tc_sock_export_undo(k->s[i]);
				tc_real_close(k->mfd[i]);
				k->mfd[i] = -1;
				close_for_exec(k, i, "no memory");
			}
	}
	open_handed(k);
	tc_fork_proc_refs(-1);
}

static void after_failed_exec(struct kept *k)
{
	tc_fork_proc_refs(1);
	for (int i = 0; i < k->n; i++) {
		if (k->mfd[i] >= 0) {
			if (k->shared[i])
				tc_sock_proc_ref(k->s[i], -1);
			else
				tc_sock_export_undo(k->s[i]);
			tc_real_close(k->mfd[i]);
		}
		if (k->cloexec[i])
			tc_cloexec_kernel(k->fd[i], 0);
		if (k->opened[i])
			tc_cloexec_kernel(k->fd[i], 1);
		tc_fd_put(k->s[i]);
	}
	free(k->env);
}

enum { X_EXECVE, X_EXECVPE, X_FEXECVE };

/* Runs an exec with this process's references dropped around it and its
 * connections handed over. */
static int run_exec(int how, int fd, const char *path, char *const argv[], char *const envp[])
{
	static struct kept k;         /* big; execs of one process do not overlap */
	static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
	int r, e, mine = __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) && getpid() == tc_pid;
	char *const *env = envp;

	if (mine) {
		pthread_mutex_lock(&lk);
		tc_in_shim++;
		before_exec(&k, envp);
		tc_in_shim--;
		if (k.env)
			env = k.env;
	}
	if (how == X_EXECVE)
		r = tc_real_execve(path, argv, env);
	else if (how == X_EXECVPE)
		r = tc_real_execvpe(path, argv, env);
	else
		r = tc_real_fexecve(fd, argv, env);
	e = errno;
	if (mine) {
		tc_in_shim++;
		after_failed_exec(&k);
		tc_in_shim--;
		pthread_mutex_unlock(&lk);
	}
	errno = e;
	return r;
}

TC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return run_exec(X_EXECVE, -1, path, argv, envp);
}

TC_EXPORT int execv(const char *path, char *const argv[])
{
	return run_exec(X_EXECVE, -1, path, argv, environ);
}

TC_EXPORT int execvp(const char *file, char *const argv[])
{
	return run_exec(X_EXECVPE, -1, file, argv, environ);
}

TC_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return run_exec(X_EXECVPE, -1, file, argv, envp);
}

TC_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	return run_exec(X_FEXECVE, fd, NULL, argv, envp);
}

/* ---- the new image ---- */

/* Adopts the fds of one INHERIT entry ("memfd:inode:fd.fd..."). */
static void adopt_entry(char *ent)
{
	const char *p;
	long mfd, fd;
	unsigned long ino;
	struct tc_sock *s = NULL;
	int r;

	if (!(p = tc_inherit_head(ent, &mfd, &ino)))
		return;
	r = tc_cfg.disable ? -ENOTSUP : tc_sock_adopt((int)mfd, &s);
	while ((p = tc_inherit_next_fd(p, &fd)) != NULL) {
		struct stat st;

		if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_ino != ino)
			continue;             /* not that socket any more */
		if (r == 0 && tc_fd_set((int)fd, s) == 0) {
			tc_cloexec_mark((int)fd);   /* inherited: the application's flag is clear */
			tc_debug("fd %ld: encrypted connection taken over from the previous program", fd);
		}
		else
			tc_sock_abort_fd((int)fd, "its tcpcrypt session could not be taken over across exec");
	}
	tc_real_close((int)mfd);
	if (s && !s->nfds) {
		tc_sock_proc_unref(s);
		tc_sock_free(s);
	}
}

void tc_exec_adopt(void)
{
	const char *v = getenv(INHERIT);
	char *copy, *save = NULL;

	if (!v) {
		tc_spawn_check();
		return;
	}
	copy = strdup(v);
	unsetenv(INHERIT);
	if (!copy)
		return;
	tc_crypto_warm();             /* before any session's first frame */
	for (char *ent = strtok_r(copy, ",", &save); ent; ent = strtok_r(NULL, ",", &save))
		adopt_entry(ent);
	free(copy);
	tc_stdfile_adopt();           /* stdin/stdout/stderr on a connection: through us */
	tc_spawn_check();
}

/* The execl* wrappers build argv on the stack (alloca), as glibc does: no malloc,
 * so that they are safe in a vfork or clone child sharing our memory. */

/* Number of arguments after arg0 up to and including the NULL. */
static size_t count_args(va_list ap)
{
	va_list aq;
	size_t n = 1;

	va_copy(aq, ap);
	while (va_arg(aq, char *))
		n++;
	va_end(aq);
	return n;
}

/* Fills v[0..n] from arg0 and ap (v[n] is the terminating NULL, read
 * too); returns the pointer after it (execle's envp) when want_env. */
static char **fill_args(char **v, size_t n, const char *arg0, va_list ap, int want_env)
{
	v[0] = (char *)arg0;
	for (size_t i = 1; i <= n; i++)
		v[i] = va_arg(ap, char *);
	return want_env ? va_arg(ap, char **) : NULL;
}

TC_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(ap);
	{
		char **v = alloca((n + 1) * sizeof(*v));

		fill_args(v, n, arg, ap, 0);
		va_end(ap);
		return execv(path, v);
	}
}

TC_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(ap);
	{
		char **v = alloca((n + 1) * sizeof(*v));

		fill_args(v, n, arg, ap, 0);
		va_end(ap);
		return execvp(file, v);
	}
}

TC_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(ap);
	{
		char **v = alloca((n + 1) * sizeof(*v)), **envp;

		envp = fill_args(v, n, arg, ap, 1);
		va_end(ap);
		return execve(path, v, envp);
	}
}
