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
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "shim.h"
#include "state.h"

#define POLL_FIRST 256     /* the set's first size; it grows to what is wanted */

void tc_progress_lock(void)
{
	pthread_mutex_lock(&tc_progress_mutex);
}

int tc_progress_trylock(void)
{
	return pthread_mutex_trylock(&tc_progress_mutex);
}

void tc_progress_unlock(void)
{
	pthread_mutex_unlock(&tc_progress_mutex);
}

void tc_progress_set_work(const struct tc_progress_work *w)
{
	tc_progress_work_set = w;
}

/* The poll set, grown to hold every connection that waits for something
 * (thousands of handshakes parked on silent peers must not starve the
 * others); when it cannot grow, the connections take turns. */
static struct pollfd *grow(struct pollfd *pfd, int *cap, int want)
{
	struct pollfd *p;
	int n = *cap;

	while (n < want && n < (1 << 24))
		n *= 2;
	p = n > *cap ? realloc(pfd, (size_t)(n + 1) * sizeof(*p)) : NULL;
	if (!p)
		return pfd;
	*cap = n;
	return p;
}

static void *progress_main(void *arg)
{
	static struct pollfd first[POLL_FIRST + 1];
	struct pollfd *pfd = first, *heap = NULL;
	int cap = POLL_FIRST, skip = 0;
	uint64_t v;

	(void)arg;
	tc_in_shim = 0;
	__atomic_store_n(&tc_progress_tid, (uint32_t)tc_syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;) {
		int r, n, want, tmo, busy;

		/* kicks from now on write again; those before (their changes
		 * seen through the exchange) are looked at by this round */
		(void)__atomic_exchange_n(&tc_progress_kicked, 0, __ATOMIC_SEQ_CST);
		pthread_mutex_lock(&tc_progress_mutex);
		want = tc_progress_work_set->collect(pfd + 1, cap, skip);
		if (want > cap) {
			struct pollfd *p = grow(heap, &cap, want);

			if (p != heap) {
				heap = pfd = p;
				want = tc_progress_work_set->collect(pfd + 1, cap, skip);
			}
		}
		n = want < cap ? want : cap;
		skip = want > cap ? (skip + n) % want : 0;   /* the rest first, next round */
		pthread_mutex_unlock(&tc_progress_mutex);
		pfd[0].fd = tc_progress_wake_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		tmo = tc_progress_work_set->idle();
		if (n && (tmo < 0 || tmo > 200))
			tmo = 200;
		r = tc_real_poll(pfd, (nfds_t)n + 1, tmo);
		if (r < 0 && errno != EINTR) {
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		if (pfd[0].revents & POLLIN)
			(void)tc_real_read(tc_progress_wake_fd, &v, sizeof(v));
		pthread_mutex_lock(&tc_progress_mutex);
		busy = tc_progress_work_set->run(pfd + 1, n);
		pthread_mutex_unlock(&tc_progress_mutex);
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
	if (!__atomic_load_n(&tc_progress_started, __ATOMIC_ACQUIRE) && tc_progress_work_set) {
		pthread_mutex_lock(&tc_progress_start_mutex);
		if (!tc_progress_started) {
			sigset_t all, old;
			pthread_attr_t a;
			pthread_t t;

			if (tc_progress_wake_fd < 0 && (tc_progress_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0)
				tc_own_fd_add(&tc_progress_wake_fd);
			sigfillset(&all);
			pthread_sigmask(SIG_SETMASK, &all, &old);
			pthread_attr_init(&a);
			pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
			pthread_attr_setstacksize(&a, 256 * 1024);
			/* started before the thread runs: its own tc_progress_kick()
			 * must not wait for start_lock, which a fork's prepare
			 * handler may take before prog_lock (held by the thread) */
			__atomic_store_n(&tc_progress_started, 1, __ATOMIC_RELEASE);
			if (tc_progress_wake_fd < 0 || pthread_create(&t, &a, progress_main, NULL) != 0) {
				__atomic_store_n(&tc_progress_started, 0, __ATOMIC_RELEASE);
				tc_err("cannot start the progress thread");
			}
			pthread_attr_destroy(&a);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
		pthread_mutex_unlock(&tc_progress_start_mutex);
	}
}

void tc_progress_kick(void)
{
	uint64_t one = 1;

	tc_progress_start();
	/* one write until the thread's next round starts */
	if (tc_progress_wake_fd >= 0 && !__atomic_exchange_n(&tc_progress_kicked, 1, __ATOMIC_SEQ_CST))
		(void)tc_real_write(tc_progress_wake_fd, &one, sizeof(one));
}

void tc_progress_atfork_prepare(void)
{
	pthread_mutex_lock(&tc_progress_start_mutex);
	pthread_mutex_lock(&tc_progress_mutex);
}

void tc_progress_atfork_parent(void)
{
	pthread_mutex_unlock(&tc_progress_mutex);
	pthread_mutex_unlock(&tc_progress_start_mutex);
}

void tc_progress_atfork_child(void)
{
	pthread_mutex_init(&tc_progress_mutex, NULL);
	pthread_mutex_init(&tc_progress_start_mutex, NULL);
	tc_progress_started = 0;
	tc_progress_kicked = 0;
	if (tc_progress_wake_fd >= 0) {
		tc_own_fd_del(&tc_progress_wake_fd);
		tc_real_close(tc_progress_wake_fd);
		tc_progress_wake_fd = -1;
	}
}
