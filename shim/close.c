/*
 * close.c - close, close_range, closefrom (fclose: stdfile.c).
 */
#include "config.h"

#include <linux/close_range.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cloexec.h"
#include "close.h"
#include "close_later.h"
#include "epoll.h"
#include "fdtable.h"
#include "fork.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "shim.h"
#include "sock.h"
#include "state.h"

/* SO_LINGER {1, 0}: the application asks close() to reset the
 * connection (RST, queued data dropped), as the real close will do: then
 * no end (frames still queued, FINp) is sent first. */
static int abortive(int fd)
{
	struct linger lg = { 0, 0 };
	socklen_t l = sizeof(lg);

	return tc_real_getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 && lg.l_onoff &&
	       lg.l_linger == 0;
}

/* Drops the application's epoll registrations of a socket whose end goes
 * on after close() (the kernel would keep reporting it): -1 when they are
 * not all known. */
static int forget_epoll(struct tc_sock *s, int fd)
{
	return __atomic_load_n(&tc_epoll_used, __ATOMIC_RELAXED) ? tc_epoll_forget(s, fd) : 0;
}

void tc_close_fd(int fd)
{
	struct tc_sock *s;
	int last, saved = errno;

	/* A vfork child shares our memory but not our fds: hands off. */
	if (getpid() != tc_pid)
		return;
	tc_in_shim++;
	tc_progress_lock();
	s = tc_fd_take(fd, &last);
	tc_progress_unlock();
	if (!s) {
		tc_in_shim--;
		return;
	}
	tc_fd_closing = fd;        /* out of the table, still open */
	if (last && s->closing) {
		/* our background copy (close_later.c), closed by the application
		 * (close_range, closefrom, dup2 onto it): its end stops here */
	} else if (last && s->shm) {
		int left = tc_sock_proc_unref(s);
		long deadline = tc_sock_close_deadline();

		tc_debug("fd %d closed; %d other process(es) hold the connection", fd, left);
		/* close() returns at once, as plain TCP's does: what cannot be
		 * done now (a peer that does not read, or has not answered Init1
		 * yet) the progress thread finishes on a private copy */
		if (left == 0 && abortive(fd)) {
			/* the reset after the bytes written before the keys, if any
			 * (else the real close resets at once) */
			if (tc_sock_abort_later(s, fd) && !forget_epoll(s, fd))
				tc_close_later(s, fd, deadline);
		} else if (left == 0 && tc_sock_end_try(s, fd, deadline) &&
		           (forget_epoll(s, fd) < 0 || tc_close_later(s, fd, deadline) < 0)) {
			tc_sock_final_close_by(s, fd, deadline);
		}
	}
	tc_fd_closing = -1;
	tc_in_shim--;
	tc_fd_put(s);
	errno = saved;
}

void tc_fd_forget_stale(int fd)
{
	struct tc_sock *s;
	int last;

	if (!tc_fd_maybe(fd))
		return;
	tc_progress_lock();
	s = tc_fd_take(fd, &last);
	tc_progress_unlock();
	if (s) {
		if (last && !s->closing)  /* (a background end holds no process reference) */
			tc_sock_proc_unref(s);
		tc_fd_put(s);
	}
}

int tc_close_forget_inside(int fd)
{
	int r = 0, tries = 0;

	if (fd >= 0 && fd == tc_fd_closing)
		return -EBUSY;        /* the interrupted close() finishes it */
	/* the progress thread may hold its lock for a moment; our own
	 * interrupted frame would hold it for good: try for ~10 ms */
	while ((r = tc_fd_present(fd) ? -EAGAIN : 0) < 0) {
		struct timespec ts = { 0, 100000 };

		if (tc_progress_trylock() == 0) {
			r = tc_fd_take_nowait(fd);
			tc_progress_unlock();
			if (r != -EAGAIN)
				break;
		}
		if (++tries == 100)
			break;
		nanosleep(&ts, NULL);
	}
	return r < 0 ? r : 0;
}

/* close() entered while this thread is already inside the shim: from a
 * signal handler (or a library the shim called). The fd's table entry
 * goes with the fd (tc_close_forget_inside); when that cannot be had,
 * neither goes (EAGAIN, the fd stays open). No FINp then: the session's
 * orderly close needs the locks. */
