/*
 * progress_work.c - what the progress thread (progress.c) does on each
 * round: the connections with work (sock_ready.c) from the fd table, the
 * next key pairs (keypool.c), the listeners' opt-in (renew.c).
 */
#include "config.h"

#include <poll.h>

#include "fdtable.h"
#include "keypool.h"
#include "progress.h"
#include "renew.h"
#include "sock.h"

struct collect {
	struct pollfd *pfd;
	int n, cap;
};

static void collect_one(int fd, struct tc_sock *s, void *arg)
{
	struct collect *c = arg;
	short ev;

	if (c->n >= c->cap || s->kind != TC_K_CONN)
		return;
	ev = tc_sock_progress_events(s);
	if (!ev)
		return;
	c->pfd[c->n].fd = fd;
	c->pfd[c->n].events = ev;
	c->pfd[c->n].revents = 0;
	c->n++;
}

/* The connections that wait for something (progress lock held). */
static int collect(struct pollfd *pfd, int cap)
{
	struct collect c = { pfd, 0, cap };

	tc_fd_foreach(collect_one, &c);
	return c.n;
}

/* Between rounds, no lock held: returns the longest wait (ms, -1: none). */
static int idle(void)
{
	tc_keypool_fill();        /* the next connections' key pairs */
	return tc_renew_all();    /* listeners: see renew.h */
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
