/*
 * fdtable.c - see fdtable.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "cloexec_bits.h"
#include "fdtable.h"
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

struct tc_sock *tc_fd_get(int fd)
{
	struct tc_sock **p = slot(fd, 0), *s;

	if (!p || !__atomic_load_n(p, __ATOMIC_RELAXED))
		return NULL;
	pthread_mutex_lock(&tc_fd_lock);
	s = *p;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&tc_fd_lock);
	return s;
}

void tc_fd_put(struct tc_sock *s)
{
	int last;

	if (!s)
		return;
	pthread_mutex_lock(&tc_fd_lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&tc_fd_lock);
	if (last)
		tc_sock_free(s);
}

int tc_fd_set(int fd, struct tc_sock *s)
{
	struct tc_sock **p;
	int r = 0;

	pthread_mutex_lock(&tc_fd_lock);
	p = slot(fd, 1);
	if (!p) {
		r = fd < 0 ? -EBADF : -ENOMEM;
	} else if (*p) {
		r = -EEXIST;
	} else {
		s->refs++;
		s->nfds++;
		__atomic_store_n(p, s, __ATOMIC_RELEASE);
		__atomic_add_fetch(&tc_fd_count, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&tc_fd_lock);
	return r;
}

struct tc_sock *tc_fd_take(int fd, int *last)
{
	struct tc_sock **p = slot(fd, 0), *s;

	*last = 0;
	if (!p || !__atomic_load_n(p, __ATOMIC_RELAXED))
		return NULL;
	pthread_mutex_lock(&tc_fd_lock);
	s = *p;
	if (s) {
		__atomic_store_n(p, NULL, __ATOMIC_RELEASE);
		*last = --s->nfds == 0;
		__atomic_sub_fetch(&tc_fd_count, 1, __ATOMIC_RELAXED);
		tc_cloexec_forget(fd);
	}
	pthread_mutex_unlock(&tc_fd_lock);
	return s;
}

void tc_fd_foreach(void (*fn)(int fd, struct tc_sock *s, void *arg), void *arg)
{
	pthread_mutex_lock(&tc_fd_lock);
	for (int c = 0; c < NCHUNKS; c++) {
		struct tc_sock **ch = tc_fd_chunks[c];

		if (!ch)
			continue;
		for (int i = 0; i < CHUNK; i++)
			if (ch[i])
				fn((c << CHUNK_BITS) | i, ch[i], arg);
	}
	pthread_mutex_unlock(&tc_fd_lock);
}

int tc_fd_find(const struct tc_sock *s, int *out, int cap)
{
	int n = 0;

	for (int c = 0; c < NCHUNKS && n < cap; c++) {
		struct tc_sock **ch = __atomic_load_n(&tc_fd_chunks[c], __ATOMIC_ACQUIRE);

		if (!ch)
			continue;
		for (int i = 0; i < CHUNK && n < cap; i++)
			if (__atomic_load_n(&ch[i], __ATOMIC_RELAXED) == s)
				out[n++] = (c << CHUNK_BITS) | i;
	}
	return n;
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
