/*
 * close_later.c - the end of a connection after close() returned (see
 * close_later.h). The private copy of the socket (a high fd, close-on-exec)
 * stays in the fd table with s->closing set: the progress thread finds it
 * there like any connection with work (the Init exchange, frames, FINp),
 * exit waits for it (exit.c), fork and exec leave it to this process
 * (fork.c, exec.c). The application never sees that fd number: the
 * kernel hands it out again only once it is closed here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>

#include "close_later.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"

#define CLOSING_FD_MIN 512         /* away from the application's low numbers */
#define REAP_BATCH     64

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tc_close_later(struct tc_sock *s, int fd, long deadline)
{
	int p = tc_real_fcntl(fd, F_DUPFD_CLOEXEC, CLOSING_FD_MIN), r;

	if (p < 0)
		p = tc_real_fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (p < 0)
		return -errno;
	s->closing = deadline;
	r = tc_fd_set(p, s);
	if (r < 0) {
		s->closing = 0;
		tc_real_close(p);
		return r;
	}
	tc_debug("fd %d: closed; its end goes on in the background (fd %d)", fd, p);
	tc_progress_kick_fd(p);
	return 0;
}

/* 1 when nothing is left to do for s (or nothing can be done). */
static int done(struct tc_sock *s, long now)
{
	int st = tc_sock_state(s);

	if (now >= s->closing)
		return 1;
	if (st == TC_ST_CONNECTING || st == TC_ST_HANDSHAKE)
		return 0;
	return st != TC_ST_READY || !tc_sock_progress_events(s);
}

struct reap {
	long now, next;
	int n, fd[REAP_BATCH];
};

/* Table lock held. */
static void pick(int fd, struct tc_sock *s, void *arg)
{
	struct reap *r = arg;

	if (!s->closing)
		return;
	if (done(s, r->now)) {
		if (r->n < REAP_BATCH)
			r->fd[r->n++] = fd;
	} else if (r->next < 0 || s->closing - r->now < r->next) {
		r->next = s->closing - r->now;
	}
}

int tc_close_later_reap(void)
{
	struct reap r = { mono_ms(), -1, 0, { 0 } };

	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		return -1;
	tc_fd_foreach(pick, &r);
	for (int i = 0; i < r.n; i++) {
		struct tc_sock *s;
		int last;

		tc_progress_lock();
		s = tc_fd_take(r.fd[i], &last);
		tc_progress_unlock();
		if (!s)
			continue;
		if (r.now >= s->closing && tc_sock_progress_events(s))
			tc_info("fd %d: closed before its last frames could be sent", r.fd[i]);
		tc_real_close(r.fd[i]);
		tc_fd_put(s);
	}
	return r.n == REAP_BATCH ? 0 : (int)r.next;
}

static void pick_all(int fd, struct tc_sock *s, void *arg)
{
	struct reap *r = arg;

	if (s->closing && r->n < REAP_BATCH)
		r->fd[r->n++] = fd;
}

/* (runs after fork.c's child handler, registered first) */
static void atfork_child(void)
{
	struct reap r;

	do {
		r.n = 0;
		if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
			return;
		tc_fd_foreach(pick_all, &r);
		for (int i = 0; i < r.n; i++) {
			int last;
			struct tc_sock *s = tc_fd_take(r.fd[i], &last);

			tc_real_close(r.fd[i]);
			if (s && --s->refs == 0)
				tc_sock_free_local(s);     /* the region is the parent's to end */
		}
	} while (r.n == REAP_BATCH);
}

void tc_close_later_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}
