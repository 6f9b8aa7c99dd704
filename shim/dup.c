/*
 * dup.c - dup, dup2, dup3, fcntl(F_DUPFD*), fcntl64: a new fd number for
 * the same open file description shares its session (and, encrypted, is
 * close-on-exec in the kernel: cloexec.h, which also answers F_GETFD and
 * F_SETFD).
 *
 * In a signal handler that interrupted the shim (tc_in_shim), a new fd on
 * an encrypted connection is refused: tracking it takes the fd table's
 * lock, which the interrupted frame may hold, and an fd the shim does not
 * track would put clear text on the wire. Nothing is opened; the errno is
 * the one each call documents for "no new fd now": EMFILE for dup and
 * F_DUPFD*, EBUSY (the kernel's own transient refusal) for dup2/dup3.
 * dup2/dup3 onto a tracked fd there forget it as close() does there
 * (tc_close_forget_inside), or fail with EBUSY leaving it open.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>

#include "cloexec.h"
#include "close.h"
#include "fdtable.h"
#include "fork.h"
#include "libc_syms.h"
#include "shim.h"
#include "sock.h"

/* newfd now refers to oldfd's open file description. */
static void share(int oldfd, int newfd)
{
	struct tc_sock *s = tc_fd_get(oldfd);

	if (!s)
		return;
	if (getpid() != tc_pid) {
		/* a vfork/clone child: our table is the parent's; its fd stays
		 * closed for the child's exec */
		if (tc_cloexec_needed(s))
			tc_cloexec_kernel(newfd, 1);
	} else {
		tc_fd_forget_stale(newfd);   /* newfd was free in the kernel */
		if (tc_fd_set(newfd, s) == 0 && tc_cloexec_needed(s))
			tc_cloexec_mark(newfd);
	}
	tc_fd_put(s);
}

/* 1 (errno err) if the handler's new fd would be on an encrypted
 * connection: see the top of this file. */
static int refused_inside(int fd, int err)
{
	if (__builtin_expect(!tc_in_shim, 1) || !tc_fd_conn_nowait(fd))
		return 0;
	errno = err;
	return 1;
}

TC_EXPORT int dup(int fd)
{
	int r;

	if (refused_inside(fd, EMFILE))
		return -1;
	r = tc_real_dup(fd);

	if (r >= 0 && tc_fd_maybe(fd))
		share(fd, r);
	return r;
}

/* dup2/dup3 onto a tracked fd end that fd's use first, like the kernel's
 * implicit close. */
static int dup_onto(int fd, int fd2, int flags, int three)
{
	int r, saved = errno;

	if (fd != fd2 && tc_in_shim) {
		if (refused_inside(fd, EBUSY))
			return -1;
		if (tc_real_fcntl(fd, F_GETFD, 0) >= 0 && tc_close_forget_inside(fd2) < 0) {
			errno = EBUSY;
			return -1;
		}
		errno = saved;
	}
	if (fd != fd2 && tc_fd_maybe(fd2) && tc_real_fcntl(fd, F_GETFD, 0) >= 0)
		tc_close_fd(fd2);
	if (fd != fd2 && !tc_in_shim && tc_own_fd(fd2))
		tc_own_fd_move(fd2);  /* our log must not end up in the application's fd */
	errno = saved;
	r = three ? tc_real_dup3(fd, fd2, flags) : tc_real_dup2(fd, fd2);
	if (r >= 0 && fd != fd2 && tc_fd_maybe(fd))
		share(fd, r);
	return r;
}

TC_EXPORT int dup2(int fd, int fd2)
{
	return dup_onto(fd, fd2, 0, 0);
}

TC_EXPORT int dup3(int fd, int fd2, int flags)
{
	return dup_onto(fd, fd2, flags, 1);
}

static int do_fcntl(int fd, int cmd, long arg)
{
	int r;

	if (cmd == F_GETFD && !tc_in_shim)
		return tc_cloexec_getfd(fd);
	if (cmd == F_SETFD && tc_fd_maybe(fd))
		return tc_cloexec_setfd(fd, arg);
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && refused_inside(fd, EMFILE))
		return -1;
	r = tc_real_fcntl(fd, cmd, arg);

	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && tc_fd_maybe(fd))
		share(fd, r);
	if (r >= 0 && cmd == F_SETFL && tc_fd_maybe(fd)) {
		struct tc_sock *s = tc_conn_get(fd);

		if (s) {
			tc_sock_note_nonblock(s, (arg & O_NONBLOCK) != 0);
			tc_fd_put(s);
		}
	}
	return r;
}

TC_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

TC_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}
