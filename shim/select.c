/*
 * select.c - select, pselect: like poll.c, a readable report that only an
 * Init message caused is consumed and taken out of the read set; inside
 * the shim (a signal handler), unfiltered, as poll.c says.
 */
#include "config.h"

#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "deadline.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "shim.h"
#include "sock.h"

/* Clears handshake-only fds from rd; returns the new count. */
static int filter(int nfds, fd_set *rd, int ready)
{
	for (int fd = 0; rd && fd < nfds && fd < FD_SETSIZE && ready > 0; fd++) {
		struct tc_sock *s;

		if (!FD_ISSET(fd, rd) || !(s = tc_conn_get(fd)))
			continue;
		tc_in_shim++;
		if (tc_sock_hide_pollin(s, fd)) {
			FD_CLR(fd, rd);
			ready--;
		}
		tc_in_shim--;
		tc_fd_put(s);
	}
	return ready;
}

/* The fds still set in any of the sets (an fd counts once per set). */
static int recount(int nfds, fd_set *r, fd_set *w, fd_set *e)
{
	int n = 0;

	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		n += (r && FD_ISSET(fd, r)) + (w && FD_ISSET(fd, w)) + (e && FD_ISSET(fd, e));
	return n;
}

static int tc_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv,
                     const struct timespec *ts, const sigset_t *mask)
{
	fd_set r0, w0, e0;
	struct timespec left = { 0, 0 }, end, now;
	int n, zero = (tv && !tv->tv_sec && !tv->tv_usec) || (ts && !ts->tv_sec && !ts->tv_nsec);

	if (r)
		r0 = *r;
	if (w)
		w0 = *w;
	if (e)
		e0 = *e;
	if (tv) {
		left.tv_sec = tv->tv_sec;
		left.tv_nsec = tv->tv_usec * 1000L;
	} else if (ts) {
		left = *ts;
	}
	tc_deadline_start(&end, &left);
	for (;;) {
		n = tc_real_pselect(nfds, r, w, e, (tv || ts) ? &left : NULL, mask);
		if (n <= 0)
			break;
		int saved = errno;
		if (filter(nfds, r, n) < n)
			n = recount(nfds, r, w, e);
		errno = saved;
		if (n > 0 || zero)
			break;
		if ((tv || ts) && !tc_deadline_left(&end, &left))
			break;
		if (r)
			*r = r0;
		if (w)
			*w = w0;
		if (e)
			*e = e0;
	}
	if (tv && n >= 0) {            /* Linux reports the time left */
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ns = (end.tv_sec - now.tv_sec) * 1000000000L + (end.tv_nsec - now.tv_nsec);
		if (ns < 0)
			ns = 0;
		tv->tv_sec = ns / 1000000000L;
		tv->tv_usec = (ns % 1000000000L) / 1000;
	}
	return n;
}

TC_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) || tc_in_shim || !r)
		return tc_real_select(nfds, r, w, e, tv);
	return tc_select(nfds, r, w, e, tv, NULL, NULL);
}

TC_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                      const sigset_t *mask)
{
	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) || tc_in_shim || !r)
		return tc_real_pselect(nfds, r, w, e, ts, mask);
	return tc_select(nfds, r, w, e, NULL, ts, mask);
}
