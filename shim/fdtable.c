/*
 * fdtable.c - see fdtable.h.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "cloexec_bits.h"
#include "fdtable.h"
#include "progress.h"
#include "sock.h"
#include "state.h"

#define CHUNK_BITS 10
#define CHUNK      (1 << CHUNK_BITS)
#define NCHUNKS    TC_FD_NCHUNKS  /* fds below 1M */


int tc_fd_limit(void)
{
	return CHUNK * NCHUNKS;
}

static struct tc_sock **slot(int fd, int create)
{
	struct tc_sock **c;

	if (fd < 0 || fd >= CHUNK * NCHUNKS)
		return NULL;
	c = __atomic_load_n(&tc_fd_chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	if (!c && create) {
		c = mmap(NULL, CHUNK * sizeof(*c), PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED)
			return NULL;
		__atomic_store_n(&tc_fd_chunks[fd >> CHUNK_BITS], c, __ATOMIC_RELEASE);
	}
	return c ? &c[fd & (CHUNK - 1)] : NULL;
}

__thread int tc_fd_closing __attribute__((tls_model("initial-exec"))) = -1;
/* This thread holds (or waits for) tc_fd_lock through table_lock(). */
static __thread int lock_mine __attribute__((tls_model("initial-exec")));

/* The table lock, taken with this thread marked as inside the shim: a
 * signal handler that interrupts the holder must not wait for it. */
static void table_lock(void)
{
	tc_in_shim++;
	lock_mine = 1;
	pthread_mutex_lock(&tc_fd_lock);
}

static void table_unlock(void)
{
	pthread_mutex_unlock(&tc_fd_lock);
	lock_mine = 0;
	tc_in_shim--;
}

/* The table lock for a signal handler: never waits for this thread's own
 * interrupted frame; another thread's short hold is waited out by a few
 * tries. 0 if taken, else EBUSY. */
static int table_trylock(void)
{
	if (lock_mine)
		return EBUSY;
	for (int i = 0; i < 200; i++) {
		if (pthread_mutex_trylock(&tc_fd_lock) == 0)
			return 0;
		sched_yield();
	}
	return EBUSY;
}

struct tc_sock *tc_fd_get(int fd)
{
	struct tc_sock **p = slot(fd, 0), *s;

