/*
 * progress.c - see progress.h.
 *
 * The thread waits in an epoll set for the connections that have work plus
 * an eventfd used to wake it, and has the ready ones worked on: a round
 * costs what is ready, not what waits. What the work is comes from above
 * (tc_progress_set_work: progress_work.c), so that this file calls into no
 * other layer of the shim. It never blocks while holding a socket lock:
 * the work functions only try-lock and use non-blocking I/O.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "shim.h"
#include "state.h"

#define EV_BATCH  256           /* events taken per epoll_wait */
#define RESCAN_MS 1000          /* a full look while connections have work */
#define WAKE_KEY  UINT64_MAX    /* the eventfd's registration */
#define NO_SCAN   __LONG_MAX__  /* no full look due */

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

unsigned tc_progress_epoch(void)
{
	return tc_progress_ep_epoch;
}

/* One epoll_ctl on the set; 0 or -errno. */
static int ep_ctl(int op, int fd, uint32_t ev, uint32_t tag)
{
	struct epoll_event e = { .events = ev | EPOLLONESHOT,
				 .data.u64 = (uint64_t)tag << 32 | (uint32_t)fd };

	return tc_real_epoll_ctl(tc_progress_ep_fd, op, fd, &e) == 0 ? 0 : -errno;
}

int tc_progress_watch(int fd, uint32_t ev, uint32_t tag, int fresh)
{
	int r = ep_ctl(fresh ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, ev, tag);

	/* an entry left by an earlier registration through this fd number
	 * and socket (progress.h), or none where one was expected */
	if (r == -EEXIST)
		r = ep_ctl(EPOLL_CTL_MOD, fd, ev, tag);
	else if (r == -ENOENT)
		r = ep_ctl(EPOLL_CTL_ADD, fd, ev, tag);
	return r;
}

void tc_progress_unwatch(int fd)
{
	(void)tc_real_epoll_ctl(tc_progress_ep_fd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- notes: the fds whose connections gained work ---- */

/* Sets bit b of word array w (atomic). */
static void set_bit(uint64_t *w, unsigned b)
{
	__atomic_fetch_or(&w[b / 64], (uint64_t)1 << (b % 64), __ATOMIC_SEQ_CST);
}

/* Marks fd, then its summary bits (the thread clears them top down). */
static void note(int fd)
{
	unsigned u = (unsigned)fd;

	if (fd < 0 || u >= TC_NOTE_FDS) {
		__atomic_store_n(&tc_progress_rescan, 1, __ATOMIC_SEQ_CST);
		return;
	}
	set_bit(tc_progress_notes, u);
	set_bit(tc_progress_notes_sum, u / 64);
	set_bit(tc_progress_notes_top, u / 64 / 64);
}

/* Hands every noted fd to fn, clearing the notes (the thread); 1 if fn
 * said 1 for one of them. */
static int drain(int (*fn)(int fd))
{
	int any = 0;

	for (unsigned t = 0; t < TC_NOTE_FDS / 64 / 64 / 64; t++) {
		uint64_t top = __atomic_exchange_n(&tc_progress_notes_top[t], 0, __ATOMIC_SEQ_CST);

		for (; top; top &= top - 1) {
			unsigned sw = t * 64 + (unsigned)__builtin_ctzll(top);
			uint64_t sum = __atomic_exchange_n(&tc_progress_notes_sum[sw], 0, __ATOMIC_SEQ_CST);

			for (; sum; sum &= sum - 1) {
				unsigned w = sw * 64 + (unsigned)__builtin_ctzll(sum);
				uint64_t bits = __atomic_exchange_n(&tc_progress_notes[w], 0, __ATOMIC_SEQ_CST);

				for (; bits; bits &= bits - 1)
					if (fn)
						any |= fn((int)(w * 64 + (unsigned)__builtin_ctzll(bits)));
			}
		}
	}
	return any;
}

/* ---- the thread ---- */

/* Monotonic clock, ms. */
static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms (< 1000): the thread only, never a caller's path. */
static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	nanosleep(&ts, NULL);
}

/* Brings the registrations up to date (the progress lock held): all of
 * them when asked for or due (*next_scan), else the noted ones. A full
 * look comes every RESCAN_MS while connections have work: a safety net
 * (a change that no kick told of), a walk of the table in memory. */
static void look(long *next_scan)
{
	const struct tc_progress_work *w = tc_progress_work_set;
	long now = mono_ms();

	if (__atomic_exchange_n(&tc_progress_rescan, 0, __ATOMIC_SEQ_CST) || now >= *next_scan) {
		(void)drain(NULL);      /* the scan covers them */
		*next_scan = w->scan() ? now + RESCAN_MS : NO_SCAN;
	} else if (drain(w->note) && *next_scan == NO_SCAN) {
		*next_scan = now + RESCAN_MS;
	}
}

/* Works on what epoll reported; 1 if a ready one made no progress. */
static int run(const struct epoll_event *ev, int n)
{
	int busy = 0;

	for (int i = 0; i < n; i++) {
		uint64_t k = ev[i].data.u64;

		if (k == WAKE_KEY) {
			uint64_t v;

			(void)tc_real_read(tc_progress_wake_fd, &v, sizeof(v));
			continue;
		}
		/* one at a time: close() waits for this lock */
		pthread_mutex_lock(&tc_progress_mutex);
		busy |= tc_progress_work_set->run((int)(uint32_t)k, (uint32_t)(k >> 32), ev[i].events);
		pthread_mutex_unlock(&tc_progress_mutex);
	}
	return busy;
}

/* The thread: each round, the registrations brought up to date, the work
 * between rounds, a wait in epoll, the ready connections worked on. */
static void *progress_main(void *arg)
{
	struct epoll_event ev[EV_BATCH];
	long next_scan = 0;           /* the first round looks at everything */

	(void)arg;
	tc_in_shim = 0;
	__atomic_store_n(&tc_progress_tid, (uint32_t)tc_syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;) {
		int n, tmo;
		long left;

		/* kicks from now on write again; those before (their notes
		 * and changes seen through the exchange) are looked at now */
		(void)__atomic_exchange_n(&tc_progress_kicked, 0, __ATOMIC_SEQ_CST);
		pthread_mutex_lock(&tc_progress_mutex);
		look(&next_scan);
		pthread_mutex_unlock(&tc_progress_mutex);
		tmo = tc_progress_work_set->idle();
		left = next_scan - mono_ms();
		if (left < 0)
			left = 0;
		if (next_scan != NO_SCAN && (tmo < 0 || tmo > left))
			tmo = (int)left;
		n = tc_real_epoll_wait(tc_progress_ep_fd, ev, EV_BATCH, tmo);
		if (n < 0) {
			if (errno != EINTR)
				pause_ms(10);
			continue;
		}
		if (run(ev, n)) {
			/* Ready but no progress (the application holds a lock or
			 * owns the data): do not spin. */
			pause_ms(5);
		}
	}
	return NULL;
}

/* The eventfd and the epoll set watching it (start lock held); 0 or -1. */
static int make_fds(void)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = WAKE_KEY };

	if (tc_progress_wake_fd < 0 && (tc_progress_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0)
		tc_own_fd_add(&tc_progress_wake_fd);
	if (tc_progress_wake_fd < 0)
		return -1;
	if (tc_progress_ep_fd >= 0)
		return 0;
	tc_progress_ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (tc_progress_ep_fd < 0)
		return -1;
	tc_own_fd_add(&tc_progress_ep_fd);
	tc_progress_ep_epoch++;
	if (tc_real_epoll_ctl(tc_progress_ep_fd, EPOLL_CTL_ADD, tc_progress_wake_fd, &e) < 0) {
		tc_own_fd_del(&tc_progress_ep_fd);
		tc_real_close(tc_progress_ep_fd);
		tc_progress_ep_fd = -1;
		return -1;
	}
	return 0;
}

