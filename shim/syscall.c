/*
 * syscall.c - the C library's syscall(2): a program (or a library such as
 * liburing built on the C library) that makes a socket's system calls
 * through syscall() gets what the C function of the same name gives, that
 * is the shim's wrapper: syscall(SYS_write, fd, ...) on an encrypted
 * connection seals, syscall(SYS_read, ...) opens frames, accept/connect opt
 * in, close/dup keep the table right, execve hands connections over.
 * prctl, prlimit64/setrlimit and seccomp prepare a sandbox as their C
 * functions do (sandbox.c). Not routed: fork/clone/vfork and execveat (no wrapper of the shim has
 * their exact meaning). io_uring_setup is refused (ENOSYS,
 * as on a kernel without io_uring; programs fall back to ordinary calls):
 * a ring moves a socket's bytes in the kernel, where no preload sees them.
 *
 * Out of reach of any preload: system calls a program makes itself (an
 * inline syscall instruction: Go, static programs, liburing's own nolibc
 * build). The kernel-side guard is the backstop there (DESIGN.md).
 * The shim's own system calls never come here (they use libc's syscall()
 * directly, tc_syscall in libc_syms.h), so a call made while the thread is
 * inside the shim is a signal handler's (or a library callback's): it is
 * routed too, and the wrapper refuses it on a connection (EAGAIN) rather
 * than let it reach the kernel in clear.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "settings.h"
#include "shim.h"

typedef long (*syscall_fn)(long, ...);

static syscall_fn real_syscall;
static __thread int resolving __attribute__((tls_model("initial-exec")));

/* The C library's syscall(), looked up once (at load, see below); NULL
 * while that lookup is under way on this thread. */
static syscall_fn next_syscall(void)
{
	syscall_fn f = __atomic_load_n(&real_syscall, __ATOMIC_ACQUIRE);
	void *p;

	if (f || resolving)
		return f;
	resolving++;
	tc_in_shim++;
	p = dlsym(RTLD_NEXT, "syscall");
	tc_in_shim--;
	resolving--;
	f = (syscall_fn)p;
	__atomic_store_n(&real_syscall, f, __ATOMIC_RELEASE);
	return f;
}

__attribute__((constructor)) static void syscall_init(void)
{
	(void)next_syscall();
}

static long pass(long nr, const long a[6])
{
	syscall_fn f = next_syscall();

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The file offset of preadv2/pwritev2 (low and high words). */
static off_t pos_of(long lo, long hi)
{
#if __WORDSIZE == 64
	(void)hi;
	return (off_t)lo;
#else
	return (off_t)(((unsigned long long)(unsigned long)hi << 32) | (unsigned long)lo);
#endif
}

/* Through the shim's wrapper of the same name; 0 in *done when nr is
 * not one of the numbers it takes. */
static long route(long nr, const long a[6], int *done)
{
	int fd = (int)a[0];

	*done = 1;
	switch (nr) {
	case SYS_read:
		return read(fd, (void *)a[1], (size_t)a[2]);
	case SYS_write:
		return write(fd, (const void *)a[1], (size_t)a[2]);
	case SYS_readv:
		return readv(fd, (const struct iovec *)a[1], (int)a[2]);
	case SYS_writev:
		return writev(fd, (const struct iovec *)a[1], (int)a[2]);
	case SYS_preadv2:
		return preadv2(fd, (const struct iovec *)a[1], (int)a[2], pos_of(a[3], a[4]), (int)a[5]);
	case SYS_pwritev2:
		return pwritev2(fd, (const struct iovec *)a[1], (int)a[2], pos_of(a[3], a[4]), (int)a[5]);
	case SYS_recvfrom:
		return recvfrom(fd, (void *)a[1], (size_t)a[2], (int)a[3], (struct sockaddr *)a[4],
		                (socklen_t *)a[5]);
	case SYS_sendto:
		return sendto(fd, (const void *)a[1], (size_t)a[2], (int)a[3], (const struct sockaddr *)a[4],
		              (socklen_t)a[5]);
	case SYS_recvmsg:
		return recvmsg(fd, (struct msghdr *)a[1], (int)a[2]);
	case SYS_sendmsg:
		return sendmsg(fd, (const struct msghdr *)a[1], (int)a[2]);
	case SYS_recvmmsg:
		return recvmmsg(fd, (struct mmsghdr *)a[1], (unsigned)a[2], (int)a[3], (struct timespec *)a[4]);
	case SYS_sendmmsg:
		return sendmmsg(fd, (struct mmsghdr *)a[1], (unsigned)a[2], (int)a[3]);
	case SYS_sendfile:
		return sendfile(fd, (int)a[1], (off_t *)a[2], (size_t)a[3]);
	case SYS_splice:
		return splice(fd, (loff_t *)a[1], (int)a[2], (loff_t *)a[3], (size_t)a[4], (unsigned)a[5]);
	case SYS_connect:
		return connect(fd, (const struct sockaddr *)a[1], (socklen_t)a[2]);
	case SYS_accept:
		return accept(fd, (struct sockaddr *)a[1], (socklen_t *)a[2]);
	case SYS_accept4:
		return accept4(fd, (struct sockaddr *)a[1], (socklen_t *)a[2], (int)a[3]);
	case SYS_listen:
		return listen(fd, (int)a[1]);
	case SYS_shutdown:
		return shutdown(fd, (int)a[1]);
	case SYS_close:
		return close(fd);
	case SYS_dup:
		return dup(fd);
#ifdef SYS_dup2
	case SYS_dup2:
		return dup2(fd, (int)a[1]);
#endif
	case SYS_dup3:
		return dup3(fd, (int)a[1], (int)a[2]);
	case SYS_fcntl:
		return fcntl(fd, (int)a[1], a[2]);
	case SYS_ioctl:
		return ioctl(fd, (unsigned long)a[1], a[2]);
	case SYS_setsockopt:
		return setsockopt(fd, (int)a[1], (int)a[2], (const void *)a[3], (socklen_t)a[4]);
	case SYS_getsockopt:
		return getsockopt(fd, (int)a[1], (int)a[2], (void *)a[3], (socklen_t *)a[4]);
	case SYS_close_range:
		return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
	case SYS_execve:              /* the exec handover (exec.c) */
		return execve((const char *)a[0], (char *const *)a[1], (char *const *)a[2]);
	/* a sandbox on its way (sandbox.c): limits, no_new_privs, the filter */
	case SYS_prctl:
		return prctl((int)a[0], a[1], a[2], a[3], a[4]);
	case SYS_prlimit64:
		return prlimit64((pid_t)a[0], (__rlimit_resource_t)a[1], (const struct rlimit64 *)a[2],
		                 (struct rlimit64 *)a[3]);
#ifdef SYS_setrlimit
	case SYS_setrlimit:
		return setrlimit((__rlimit_resource_t)a[0], (const struct rlimit *)a[1]);
#endif
	case SYS_seccomp:             /* prepared, then made as asked */
		tc_sandbox_seccomp((unsigned int)a[0]);
		break;
	}
	*done = 0;
	return 0;
}

TC_EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	/* syscall() reads six argument registers whatever the number; so
	 * does this (the extra values are never used). */
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!tc_cfg.disable) {
		int done;
		long r;

		if (nr == SYS_io_uring_setup) {
			errno = ENOSYS;
			return -1;
		}
		r = route(nr, a, &done);
		if (done)
			return r;
	}
	return pass(nr, a);
}