	if (!p || !__atomic_load_n(p, __ATOMIC_RELAXED))
		return NULL;
	table_lock();
	s = *p;
	if (s)
		s->refs++;
	table_unlock();
	return s;
}

/* Frees the objects whose last reference a signal handler dropped. */
static void free_deferred(void)
{
	struct tc_sock *v[TC_FD_DEFER_MAX];
	int n;

	table_lock();
	n = tc_fd_ndeferred;
	for (int i = 0; i < n; i++)
		v[i] = tc_fd_deferred[i];
	__atomic_store_n(&tc_fd_ndeferred, 0, __ATOMIC_RELAXED);
	table_unlock();
	for (int i = 0; i < n; i++)
		tc_sock_free(v[i]);
}

void tc_fd_put(struct tc_sock *s)
{
	int last;

	if (__builtin_expect(__atomic_load_n(&tc_fd_ndeferred, __ATOMIC_RELAXED) != 0, 0) && !tc_in_shim)
		free_deferred();
	if (!s)
		return;
	table_lock();
	last = --s->refs == 0;
	table_unlock();
	if (last)
		tc_sock_free(s);
}

int tc_fd_conn_nowait(int fd)
{
	struct tc_sock **p = slot(fd, 0), *s;
	int r;

	if (fd == tc_fd_closing && fd >= 0)
		return 1;
	if (!p || !__atomic_load_n(p, __ATOMIC_ACQUIRE))
		return 0;
	if (table_trylock() != 0)
		return 1;
	s = *p;
	r = s && s->kind == TC_K_CONN && tc_sock_state(s) != TC_ST_PLAIN;
	pthread_mutex_unlock(&tc_fd_lock);
	return r;
}

int tc_fd_present(int fd)
{
	struct tc_sock **p = slot(fd, 0);

	return p && __atomic_load_n(p, __ATOMIC_ACQUIRE) != NULL;
}

/* fd leaves the table (the progress lock held): the progress thread's
 * registration of its socket, if made through fd, is forgotten (its epoll
 * entry fires at most once more, and its tag no longer matches:
 * progress.h); another fd of the socket takes it over at the thread's
 * next full look. */
static void forget_watch(int fd, struct tc_sock *s, int last)
{
	if (s->pg_fd != fd)
		return;
	s->pg_fd = -1;
	if (!last && s->pg_epoch == tc_progress_epoch())
		tc_progress_kick();
}

int tc_fd_take_nowait(int fd)
{
	struct tc_sock **p = slot(fd, 0), *s;
	int r = 1;

	if (!p || !__atomic_load_n(p, __ATOMIC_ACQUIRE))
		return 0;
	if (table_trylock() != 0)
		return -EAGAIN;
	s = *p;
	if (!s) {
		r = 0;
	} else if (s->refs == 1 && tc_fd_ndeferred >= TC_FD_DEFER_MAX) {
		r = -EAGAIN;
	} else {
		__atomic_store_n(p, NULL, __ATOMIC_RELEASE);
		__atomic_sub_fetch(&tc_fd_count, 1, __ATOMIC_RELAXED);
		tc_cloexec_forget(fd);   /* an atomic bit, as in tc_fd_take */
		forget_watch(fd, s, s->nfds == 1);
		/* (a background end, close_later.c, holds no process reference) */
		if (--s->nfds == 0 && !s->closing)
			tc_sock_proc_unref(s);   /* an atomic decrement */
		if (--s->refs == 0) {
			tc_fd_deferred[tc_fd_ndeferred] = s;
			__atomic_store_n(&tc_fd_ndeferred, tc_fd_ndeferred + 1, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&tc_fd_lock);
	return r;
}

int tc_fd_set(int fd, struct tc_sock *s)
{
	struct tc_sock **p;
	int r = 0;

	table_lock();
	p = slot(fd, 1);
	if (!p) {
		r = fd < 0 ? -EBADF : -ENOMEM;
	} else if (*p) {
		r = -EEXIST;
	} else {
		s->refs++;
		s->nfds++;
		if (fd >= __atomic_load_n(&tc_fd_hi, __ATOMIC_RELAXED))
			__atomic_store_n(&tc_fd_hi, fd + 1, __ATOMIC_RELEASE);   /* (table lock held) */
		__atomic_store_n(p, s, __ATOMIC_RELEASE);
		__atomic_add_fetch(&tc_fd_count, 1, __ATOMIC_RELAXED);
	}
	table_unlock();
	return r;
}

struct tc_sock *tc_fd_take(int fd, int *last)
{
	struct tc_sock **p = slot(fd, 0), *s;

	*last = 0;
	if (!p || !__atomic_load_n(p, __ATOMIC_RELAXED))
		return NULL;
	table_lock();
	s = *p;
	if (s) {
		__atomic_store_n(p, NULL, __ATOMIC_RELEASE);
		*last = --s->nfds == 0;
		__atomic_sub_fetch(&tc_fd_count, 1, __ATOMIC_RELAXED);
		tc_cloexec_forget(fd);
		forget_watch(fd, s, *last);
	}
	table_unlock();
	return s;
}

void tc_fd_foreach(void (*fn)(int fd, struct tc_sock *s, void *arg), void *arg)
{
	int hi;

	table_lock();
	hi = tc_fd_hi;                /* no fd at or above it was ever set */

	for (int c = 0; c << CHUNK_BITS < hi; c++) {
		struct tc_sock **ch = tc_fd_chunks[c];
		int n = hi - (c << CHUNK_BITS) < CHUNK ? hi - (c << CHUNK_BITS) : CHUNK;

		if (!ch)
			continue;
		for (int i = 0; i < n; i++)
			if (ch[i])
				fn((c << CHUNK_BITS) | i, ch[i], arg);
	}
	table_unlock();
}

int tc_fd_find(const struct tc_sock *s, int *out, int cap)
{
	int n = 0, hi = __atomic_load_n(&tc_fd_hi, __ATOMIC_ACQUIRE);

	for (int c = 0; c << CHUNK_BITS < hi && n < cap; c++) {
		struct tc_sock **ch = __atomic_load_n(&tc_fd_chunks[c], __ATOMIC_ACQUIRE);
		int m = hi - (c << CHUNK_BITS) < CHUNK ? hi - (c << CHUNK_BITS) : CHUNK;

		if (!ch)
			continue;
		for (int i = 0; i < m && n < cap; i++)
			if (__atomic_load_n(&ch[i], __ATOMIC_RELAXED) == s)
				out[n++] = (c << CHUNK_BITS) | i;
	}
	return n;
}

int tc_fd_next_present(int from)
{
	for (int fd = from < 0 ? 0 : from; fd < CHUNK * NCHUNKS;) {
		struct tc_sock **ch = __atomic_load_n(&tc_fd_chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);

		if (!ch) {
			fd = ((fd >> CHUNK_BITS) + 1) << CHUNK_BITS;
			continue;
		}
		if (__atomic_load_n(&ch[fd & (CHUNK - 1)], __ATOMIC_ACQUIRE))
			return fd;
		fd++;
	}
	return -1;
}

struct tc_sock *tc_conn_get(int fd)
{
	struct tc_sock *s;

	if (!tc_fd_maybe(fd))
		return NULL;
	s = tc_fd_get(fd);
	if (s && s->kind != TC_K_CONN) {
		tc_fd_put(s);
		s = NULL;
	}
	return s;
}