void tc_progress_start(void)
{
	if (!__atomic_load_n(&tc_progress_started, __ATOMIC_ACQUIRE) && tc_progress_work_set) {
		pthread_mutex_lock(&tc_progress_start_mutex);
		if (!tc_progress_started) {
			sigset_t all, old;
			pthread_attr_t a;
			pthread_t t;

			int ok = make_fds() == 0;

			sigfillset(&all);
			pthread_sigmask(SIG_SETMASK, &all, &old);
			pthread_attr_init(&a);
			pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
			pthread_attr_setstacksize(&a, 256 * 1024);
			/* started before the thread runs: its own tc_progress_kick()
			 * must not wait for start_lock, which a fork's prepare
			 * handler may take before prog_lock (held by the thread) */
			__atomic_store_n(&tc_progress_started, 1, __ATOMIC_RELEASE);
			if (!ok || pthread_create(&t, &a, progress_main, NULL) != 0) {
				__atomic_store_n(&tc_progress_started, 0, __ATOMIC_RELEASE);
				tc_err("cannot start the progress thread");
			}
			pthread_attr_destroy(&a);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
		pthread_mutex_unlock(&tc_progress_start_mutex);
	}
}

void tc_progress_wake(void)
{
	uint64_t one = 1;

	tc_progress_start();
	/* one write until the thread's next round starts */
	if (tc_progress_wake_fd >= 0 && !__atomic_exchange_n(&tc_progress_kicked, 1, __ATOMIC_SEQ_CST))
		(void)tc_real_write(tc_progress_wake_fd, &one, sizeof(one));
}

void tc_progress_kick(void)
{
	__atomic_store_n(&tc_progress_rescan, 1, __ATOMIC_SEQ_CST);
	tc_progress_wake();
}

void tc_progress_kick_fd(int fd)
{
	note(fd);
	tc_progress_wake();
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
	/* the parent's set (shared with it): this thread will make its own,
	 * and look at every connection first */
	if (tc_progress_ep_fd >= 0) {
		tc_own_fd_del(&tc_progress_ep_fd);
		tc_real_close(tc_progress_ep_fd);
		tc_progress_ep_fd = -1;
	}
	tc_progress_rescan = 1;
	tc_progress_ep_epoch++;       /* the parent's registrations are not ours */
}
