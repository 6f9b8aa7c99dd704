/*
 * sock_region.c - a connection's shared region (sock_shm.h): its geometry,
 * the socket objects that point at it, the per-process pool of free
 * regions, wiping, and the process references that decide when it goes.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "settings.h"
#include "sock.h"
#include "sock_int.h"
#include "state.h"

void tc_sock_global_init(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (pg <= 0)
		pg = 4096;
	pg_size = (size_t)pg;
	sess_off = 0;
	shm_size = (sizeof(struct tc_shm) + (size_t)pg - 1) & ~((size_t)pg - 1);
	tc_chunk_init();
	if (tc_session_head_size() > TC_SESS_SPACE) {
		tc_err("internal error: a session needs %zu bytes, the shim has room for %d; tcpcrypt disabled",
		       tc_session_head_size(), TC_SESS_SPACE);
		tc_cfg.disable = 1;
	}
}

void tc_prefs_default(struct tc_prefs *p)
{
	memset(p, 0, sizeof(*p));
	p->enable = 1;
	p->app_aware = (uint8_t)tc_cfg.app_aware;
	p->naeads = (uint8_t)tc_cfg.naeads;
	memcpy(p->aeads, tc_cfg.aeads, sizeof(uint16_t) * (size_t)tc_cfg.naeads);
}

struct tc_sock *tc_sock_new(int kind, const struct tc_prefs *prefs)
{
	struct tc_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = kind;
	s->pg_fd = -1;
	if (prefs)
		s->prefs = *prefs;
	else
		tc_prefs_default(&s->prefs);
	return s;
}

/*
 * Pool of free regions of this process (cause of cost: mmap + first-touch
 * faults + munmap per connection). Only a region whose connection was never
 * shared with another process goes back (so nothing else can still touch
 * it), wiped; pooled regions are MADV_DONTFORK so a child never inherits
 * them, and a pool seen from another pid (a child) is dropped. The lock is
 * only ever tried: a child forked while it was held just skips the pool.
 */
#define TC_POOL_KEEP_PAGES 4     /* buffer pages a pooled region keeps resident */


static void *pool_take(void)
{
	void *r = NULL;

	if (pthread_mutex_trylock(&tc_pool_lock) != 0)
		return NULL;
	if (tc_pool_pid != getpid()) {
		tc_pool_n = 0;             /* inherited list: the regions are not mapped here */
		tc_pool_pid = getpid();
	}
	if (tc_pool_n > 0)
		r = tc_pool[--tc_pool_n];
	pthread_mutex_unlock(&tc_pool_lock);
	if (r && madvise(r, shm_size, MADV_DOFORK) < 0) {
		munmap(r, shm_size);
		r = NULL;
	}
	return r;
}

/* Keeps a wiped region for reuse; 0 if it was taken. */
static int pool_put(void *r)
{
	int ok = 0;

	if (madvise(r, shm_size, MADV_DONTFORK) < 0)
		return -1;
	if (pthread_mutex_trylock(&tc_pool_lock) != 0)
		return -1;
	if (tc_pool_pid != getpid()) {
		tc_pool_n = 0;
		tc_pool_pid = getpid();
	}
	if (tc_pool_n < TC_POOL_MAX) {
		tc_pool[tc_pool_n++] = r;
		ok = 1;
	}
	pthread_mutex_unlock(&tc_pool_lock);
	return ok ? 0 : -1;
}

/*
 * Wipes what a connection left in its buffers: the resident pages only
 * (mincore; pages never touched hold nothing and are not faulted in).
 * With keep, pages past the first TC_POOL_KEEP_PAGES are released instead
 * (MADV_REMOVE: they read back as zeros), so a pooled region stays small.
 * The session is wiped by tc_session_wipe() (its head and the used part
 * of its reassembly buffer).
 */
static void wipe_buffers(struct tc_shm *sh, int keep)
{
	uint8_t *base = REGION(sh), *end = base + shm_size;
	uint8_t *from = (uint8_t *)sh->rx;
	uint8_t *pg0 = base + ((size_t)(from - base) & ~(pg_size - 1));
	size_t npg = (size_t)(end - pg0) / pg_size;
	unsigned char vec[160];
	int kept = 0;

	if (npg > sizeof(vec) || mincore(pg0, (size_t)(end - pg0), vec) < 0) {
		sodium_memzero(from, (size_t)(end - from));
		return;
	}
	for (size_t i = 0; i < npg; i++) {
		uint8_t *p = pg0 + i * pg_size, *q = p + pg_size;

		if (!(vec[i] & 1))
			continue;
		if (p < from)
			p = from;
		if (keep && kept >= TC_POOL_KEEP_PAGES && p == pg0 + i * pg_size &&
		    madvise(p, pg_size, MADV_REMOVE) == 0)
			continue;
		sodium_memzero(p, (size_t)(q - p));
		kept++;
	}
}

