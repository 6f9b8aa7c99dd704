/*
 * sock_lock.h - the region's locks (rx_lock, tx_lock, sess_lock: see
 * sock.h for their order) and the monotonic clock their waits use.
 *
 * A lock is one 32-bit futex word in the shared region: 0 when free, else
 * the owner's thread id, with TC_LOCK_WAITERS set once someone sleeps on
 * it. Every process that maps the region may write the word (sock_shm.h:
 * the region is untrusted input), so the word is only ever compared and
 * swapped, never followed: no robust list, no pointer, nothing the kernel
 * or libc of this process would walk on another's behalf (glibc's robust
 * process-shared mutexes kept list pointers in the region). Plain futexes,
 * not FUTEX_LOCK_PI: PI would make the kernel attach priority state to
 * whatever task a peer names in the word, and its answers to a forged word
 * (ESRCH, EDEADLK, EINVAL) would need their own recovery anyway.
 *
 * Owner death (what EOWNERDEAD gave): a waiter looks at the owner every
 * TC_LOCK_PROBE_MS; an owner thread that no longer exists (kill(tid, 0):
 * ESRCH; a zombie, from /proc, since its parent may be the very waiter
 * that would reap it), or the waiter itself (no thread takes a region
 * lock twice: a forged word), is taken over. (A tid reused by an unrelated
 * thread, or owners in another pid namespace, look alive: a stall, as a
 * live holder's.) A live owner that never lets go (a peer holding the word) blocks
 * that connection only: deadlines (lock_until) stay bounded.
 */
#ifndef TC_SHIM_SOCK_LOCK_H
#define TC_SHIM_SOCK_LOCK_H

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libc_syms.h"

typedef uint32_t tc_lock_t;

#define TC_LOCK_WAITERS  0x80000000u
#define TC_LOCK_TID      0x3fffffffu
#define TC_LOCK_PROBE_MS 20

static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static inline uint32_t lock_self(void)
{
	return (uint32_t)tc_syscall(SYS_gettid) & TC_LOCK_TID;
}

/* 1 when thread t is a zombie (its process died, not yet reaped: kill()
 * still finds it). From /proc; 0 when that cannot be read (a sandbox). */
static inline int lock_owner_zombie(uint32_t t)
{
	char path[32], buf[256], *p;
	long fd, n;

	snprintf(path, sizeof(path), "/proc/%u/stat", (unsigned)t);
	fd = tc_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = tc_syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	tc_syscall(SYS_close, fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* 1 when the thread named in word v can no longer release it: gone, or
 * the caller itself, or not a thread id at all; with deep (after a wait),
 * also a zombie. */
static inline int lock_owner_gone(uint32_t v, uint32_t self, int deep)
{
	uint32_t t = v & TC_LOCK_TID;

	if (t == 0 || t == self || (v & ~(TC_LOCK_TID | TC_LOCK_WAITERS)))
		return 1;
	if (kill((pid_t)t, 0) < 0 && errno == ESRCH)
		return 1;
	return deep && lock_owner_zombie(t);
}

/* One attempt: free, or its owner gone (taken over). 0 when taken. */
static inline int lock_try_as(tc_lock_t *m, uint32_t self, uint32_t extra, int deep)
{
	uint32_t v = 0;

	if (__atomic_compare_exchange_n(m, &v, self | extra, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	if (lock_owner_gone(v, self, deep)) {
		int e = errno;
		int ok = __atomic_compare_exchange_n(m, &v, self | extra | (v & TC_LOCK_WAITERS), 0,
		                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);

		errno = e;
		return ok ? 0 : -1;
	}
	return -1;
}

/* Takes m, giving up at deadline (ms, CLOCK_MONOTONIC; < 0: never): a
 * peer may hold it for good, or another thread sit in a blocking send
 * with it while this one closes or exits. 0, or -1 at the deadline. */
static inline int lock_until(tc_lock_t *m, long deadline)
{
	uint32_t self = lock_self();
	int deep = 0;

	if (lock_try_as(m, self, 0, 0) == 0)
		return 0;
	for (;;) {
		uint32_t v = __atomic_load_n(m, __ATOMIC_RELAXED);
		long wait = TC_LOCK_PROBE_MS;
		struct timespec ts;
		int e = errno;

		/* asleep from here: whoever unlocks must wake us */
		if (v && !(v & TC_LOCK_WAITERS) &&
		    !__atomic_compare_exchange_n(m, &v, v | TC_LOCK_WAITERS, 0, __ATOMIC_RELAXED,
		                                 __ATOMIC_RELAXED))
			continue;
		if (v && !lock_owner_gone(v, self, deep)) {
			if (deadline >= 0) {
				long left = deadline - now_ms();

				if (left <= 0) {
					errno = e;
					return -1;
				}
				if (left < wait)
					wait = left;
			}
			ts.tv_sec = 0;
			ts.tv_nsec = wait * 1000000L;
			/* (timed out: the owner held it a whole probe; look deeper) */
			deep = tc_syscall(SYS_futex, m, FUTEX_WAIT, v | TC_LOCK_WAITERS, &ts, NULL, 0) < 0 &&
			       errno == ETIMEDOUT;
		}
		errno = e;
		/* taken with the waiters bit: others may still sleep */
		if (lock_try_as(m, self, TC_LOCK_WAITERS, deep) == 0)
			return 0;
	}
}

static inline void lock(tc_lock_t *m)
{
	lock_until(m, -1);
}

/* Takes m if it is free (or its owner gone): 0, else -1. */
static inline int trylock(tc_lock_t *m)
{
	return lock_try_as(m, lock_self(), 0, 0);
}

static inline void unlock(tc_lock_t *m)
{
	if (__atomic_exchange_n(m, 0, __ATOMIC_RELEASE) & TC_LOCK_WAITERS) {
		int e = errno;

		tc_syscall(SYS_futex, m, FUTEX_WAKE, 1, NULL, NULL, 0);
		errno = e;
	}
}

static inline int init_mutex(tc_lock_t *m)
{
	__atomic_store_n(m, 0, __ATOMIC_RELEASE);
	return 0;
}

#endif
