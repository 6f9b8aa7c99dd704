/*
 * libc_syms.c - resolution of the real libc functions (see libc_syms.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

#include "libc_syms.h"
#include "shim.h"

__thread int tc_in_shim __attribute__((tls_model("initial-exec")));

/* The C library's syscall() (libc_syms.h): looked up by the first
 * resolution, tc_libc_init at the latest. */
tc_syscall_fn tc_libc_syscall;

/* Fallbacks used until dlsym answered: the system calls themselves. */
static int fb_connect(int fd, const struct sockaddr *a, socklen_t l) { return (int)tc_syscall(SYS_connect, fd, a, l); }
static int fb_accept(int fd, struct sockaddr *a, socklen_t *l) { return (int)tc_syscall(SYS_accept4, fd, a, l, 0); }
static int fb_accept4(int fd, struct sockaddr *a, socklen_t *l, int f) { return (int)tc_syscall(SYS_accept4, fd, a, l, f); }
static int fb_listen(int fd, int n) { return (int)tc_syscall(SYS_listen, fd, n); }
static int fb_close(int fd) { return (int)tc_syscall(SYS_close, fd); }
static int fb_close_range(unsigned int lo, unsigned int hi, int f) { return (int)tc_syscall(SYS_close_range, lo, hi, f); }
static int fb_shutdown(int fd, int how) { return (int)tc_syscall(SYS_shutdown, fd, how); }
static int fb_dup(int fd) { return (int)tc_syscall(SYS_dup, fd); }
static int fb_dup2(int fd, int fd2)
{
	if (fd == fd2)
		return (int)tc_syscall(SYS_fcntl, fd, F_GETFD) < 0 ? -1 : fd2;
	return (int)tc_syscall(SYS_dup3, fd, fd2, 0);
}
static int fb_dup3(int fd, int fd2, int f) { return (int)tc_syscall(SYS_dup3, fd, fd2, f); }
static int fb_getsockopt(int fd, int lv, int nm, void *v, socklen_t *l) { return (int)tc_syscall(SYS_getsockopt, fd, lv, nm, v, l); }
static int fb_setsockopt(int fd, int lv, int nm, const void *v, socklen_t l) { return (int)tc_syscall(SYS_setsockopt, fd, lv, nm, v, l); }
static ssize_t fb_read(int fd, void *b, size_t n) { return tc_syscall(SYS_read, fd, b, n); }
static ssize_t fb_readv(int fd, const struct iovec *v, int n) { return tc_syscall(SYS_readv, fd, v, n); }
static ssize_t fb_recv(int fd, void *b, size_t n, int f) { return tc_syscall(SYS_recvfrom, fd, b, n, f, NULL, NULL); }
static ssize_t fb_recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l) { return tc_syscall(SYS_recvfrom, fd, b, n, f, a, l); }
static ssize_t fb_recvmsg(int fd, struct msghdr *m, int f) { return tc_syscall(SYS_recvmsg, fd, m, f); }
static int fb_recvmmsg(int fd, struct mmsghdr *m, unsigned int n, int f, struct timespec *t) { return (int)tc_syscall(SYS_recvmmsg, fd, m, n, f, t); }
static ssize_t fb_write(int fd, const void *b, size_t n) { return tc_syscall(SYS_write, fd, b, n); }
static ssize_t fb_writev(int fd, const struct iovec *v, int n) { return tc_syscall(SYS_writev, fd, v, n); }
static ssize_t fb_preadv2(int fd, const struct iovec *v, int n, off_t o, int f) { return tc_syscall(SYS_preadv2, fd, v, n, (long)o, 0L, f); }
static ssize_t fb_pwritev2(int fd, const struct iovec *v, int n, off_t o, int f) { return tc_syscall(SYS_pwritev2, fd, v, n, (long)o, 0L, f); }
static ssize_t fb_send(int fd, const void *b, size_t n, int f) { return tc_syscall(SYS_sendto, fd, b, n, f, NULL, 0); }
static ssize_t fb_sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l) { return tc_syscall(SYS_sendto, fd, b, n, f, a, l); }
static ssize_t fb_sendmsg(int fd, const struct msghdr *m, int f) { return tc_syscall(SYS_sendmsg, fd, m, f); }
static int fb_sendmmsg(int fd, struct mmsghdr *m, unsigned int n, int f) { return (int)tc_syscall(SYS_sendmmsg, fd, m, n, f); }
static ssize_t fb_sendfile(int o, int i, off_t *off, size_t n) { return tc_syscall(SYS_sendfile, o, i, off, n); }
static ssize_t fb_splice(int i, loff_t *oi, int o, loff_t *oo, size_t n, unsigned int f) { return tc_syscall(SYS_splice, i, oi, o, oo, n, f); }
static int fb_poll(struct pollfd *p, nfds_t n, int t)
{
	struct timespec ts = { t / 1000, (t % 1000) * 1000000L };
	return (int)tc_syscall(SYS_ppoll, p, n, t < 0 ? NULL : &ts, NULL, (size_t)8);
}
static int fb_socket(int d, int t, int p) { return (int)tc_syscall(SYS_socket, d, t, p); }
static int fb_fclose(FILE *f) { (void)f; errno = ENOSYS; return EOF; }
static void fb_closefrom(int lo) { tc_syscall(SYS_close_range, (unsigned)lo, ~0U, 0); }
static int fb_ppoll(struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *m) { return (int)tc_syscall(SYS_ppoll, p, n, t, m, (size_t)8); }
static int fb_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t) { return (int)tc_syscall(SYS_select, n, r, w, e, t); }
static int fb_pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *m)
{
	struct { const sigset_t *ss; size_t len; } sm = { m, 8 };
	return (int)tc_syscall(SYS_pselect6, n, r, w, e, t, m ? &sm : NULL);
}
static int fb_epoll_ctl(int ep, int op, int fd, struct epoll_event *e) { return (int)tc_syscall(SYS_epoll_ctl, ep, op, fd, e); }
static int fb_epoll_wait(int ep, struct epoll_event *e, int n, int t) { return (int)tc_syscall(SYS_epoll_pwait, ep, e, n, t, NULL, (size_t)8); }
static int fb_epoll_pwait(int ep, struct epoll_event *e, int n, int t, const sigset_t *m) { return (int)tc_syscall(SYS_epoll_pwait, ep, e, n, t, m, (size_t)8); }
static int fb_epoll_pwait2(int ep, struct epoll_event *e, int n, const struct timespec *t, const sigset_t *m) { return (int)tc_syscall(SYS_epoll_pwait2, ep, e, n, t, m, (size_t)8); }
static int fb_execve(const char *p, char *const av[], char *const ev[]) { return (int)tc_syscall(SYS_execve, p, av, ev); }
static int fb_execv(const char *p, char *const av[]) { return (int)tc_syscall(SYS_execve, p, av, environ); }
static int fb_execvp(const char *p, char *const av[]) { (void)p; (void)av; errno = ENOSYS; return -1; }
static int fb_execvpe(const char *p, char *const av[], char *const ev[]) { (void)p; (void)av; (void)ev; errno = ENOSYS; return -1; }
static int fb_fexecve(int fd, char *const av[], char *const ev[]) { return (int)tc_syscall(SYS_execveat, fd, "", av, ev, AT_EMPTY_PATH); }
static void fb__exit(int st) { tc_syscall(SYS_exit_group, st); abort(); }
static void fb__Exit(int st) { tc_syscall(SYS_exit_group, st); abort(); }

