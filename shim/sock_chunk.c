/*
 * sock_chunk.c - connections' regions grouped TC_CHUNK_SLOTS to a memory
 * mapping, for a process that holds many connections: with a mapping each,
 * it stopped near vm.max_map_count (65,530 by default). sock_region.c
 * uses chunks once the process holds tc_cfg.own_mappings regions.
 *
 * A chunk is one MAP_SHARED anonymous mapping of TC_CHUNK_SLOTS regions.
 * What a mapping per connection gave, kept:
 *  - no other process ever maps a slot that is not in use: slots not yet
 *    handed out and slots freed for reuse are MADV_DONTFORK, so a child
 *    (made with or without fork handlers) never inherits them; a slot in
 *    use is MADV_DOFORK, and a fork child shares its connection as before;
 *  - a freed slot is used again only in the process that made the chunk,
 *    and only if its connection was never shared (the caller's rule, as
 *    for the pool of dedicated regions): nobody else can still map it;
 *  - anything else that is freed is unmapped in the process that frees it
 *    (a hole in the chunk), so that process can no longer touch it;
 *  - the bookkeeping is this process's own memory, never in a region (a
 *    peer cannot write it); a child sees the parent's chunks as foreign
 *    (pid) and never takes a slot from them.
 * Adjacent slots with the same fork flag merge into one mapping, so a
 * chunk costs a few mappings, not one per slot.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sock.h"
#include "sock_int.h"
#include "state.h"

struct tc_chunk {
	struct tc_chunk *prev, *next;  /* in the list of chunks with room (own only) */
	uint8_t *base;
	pid_t pid;                     /* the process that made it */
	int in_avail;
	unsigned used;                 /* slots handed out from the tail */
	unsigned live;                 /* slots in use in this process */
	unsigned nfree;
	uint8_t free[TC_CHUNK_SLOTS];  /* slots freed for reuse */
};

static pthread_mutex_t chunk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tc_chunk *avail;     /* own chunks with room */
static int navail;

static size_t chunk_bytes(void)
{
	return (size_t)TC_CHUNK_SLOTS * shm_size;
}

static void avail_add(struct tc_chunk *c)
{
	if (c->in_avail)
		return;
	c->prev = NULL;
	c->next = avail;
	if (avail)
		avail->prev = c;
	avail = c;
	c->in_avail = 1;
	navail++;
}

static void avail_del(struct tc_chunk *c)
{
	if (!c->in_avail)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		avail = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->in_avail = 0;
	navail--;
}

static struct tc_chunk *chunk_new(void)
{
	struct tc_chunk *c = calloc(1, sizeof(*c));
	void *m;

	if (!c)
		return NULL;
	m = mmap(NULL, chunk_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		free(c);
		return NULL;
	}
	if (madvise(m, chunk_bytes(), MADV_DONTFORK) < 0) {
		munmap(m, chunk_bytes());
		free(c);
		return NULL;
	}
	c->base = m;
	c->pid = getpid();
	avail_add(c);
	return c;
}

void *tc_chunk_take(struct tc_chunk **out)
{
	struct tc_chunk *c;
	unsigned idx;
	uint8_t *slot;

	pthread_mutex_lock(&chunk_lock);
	if (avail && avail->pid != getpid()) {
		/* a child that ran no fork handler (_Fork, raw clone): its
		 * list is the parent's, whose free slots are not mapped here */
		pthread_mutex_unlock(&chunk_lock);
		return NULL;
	}
	c = avail ? avail : chunk_new();
	if (!c) {
		pthread_mutex_unlock(&chunk_lock);
		return NULL;
	}
	idx = c->nfree ? c->free[--c->nfree] : c->used++;
	slot = c->base + (size_t)idx * shm_size;
	if (madvise(slot, shm_size, MADV_DOFORK) < 0) {
		/* (the mapping limit: this slot stays unused, free for later) */
		c->free[c->nfree++] = (uint8_t)idx;
		pthread_mutex_unlock(&chunk_lock);
		return NULL;
	}
	c->live++;
	if (!c->nfree && c->used == TC_CHUNK_SLOTS)
		avail_del(c);
	pthread_mutex_unlock(&chunk_lock);
	*out = c;
	return slot;
}

void tc_chunk_release(struct tc_chunk *c, void *slot, int reuse)
{
	size_t idx = (size_t)((uint8_t *)slot - c->base) / shm_size;
	int own;

	pthread_mutex_lock(&chunk_lock);
	own = c->pid == getpid();
	c->live--;
	if (reuse && own && madvise(slot, shm_size, MADV_DONTFORK) == 0) {
		c->free[c->nfree++] = (uint8_t)idx;
		avail_add(c);
	} else {
		munmap(slot, shm_size);  /* (fails only at the mapping limit: then the slot is dead) */
	}
	/* An empty chunk goes, unless it is this process's only one with room. */
	if (c->live == 0 && (!own || navail > 1 || !c->in_avail)) {
		avail_del(c);
		munmap(c->base, chunk_bytes());
		free(c);
	}
	pthread_mutex_unlock(&chunk_lock);
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&chunk_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&chunk_lock);
}

/* The child: the parent's chunks are foreign here (their free slots are
 * not even mapped); its own chunks start afresh. */
static void atfork_child(void)
{
	while (avail)
		avail_del(avail);
	pthread_mutex_unlock(&chunk_lock);
}

/* Registered before fork.c's and close_later.c's handlers (setup.c calls
 * tc_sock_global_init first): the child handlers run in that order, so
 * the chunk lock is free again when close_later's child handler frees the
 * regions it leaves to the parent. */
void tc_chunk_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}
