/*
 * poll.c - poll, ppoll and their _FORTIFY_SOURCE variants: a POLLIN that
 * only an Init message caused is consumed and hidden, so that "readable"
 * keeps meaning "a read returns data" during the key exchange too (after
 * it, the kernel's own readiness is kept truthful by the shim). Inside
 * the shim (a signal handler that interrupted it) poll passes to the
 * kernel unfiltered: filtering takes the connection's locks, which the
 * interrupted frame may hold, and the data call that follows there fails
 * with EAGAIN anyway (tcpcrypt(7), "SIGNAL HANDLERS").
 */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <time.h>

#include "deadline.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "shim.h"
#include "sock.h"

extern void __chk_fail(void) __attribute__((noreturn));
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t,
                const sigset_t *mask, size_t fdslen);

/* Hides handshake-only POLLIN in fds; returns the new count of ready fds. */
static int filter(struct pollfd *fds, nfds_t n, int ready)
{
	for (nfds_t i = 0; i < n && ready > 0; i++) {
		struct tc_sock *s;
		short rev = fds[i].revents;

		if (!(rev & POLLIN) || (rev & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) ||
		    !(s = tc_conn_get(fds[i].fd)))
			continue;
		tc_in_shim++;
		if (tc_sock_hide_pollin(s, fds[i].fd)) {
			fds[i].revents &= (short)~(POLLIN | POLLRDNORM);
			if (!fds[i].revents)
				ready--;
		}
		tc_in_shim--;
		tc_fd_put(s);
	}
	return ready;
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Polls, filtering every round's events (see epoll.c's wait_filtered). */
static int tc_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	long end = timeout > 0 ? ms_now() + timeout : 0;
	int r, left = timeout;

	for (;;) {
		r = tc_real_poll(fds, n, left);
		if (r <= 0)
			return r;
		int saved = errno;
		r = filter(fds, n, r);
		errno = saved;
		if (r > 0 || timeout == 0)
			return r;
		if (timeout > 0 && (left = (int)(end - ms_now())) <= 0)
			return 0;
	}
}

TC_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) || tc_in_shim)
		return tc_real_poll(fds, n, timeout);
	return tc_poll(fds, n, timeout);
}

TC_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

TC_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
	struct timespec end, left;
	int r;

	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) || tc_in_shim)
		return tc_real_ppoll(fds, n, t, mask);
	if (t) {
		tc_deadline_start(&end, t);
		left = *t;
	}
	for (;;) {
		r = tc_real_ppoll(fds, n, t ? &left : NULL, mask);
		if (r <= 0)
			return r;
		int saved = errno;
		r = filter(fds, n, r);
		errno = saved;
		if (r > 0 || (t && !t->tv_sec && !t->tv_nsec))
			return r;
		if (t && !tc_deadline_left(&end, &left))
			return 0;
	}
}

TC_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t,
                          const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return ppoll(fds, n, t, mask);
}
