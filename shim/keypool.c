/* keypool.c - see keypool.h. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <sodium.h>

#include "keypool.h"
#include "state.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

#define KP_SLOTS 2

enum { KP_EMPTY = 0, KP_FILLING, KP_READY, KP_TAKING };

struct kp_slot {
	int state;             /* KP_*, changed with compare-and-swap */
	pid_t pid;             /* the process that made it */
	struct tc_keypair kp;
};

struct kp_page {
	int wanted;            /* set by the first take: start filling */
	struct kp_slot slot[KP_SLOTS];
};


/* The pool's page, mapped at first use: not dumped, wiped on fork. A
 * kernel without MADV_WIPEONFORK gets no pool (the pid check alone would
 * still protect a child, but a page a child inherits holds secrets it must
 * not have). */
static struct kp_page *get_page(void)
{
	struct kp_page *p = __atomic_load_n(&tc_keypool_page, __ATOMIC_ACQUIRE), *exp = NULL;
	void *m;

	if (p || __atomic_load_n(&tc_keypool_failed, __ATOMIC_RELAXED))
		return p;
	m = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (madvise(m, sizeof(*p), MADV_WIPEONFORK) < 0) {
		munmap(m, sizeof(*p));
		__atomic_store_n(&tc_keypool_failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	(void)madvise(m, sizeof(*p), MADV_DONTDUMP);
	if (!__atomic_compare_exchange_n(&tc_keypool_page, &exp, (struct kp_page *)m, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		munmap(m, sizeof(*p));           /* another thread was first */
		return exp;
	}
	return m;
}

int tc_keypool_take(struct tc_keypair *kp)
{
	struct kp_page *p = get_page();
	pid_t me = getpid();
	int i;

	if (!p)
		return -EAGAIN;
	__atomic_store_n(&p->wanted, 1, __ATOMIC_RELAXED);
	for (i = 0; i < KP_SLOTS; i++) {
		struct kp_slot *s = &p->slot[i];
		int exp = KP_READY;

		if (!__atomic_compare_exchange_n(&s->state, &exp, KP_TAKING, 0, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		if (s->pid == me)
			memcpy(kp, &s->kp, sizeof(*kp));
		sodium_memzero(&s->kp, sizeof(s->kp));
		__atomic_store_n(&s->state, KP_EMPTY, __ATOMIC_RELEASE);
		if (s->pid == me)
			return 0;
	}
	return -EAGAIN;
}

int tc_keypool_fill(void)
{
	struct kp_page *p = __atomic_load_n(&tc_keypool_page, __ATOMIC_ACQUIRE);
	int i, n = 0;

	if (!p || !__atomic_load_n(&p->wanted, __ATOMIC_RELAXED))
		return 0;
	for (i = 0; i < KP_SLOTS; i++) {
		struct kp_slot *s = &p->slot[i];
		int exp = KP_EMPTY;

		if (!__atomic_compare_exchange_n(&s->state, &exp, KP_FILLING, 0, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		if (tc_keypair_make(&s->kp) < 0) {
			__atomic_store_n(&s->state, KP_EMPTY, __ATOMIC_RELEASE);
			break;
		}
		s->pid = getpid();
		__atomic_store_n(&s->state, KP_READY, __ATOMIC_RELEASE);
		n++;
	}
	return n;
}