static int fb_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return (int)tc_syscall(SYS_fcntl, fd, cmd, arg);
}

static int fb_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	long arg;

	va_start(ap, req);
	arg = va_arg(ap, long);
	va_end(ap);
	return (int)tc_syscall(SYS_ioctl, fd, req, arg);
}

/*
 * Lazy resolution: each tc_real_NAME starts at a stub that looks NAME up
 * (dlsym(RTLD_NEXT)) on its first call, stores the answer and calls it, so
 * a program that never calls NAME never pays for the lookup (about 90
 * dlsym calls at every exec otherwise). The store is atomic and idempotent
 * (two threads resolving at once store the same pointer). A call made from
 * inside dlsym itself (a wrapped function glibc uses while resolving) goes
 * to the system-call fallback without storing it.
 */
static __thread int resolving __attribute__((tls_model("initial-exec")));

/* Looks a symbol up in the libraries after this one; NULL if missing or if
 * it would be ourselves (a second copy of the shim). */
static void *next_sym(const char *name, void *self)
{
	void *p = dlsym(RTLD_NEXT, name);

	return p == self ? NULL : p;
}

/* The real NAME, or fb if there is none; *keep 0 while resolving
 * recursively (the answer must not be cached then). */
static void *resolve(const char *name, int self_check, void *fb, int *keep)
{
	void *p;

	*keep = !resolving;
	if (resolving)
		return fb;
	resolving++;
	tc_in_shim++;
	if (!__atomic_load_n(&tc_libc_syscall, __ATOMIC_ACQUIRE))
		__atomic_store_n(&tc_libc_syscall, (tc_syscall_fn)dlsym(RTLD_NEXT, "syscall"), __ATOMIC_RELEASE);
	p = next_sym(name, self_check ? dlsym(RTLD_DEFAULT, name) : NULL);
	tc_in_shim--;
	resolving--;
	return p ? p : fb;
}

