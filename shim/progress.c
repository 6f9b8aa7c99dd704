/*
 * progress.c - see progress.h.
 *
 * The thread polls the sockets that have work (tc_sock_progress_events)
 * plus an eventfd used to wake it, and calls tc_sock_progress() on those
 * that are ready. It never blocks while holding a socket lock: the work
 * functions only try-lock and use non-blocking I/O.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "keypool.h"
#include "renew.h"
#include "shim.h"
#include "sock.h"

#define MAX_POLL 256

static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static int started;
static int wake_fd = -1;

void tc_progress_lock(void)
{
	pthread_mutex_lock(&prog_lock);
}

void tc_progress_unlock(void)
{
	pthread_mutex_unlock(&prog_lock);
}

struct collect {
	struct pollfd *pfd;
	int n;
};

static void collect_one(int fd, struct tc_sock *s, void *arg)
{
	struct collect *c = arg;
	short ev;

	if (c->n >= MAX_POLL || s->kind != TC_K_CONN)
		return;
	ev = tc_sock_progress_events(s);
	if (!ev)
		return;
	c->pfd[c->n].fd = fd;
	c->pfd[c->n].events = ev;
	c->pfd[c->n].revents = 0;
	c->n++;
}

static void *progress_main(void *arg)
{
	struct pollfd pfd[MAX_POLL + 1];
	uint64_t v;

	(void)arg;
	tc_in_shim = 0;
	for (;;) {
		struct collect c = { pfd + 1, 0 };
		int r, tmo, busy = 0;

		pfd[0].fd = wake_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pthread_mutex_lock(&prog_lock);
		tc_fd_foreach(collect_one, &c);
		pthread_mutex_unlock(&prog_lock);
		tc_keypool_fill();        /* the next connections' key pairs */
		tmo = tc_renew_all();     /* listeners: see renew.h */
		if (c.n && (tmo < 0 || tmo > 200))
			tmo = 200;
		r = tc_real_poll(pfd, (nfds_t)c.n + 1, tmo);
		if (r < 0 && errno != EINTR) {
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		if (pfd[0].revents & POLLIN)
			(void)tc_real_read(wake_fd, &v, sizeof(v));
		pthread_mutex_lock(&prog_lock);
		for (int i = 1; i <= c.n; i++) {
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
		pthread_mutex_unlock(&prog_lock);
		if (busy) {
			/* Ready but no progress (the application holds a lock or
			 * owns the data): do not spin. */
			struct timespec ts = { 0, 5000000 };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

void tc_progress_start(void)
{
	if (!__atomic_load_n(&started, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&start_lock);
		if (!started) {
			sigset_t all, old;
			pthread_attr_t a;
			pthread_t t;

			if (wake_fd < 0 && (wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0)
				tc_own_fd_add(&wake_fd);
			sigfillset(&all);
			pthread_sigmask(SIG_SETMASK, &all, &old);
			pthread_attr_init(&a);
			pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
			pthread_attr_setstacksize(&a, 256 * 1024);
			/* started before the thread runs: its own tc_progress_kick()
			 * must not wait for start_lock, which a fork's prepare
			 * handler may take before prog_lock (held by the thread) */
			__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
			if (wake_fd < 0 || pthread_create(&t, &a, progress_main, NULL) != 0) {
				__atomic_store_n(&started, 0, __ATOMIC_RELEASE);
				tc_err("cannot start the progress thread");
			}
			pthread_attr_destroy(&a);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
		pthread_mutex_unlock(&start_lock);
	}
}

void tc_progress_kick(void)
{
	uint64_t one = 1;

	tc_progress_start();
	if (wake_fd >= 0)
		(void)tc_real_write(wake_fd, &one, sizeof(one));
}

void tc_progress_atfork_prepare(void)
{
	pthread_mutex_lock(&start_lock);
	pthread_mutex_lock(&prog_lock);
}

void tc_progress_atfork_parent(void)
{
	pthread_mutex_unlock(&prog_lock);
	pthread_mutex_unlock(&start_lock);
}

void tc_progress_atfork_child(void)
{
	pthread_mutex_init(&prog_lock, NULL);
	pthread_mutex_init(&start_lock, NULL);
	started = 0;
	if (wake_fd >= 0) {
		tc_own_fd_del(&wake_fd);
		tc_real_close(wake_fd);
		wake_fd = -1;
	}
}
