/*
 * progress.c - see progress.h.
 *
 * The thread polls the sockets that have work plus an eventfd used to wake
 * it, and has the ready ones worked on. What the work is comes from above
 * (tc_progress_set_work: progress_work.c), so that this file calls into no
 * other layer of the shim. It never blocks while holding a socket lock:
 * the work functions only try-lock and use non-blocking I/O.
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

#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "shim.h"

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

static const struct tc_progress_work *work;

void tc_progress_set_work(const struct tc_progress_work *w)
{
	work = w;
}

static void *progress_main(void *arg)
{
	struct pollfd pfd[MAX_POLL + 1];
	uint64_t v;

	(void)arg;
	tc_in_shim = 0;
	for (;;) {
		int r, n, tmo, busy;

		pfd[0].fd = wake_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pthread_mutex_lock(&prog_lock);
		n = work->collect(pfd + 1, MAX_POLL);
		pthread_mutex_unlock(&prog_lock);
		tmo = work->idle();
		if (n && (tmo < 0 || tmo > 200))
			tmo = 200;
		r = tc_real_poll(pfd, (nfds_t)n + 1, tmo);
		if (r < 0 && errno != EINTR) {
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		if (pfd[0].revents & POLLIN)
			(void)tc_real_read(wake_fd, &v, sizeof(v));
		pthread_mutex_lock(&prog_lock);
		busy = work->run(pfd + 1, n);
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
	if (!__atomic_load_n(&started, __ATOMIC_ACQUIRE) && work) {
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
			if (wake_fd >= 0 && pthread_create(&t, &a, progress_main, NULL) == 0)
				__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
			else
				tc_err("cannot start the progress thread");
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
