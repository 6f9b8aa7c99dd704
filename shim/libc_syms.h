/*
 * libc_syms.h - the real libc functions behind the shim's wrappers.
 *
 * One X-macro list names every function the shim interposes and calls
 * through. Each tc_real_NAME pointer starts at a stub that, on the first
 * call, looks up the next definition (dlsym(RTLD_NEXT)), stores it and
 * calls it; while that lookup is under way (a wrapper called from inside
 * dlsym) the call goes to a fallback that issues the system call directly.
 */
#ifndef TC_SHIM_LIBC_SYMS_H
#define TC_SHIM_LIBC_SYMS_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* X(return type, name, (parameters), (arguments)) */
#define TC_LIBC_LIST(X) \
	X(int, connect, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l)) \
	X(int, accept, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l)) \
	X(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int f), (fd, a, l, f)) \
	X(int, listen, (int fd, int n), (fd, n)) \
	X(int, close, (int fd), (fd)) \
	X(int, close_range, (unsigned int lo, unsigned int hi, int f), (lo, hi, f)) \
	X(int, shutdown, (int fd, int how), (fd, how)) \
	X(int, dup, (int fd), (fd)) \
	X(int, dup2, (int fd, int fd2), (fd, fd2)) \
	X(int, dup3, (int fd, int fd2, int f), (fd, fd2, f)) \
	X(int, getsockopt, (int fd, int lv, int nm, void *v, socklen_t *l), (fd, lv, nm, v, l)) \
	X(int, setsockopt, (int fd, int lv, int nm, const void *v, socklen_t l), (fd, lv, nm, v, l)) \
	X(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n)) \
	X(ssize_t, readv, (int fd, const struct iovec *v, int n), (fd, v, n)) \
	X(ssize_t, recv, (int fd, void *b, size_t n, int f), (fd, b, n, f)) \
	X(ssize_t, recvfrom, (int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l), (fd, b, n, f, a, l)) \
	X(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f)) \
	X(int, recvmmsg, (int fd, struct mmsghdr *m, unsigned int n, int f, struct timespec *t), (fd, m, n, f, t)) \
	X(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n)) \
	X(ssize_t, writev, (int fd, const struct iovec *v, int n), (fd, v, n)) \
	X(ssize_t, preadv2, (int fd, const struct iovec *v, int n, off_t o, int f), (fd, v, n, o, f)) \
	X(ssize_t, pwritev2, (int fd, const struct iovec *v, int n, off_t o, int f), (fd, v, n, o, f)) \
	X(ssize_t, send, (int fd, const void *b, size_t n, int f), (fd, b, n, f)) \
	X(ssize_t, sendto, (int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l), (fd, b, n, f, a, l)) \
	X(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f), (fd, m, f)) \
	X(int, sendmmsg, (int fd, struct mmsghdr *m, unsigned int n, int f), (fd, m, n, f)) \
	X(ssize_t, sendfile, (int o, int i, off_t *off, size_t n), (o, i, off, n)) \
	X(ssize_t, splice, (int i, loff_t *oi, int o, loff_t *oo, size_t n, unsigned int f), (i, oi, o, oo, n, f)) \
	X(int, poll, (struct pollfd *p, nfds_t n, int t), (p, n, t)) \
	X(int, ppoll, (struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *m), (p, n, t, m)) \
	X(int, select, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t), (n, r, w, e, t)) \
	X(int, pselect, (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *m), (n, r, w, e, t, m)) \
	X(int, epoll_ctl, (int ep, int op, int fd, struct epoll_event *e), (ep, op, fd, e)) \
	X(int, epoll_wait, (int ep, struct epoll_event *e, int n, int t), (ep, e, n, t)) \
	X(int, epoll_pwait, (int ep, struct epoll_event *e, int n, int t, const sigset_t *m), (ep, e, n, t, m)) \
	X(int, epoll_pwait2, (int ep, struct epoll_event *e, int n, const struct timespec *t, const sigset_t *m), (ep, e, n, t, m)) \
	X(int, socket, (int d, int t, int p), (d, t, p)) \
	X(int, fclose, (FILE *f), (f)) \
	X(void, closefrom, (int lo), (lo)) \
	X(int, execve, (const char *p, char *const av[], char *const ev[]), (p, av, ev)) \
	X(int, execv, (const char *p, char *const av[]), (p, av)) \
	X(int, execvp, (const char *p, char *const av[]), (p, av)) \
	X(int, execvpe, (const char *p, char *const av[], char *const ev[]), (p, av, ev)) \
	X(int, fexecve, (int fd, char *const av[], char *const ev[]), (fd, av, ev)) \
	X(void, _exit, (int st), (st)) \
	X(void, _Exit, (int st), (st))

#define TC_DECL_REAL(ret, name, params, args) extern ret (*tc_real_##name) params;
TC_LIBC_LIST(TC_DECL_REAL)
#undef TC_DECL_REAL

/* fcntl and ioctl are variadic; the shim always passes one long argument. */
extern int (*tc_real_fcntl)(int fd, int cmd, ...);
extern int (*tc_real_ioctl)(int fd, unsigned long req, ...);

/* The C library's syscall(): the shim's own system calls go through it,
 * never through the name syscall, which binds to the shim's wrapper
 * (syscall.c, a layer above). Before tc_libc_init, tc_syscall fails with
 * ENOSYS. */
typedef long (*tc_syscall_fn)(long, ...);
extern tc_syscall_fn tc_libc_syscall;
#define tc_syscall(...) (__atomic_load_n(&tc_libc_syscall, __ATOMIC_ACQUIRE) ? \
	__atomic_load_n(&tc_libc_syscall, __ATOMIC_ACQUIRE)(__VA_ARGS__) : (errno = ENOSYS, -1L))

/* Resolves at once the few functions signal handlers use (idempotent;
 * the constructor calls it); the others are resolved on first use. */
void tc_libc_init(void);

#endif