static int close_inside(int fd)
{
	int r = tc_close_forget_inside(fd);

	if (r == -EBUSY)
		return 0;
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return tc_real_close(fd);
}

TC_EXPORT int close(int fd)
{
	if (tc_in_shim)
		return close_inside(fd);
	if (tc_own_fd(fd))
		return 0;             /* ours: the application never opened it */
	if (tc_fd_maybe(fd))
		tc_close_fd(fd);
	return tc_real_close(fd);
}

/* close_range() around the shim's own fds and, when not -1, spare. */
static int close_range_sparing(unsigned int lo, unsigned int hi, int flags, int spare)
{
	int own[8], n = tc_own_fds(own, 7), r = 0;

	if (spare >= 0) {             /* into the sorted list */
		int j = n++;

		for (; j > 0 && own[j - 1] > spare; j--)
			own[j] = own[j - 1];
		own[j] = spare;
	}
	for (int i = 0; i < n && lo <= hi; i++) {
		unsigned int o = (unsigned int)own[i];

		if (o < lo || o > hi)
			continue;
		if (o > lo && tc_real_close_range(lo, o - 1, flags) < 0)
			r = -1;
		if (o == ~0U)
			return r;
		lo = o + 1;
	}
	if (lo <= hi && tc_real_close_range(lo, hi, flags) < 0)
		r = -1;
	return r;
}

/* close_range() (and closefrom()) inside the shim, a signal handler: each
 * tracked fd in [lo, hi] is forgotten as close() does there; the first
 * one whose table entry cannot be had without waiting stops the call
 * there: the fds below it are closed, it and those above stay open
 * (EAGAIN). The shim's own fds and the fd the interrupted close() is
 * closing stay open too, as outside. */
static int close_range_inside(unsigned int lo, unsigned int hi, int flags)
{
	int stop = -1;

	if (flags & CLOSE_RANGE_CLOEXEC)
		return tc_real_close_range(lo, hi, flags);   /* nothing closes */
	if (lo < (unsigned int)tc_fd_limit() && __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		for (int t = tc_fd_next_present((int)lo); t >= 0 && (unsigned int)t <= hi;
		     t = tc_fd_next_present(t + 1))
			if (tc_close_forget_inside(t) == -EAGAIN) {
				stop = t;
				break;
			}
	if (stop < 0)
		return close_range_sparing(lo, hi, flags, tc_fd_closing);
	if ((unsigned int)stop > lo)
		close_range_sparing(lo, (unsigned int)stop - 1, flags, tc_fd_closing);
	errno = EAGAIN;
	return -1;
}

/* Forgets every tracked fd from lo up (closefrom and close_range). */
static void close_tracked_from(unsigned int lo, unsigned int hi)
{
	unsigned int top = (unsigned int)tc_fd_limit() - 1;

	for (unsigned int fd = lo; fd <= hi && fd <= top; fd++) {
		struct tc_sock *s = tc_fd_get((int)fd);

		if (s) {
			tc_fd_put(s);
			tc_close_fd((int)fd);
		}
	}
}

TC_EXPORT void closefrom(int lo)
{
	int saved = errno;

	if (lo >= 0 && tc_in_shim) {
		close_range_inside((unsigned int)lo, ~0U, 0);
		errno = saved;
		return;
	}
	if (lo >= 0 && __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		close_tracked_from((unsigned int)lo, ~0U);
	if (lo >= 0)
		close_range_sparing((unsigned int)lo, ~0U, 0, -1);
	else
		tc_real_closefrom(lo);
}

TC_EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
	if (tc_in_shim && lo <= hi)
		return close_range_inside(lo, hi, flags);
	if (!(flags & CLOSE_RANGE_CLOEXEC) && __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) &&
	    !tc_in_shim && lo <= hi)
		close_tracked_from(lo, hi);
	if ((flags & CLOSE_RANGE_CLOEXEC) && !tc_in_shim && lo <= hi)
		tc_cloexec_app_set_range(lo, hi);   /* the application's flag now */
	if (!tc_in_shim && lo <= hi)
		return close_range_sparing(lo, hi, flags, -1);
	return tc_real_close_range(lo, hi, flags);
}
