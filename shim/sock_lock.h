/*
 * sock_lock.h - the region's locks (rx_lock, tx_lock, sess_lock: see
 * sock.h for their order) and the monotonic clock their waits use.
 */
#ifndef TC_SHIM_SOCK_LOCK_H
#define TC_SHIM_SOCK_LOCK_H

#include <errno.h>
#include <pthread.h>
#include <time.h>

/* ---- locks: process-shared and robust (a process that died holding one
 * does not wedge the others) ---- */

static inline void lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) == EOWNERDEAD)
		pthread_mutex_consistent(m);
}

static inline int trylock(pthread_mutex_t *m)
{
	int r = pthread_mutex_trylock(m);

	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(m);
		r = 0;
	}
	return r == 0 ? 0 : -1;
}

static inline void unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Takes m, giving up at deadline (ms, CLOCK_MONOTONIC): another thread may
 * sit in a blocking send with it while this one closes or exits. */
static inline int lock_until(pthread_mutex_t *m, long deadline)
{
	struct timespec ts = { 0, 1000000 };

	while (trylock(m) < 0) {
		if (now_ms() >= deadline)
			return -1;
		nanosleep(&ts, NULL);
	}
	return 0;
}


static inline int init_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int r;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	r = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return -r;
}

#endif
