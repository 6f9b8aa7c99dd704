/*
 * progress_work.c - what the progress thread (progress.c) does on each
 * round: the connections with work (sock_ready.c) from the fd table, the
 * next key pairs (keypool.c), the listeners' opt-in (renew.c).
 */
#include "config.h"

#include <poll.h>

#include "close_later.h"
#include "fdtable.h"
#include "keypool.h"
#include "progress.h"
#include "renew.h"
#include "sock.h"

struct collect {
	struct pollfd *pfd;
	int n, cap, skip, want;
};

static void collect_one(int fd, struct tc_sock *s, void *arg)
{
	struct collect *c = arg;
	short ev;

	if (s->kind != TC_K_CONN)
		return;
	ev = tc_sock_progress_events(s);
	if (!ev)
		return;
	/* those before skip come last (they had their turn) */
	if (c->want++ < c->skip || c->n >= c->cap)
		return;
	c->pfd[c->n].fd = fd;
	c->pfd[c->n].events = ev;
	c->pfd[c->n].revents = 0;
	c->n++;
}

/* The connections that wait for something (progress lock held): the
 * number wanted; pfd holds min(wanted, cap) of them. */
static int collect(struct pollfd *pfd, int cap, int skip)
{
	struct collect c = { pfd, 0, cap, skip, 0 };

	tc_fd_foreach(collect_one, &c);
	if (c.n < cap && skip > 0) {          /* then the first ones */
		c.skip = 0;
		c.want = 0;
		c.cap = c.n + (skip < cap - c.n ? skip : cap - c.n);
		tc_fd_foreach(collect_one, &c);
		c.want = c.want > c.n ? c.want : c.n;
	}
	return c.want;
}

/* Between rounds, no lock held: returns the longest wait (ms, -1: none). */
static int idle(void)
{
	int a, b;

	tc_keypool_fill();        /* the next connections' key pairs */
	a = tc_close_later_reap();    /* closed connections whose end is done */
	b = tc_renew_all();       /* listeners: see renew.h */
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* Works on the ready connections (progress lock held); 1 if one of them
 * is still ready for what it waits for (no progress made). */
static int run(struct pollfd *pfd, int n)
{
	int busy = 0;

	for (int i = 0; i < n; i++) {
		struct tc_sock *s;

		if (!pfd[i].revents)
			continue;
		s = tc_fd_get(pfd[i].fd);
		if (!s)
			continue;
		if (s->kind == TC_K_CONN) {
			tc_sock_progress(s, pfd[i].fd);
			if (tc_sock_progress_events(s) & pfd[i].revents)
				busy = 1;
		}
		tc_fd_put(s);
	}
	return busy;
}

const struct tc_progress_work tc_progress_conn_work = { collect, idle, run };