#define TC_DEF_REAL(ret, name, params, args) \
	static ret lz_##name params; \
	ret (*tc_real_##name) params = lz_##name; \
	static ret lz_##name params \
	{ \
		int keep; \
		ret (*f_) params = (ret (*) params)resolve(#name, 1, (void *)fb_##name, &keep); \
		if (keep) \
			__atomic_store_n(&tc_real_##name, f_, __ATOMIC_RELEASE); \
		return f_ args; \
	}
TC_LIBC_LIST(TC_DEF_REAL)
#undef TC_DEF_REAL

static int lz_fcntl(int fd, int cmd, ...);
static int lz_ioctl(int fd, unsigned long req, ...);
int (*tc_real_fcntl)(int fd, int cmd, ...) = lz_fcntl;
int (*tc_real_ioctl)(int fd, unsigned long req, ...) = lz_ioctl;

/* fcntl and ioctl: the shim always passes one long argument. */
static int lz_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;
	int keep;
	int (*f)(int, int, ...);

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	f = (int (*)(int, int, ...))resolve("fcntl", 0, (void *)fb_fcntl, &keep);
	if (keep)
		__atomic_store_n(&tc_real_fcntl, f, __ATOMIC_RELEASE);
	return f(fd, cmd, arg);
}

static int lz_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	long arg;
	int keep;
	int (*f)(int, unsigned long, ...);

	va_start(ap, req);
	arg = va_arg(ap, long);
	va_end(ap);
	f = (int (*)(int, unsigned long, ...))resolve("ioctl", 0, (void *)fb_ioctl, &keep);
	if (keep)
		__atomic_store_n(&tc_real_ioctl, f, __ATOMIC_RELEASE);
	return f(fd, req, arg);
}

/*
 * Resolves at load the few functions a signal handler commonly calls
 * (async-signal-safe ones: a first call from a handler would otherwise run
 * dlsym there); everything else is resolved on first use.
 */
void tc_libc_init(void)
{
	static int done;
	int keep;

	if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		return;
#define TC_EAGER(name) do { \
		__typeof__(tc_real_##name) f_ = (__typeof__(tc_real_##name))resolve(#name, 1, (void *)fb_##name, &keep); \
		if (keep) \
			__atomic_store_n(&tc_real_##name, f_, __ATOMIC_RELEASE); \
	} while (0)
	TC_EAGER(read);
	TC_EAGER(write);
	TC_EAGER(close);
	TC_EAGER(_exit);             /* also a vfork child's way out */
#undef TC_EAGER
}