/* A region: a mapping of its own while this process holds fewer than
 * tc_cfg.own_mappings (the pool's, or a new one), else a chunk's slot
 * (sock_chunk.c). NULL if none can be had. */
static void *region_take(struct tc_sock *s, int *fresh)
{
	void *r = NULL;

	*fresh = 0;
	if (__atomic_load_n(&tc_live_regions, __ATOMIC_RELAXED) >= tc_cfg.own_mappings &&
	    (r = tc_chunk_take(&s->chunk)) != NULL)
		return r;
	if ((r = pool_take()) != NULL)
		return r;
	r = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*fresh = 1;
	return r == MAP_FAILED ? NULL : r;
}

/* This process is done with the region r of s: with reuse (wiped, never
 * shared) it may be handed out again, else it is unmapped here. */
static void region_put(struct tc_sock *s, void *r, int reuse)
{
	if (s->counted)
		__atomic_sub_fetch(&tc_live_regions, 1, __ATOMIC_RELAXED);
	if (s->chunk)
		tc_chunk_release(s->chunk, r, reuse);
	else if (!reuse || pool_put(r) < 0)
		munmap(r, shm_size);
	s->chunk = NULL;
	s->counted = 0;
}

int tc_sock_make_conn(struct tc_sock *s, int state)
{
	struct tc_shm *sh;
	int fresh;
	void *r = region_take(s, &fresh);

	if (!r)
		return -ENOMEM;
	sh = (struct tc_shm *)((uint8_t *)r + sess_off);
	if (!fresh)
		memset(sh, 0, offsetof(struct tc_shm, sess));  /* the rest was wiped */
	s->counted = 1;
	__atomic_add_fetch(&tc_live_regions, 1, __ATOMIC_RELAXED);
	sh->size = shm_size;
	if (init_mutex(&sh->rx_lock) || init_mutex(&sh->tx_lock) || init_mutex(&sh->sess_lock)) {
		region_put(s, r, 0);
		return -ENOMEM;
	}
	sh->nprocs = 1;
	sh->state = state;
	s->kind = TC_K_CONN;
	/* published last: the progress thread may look at s already */
	__atomic_store_n(&s->shm, sh, __ATOMIC_RELEASE);
	return 0;
}

void tc_sock_free(struct tc_sock *s)
{
	struct tc_shm *sh = s->shm;

	tc_aead_ctx_free(&s->tx_cx);
	tc_aead_ctx_free(&s->rx_cx);

	if (sh) {
		int reuse = 0;

		if (__atomic_load_n(&sh->nprocs, __ATOMIC_ACQUIRE) <= 0) {
			/* (the region's flag is a peer's to write: this process's own
			 * knowledge decides whether another may still map it) */
			reuse = !__atomic_load_n(&s->was_shared, __ATOMIC_ACQUIRE) &&
			        !__atomic_load_n(&sh->shared, __ATOMIC_ACQUIRE);
			tc_session_wipe(SESS(sh));
			wipe_buffers(sh, reuse);
		}
		region_put(s, REGION(sh), reuse);
	}
	free(s);
}

void tc_sock_free_local(struct tc_sock *s)
{
	tc_aead_ctx_free(&s->tx_cx);
	tc_aead_ctx_free(&s->rx_cx);
	if (s->shm)
		region_put(s, REGION(s->shm), 0);
	free(s);
}

void tc_sock_proc_ref(struct tc_sock *s, int delta)
{
	if (s->shm) {
		if (delta > 0) {
			__atomic_store_n(&s->was_shared, 1, __ATOMIC_RELEASE);
			__atomic_store_n(&s->shm->shared, 1, __ATOMIC_RELEASE);
		}
		__atomic_add_fetch(&s->shm->nprocs, delta, __ATOMIC_ACQ_REL);
	}
}

int tc_sock_proc_unref(struct tc_sock *s)
{
	return s->shm ? __atomic_sub_fetch(&s->shm->nprocs, 1, __ATOMIC_ACQ_REL) : 0;
}
