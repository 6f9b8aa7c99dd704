/*
 * progress_work.c - what the progress thread (progress.c) does: keeps the
 * epoll registrations of the connections with work (sock_ready.c) up to
 * date, works on the ready ones, and between rounds makes the next key
 * pairs (keypool.c), ends closed connections (close_later.c) and looks at
 * the listeners' opt-in (renew.c). All but idle() run in the thread with
 * the progress lock held, which also guards the sockets' pg_* fields.
 */
#include "config.h"

#include <poll.h>
#include <sys/epoll.h>
#include <time.h>

#include "close_later.h"
#include "fdtable.h"
#include "keypool.h"
#include "log.h"
#include "progress.h"
#include "renew.h"
#include "sock.h"

/* The thread's own bookkeeping (only it touches these). */
static uint32_t next_tag;         /* the last registration's tag */
static int reap_due;              /* a closed connection's end may be done */
static long reap_at = -1;         /* the next end's deadline (monotonic ms) */

/* Monotonic clock, ms. */
static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The epoll events s waits for (0: no work). */
static uint32_t wanted(struct tc_sock *s)
{
	short ev = s->kind == TC_K_CONN ? tc_sock_progress_events(s) : 0;

	return (ev & POLLIN ? EPOLLIN : 0) | (ev & POLLOUT ? EPOLLOUT : 0);
}

/* 1 if s holds a registration in this process's epoll set. */
static int registered(const struct tc_sock *s)
{
	return s->pg_fd >= 0 && s->pg_epoch == tc_progress_epoch();
}

/* A closed connection's end (close_later.c): reaped once it has no work
 * left, or at its deadline. */
static void note_closing(const struct tc_sock *s, uint32_t ev)
{
	if (!s->closing)
		return;
	if (!ev)
		reap_due = 1;
	else if (reap_at < 0 || s->closing < reap_at)
		reap_at = s->closing;
}

/* Brings s's registration (made through fd if it has none) in line with
 * its work; armed again when it has just fired. Returns its events. */
static uint32_t update(struct tc_sock *s, int fd, int fired)
{
	uint32_t ev = wanted(s);
	int r;

	note_closing(s, ev);
	if (!registered(s)) {
		if (!ev)
			return 0;
		if (++next_tag == 0)
			next_tag = 1;
		r = tc_progress_watch(fd, ev, next_tag, 1);
		if (r < 0) {
			tc_debug("fd %d: progress thread cannot watch it: %s", fd, tc_strerror(r));
			return ev;          /* the next full look tries again */
		}
		s->pg_fd = fd;
		s->pg_tag = next_tag;
		s->pg_epoch = tc_progress_epoch();
	} else if (!ev) {
		tc_progress_unwatch(s->pg_fd);
		s->pg_fd = -1;
		return 0;
	} else if (fired || ev != s->pg_events) {
		r = tc_progress_watch(s->pg_fd, ev, s->pg_tag, 0);
		if (r < 0) {
			tc_debug("fd %d: progress thread cannot watch it: %s", s->pg_fd, tc_strerror(r));
			s->pg_fd = -1;
			return ev;
		}
	}
	s->pg_events = ev;
	return ev;
}

/* Table walk: one connection's registration (table lock held). */
static void scan_one(int fd, struct tc_sock *s, void *arg)
{
	int *n = arg;

	if (s->kind == TC_K_CONN && update(s, fd, 0))
		(*n)++;
}

/* Every connection's registration; how many have work. */
static int scan(void)
{
	int n = 0;

	if (__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		tc_fd_foreach(scan_one, &n);
	return n;
}

/* fd's connection gained work: 1 if it has. */
static int note(int fd)
{
	struct tc_sock *s = tc_fd_get(fd);
	int r = 0;

	if (!s)
		return 0;
	if (s->kind == TC_K_CONN)
		r = update(s, fd, 0) != 0;
	tc_fd_put(s);
	return r;
}

/* Between rounds, no lock held: returns the longest wait (ms, -1: none). */
static int idle(void)
{
	long now = mono_ms(), a = -1;
	int b;

	tc_keypool_fill();        /* the next connections' key pairs */
	/* closed connections whose end is done (a walk of the table: only
	 * when one may be) */
	if (reap_due || (reap_at >= 0 && now >= reap_at)) {
		int r = tc_close_later_reap();

		reap_due = 0;
		reap_at = r < 0 ? -1 : now + r;
	}
	if (reap_at >= 0)
		a = reap_at > now ? reap_at - now : 0;
	b = tc_renew_all();       /* listeners: see renew.h */
	return a < 0 ? b : b < 0 ? (int)a : a < b ? (int)a : b;
}

/* fd's registration tag reported ev: the work on its connection, then
 * the registration armed again or dropped. 1 if it is still ready for
 * what it waits for (no progress made). */
static int run(int fd, uint32_t tag, uint32_t ev)
{
	struct tc_sock *s = tc_fd_get(fd);
	int busy = 0;

	/* an entry of a closed or reused fd number (progress.h) */
	if (!s || !registered(s) || s->pg_fd != fd || s->pg_tag != tag) {
		tc_fd_put(s);
		return 0;
	}
	if (s->kind == TC_K_CONN)
		tc_sock_progress(s, fd);
	busy = (update(s, fd, 1) & ev) != 0;
	tc_fd_put(s);
	return busy;
}

const struct tc_progress_work tc_progress_conn_work = { scan, note, idle, run };
