/* tcpcryptd_divert_tab.c - offers and handshakes of the divert backend.
 *
 * The table file is mapped read-only: a slot is changed in a private
 * working copy (what dv_conn_find/dv_conn_get return) and written back by
 * dv_conn_commit() in one pwrite() on tab_fd. That makes every write
 * revocable: the watchdog (tcpcryptd_divert_watchdog.c) points the
 * daemon's tab_fd elsewhere when it takes over, so a daemon stopped in the
 * middle of a segment cannot overwrite, once resumed, what was decided
 * without it. The offers live in a shared anonymous mapping, so that the
 * watchdog sees those interned after it started. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include "tcpcryptd_divert_tab.h"

#define NSLOT  TCD_TAB_SLOTS
#define PROBE  TCD_TAB_PROBE

struct offer_store {
	unsigned n;                              /* published with a release store */
	struct tcpcrypt_eno_offer o[DV_MAX_OFFERS];
	uid_t uid[DV_MAX_OFFERS];                /* who added it */
};
static struct offer_store offers_priv, *of_st = &offers_priv;
static struct tcd_slot *tab;       /* read-only when mapped */
static struct tcd_tab *mapped;
static struct tcd_tab tab_store;
static int tab_fd = -1;
static struct tcd_slot work;       /* the working copy of one slot */
static long work_idx = -1;
static uint64_t hkey[2];           /* the secret of tab_hash(), per daemon */
static int hkey_set;
static uint64_t halfopen_ms = DV_HALFOPEN_MS;

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                        \
	do {                                                            \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                  \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                  \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

/* SipHash-2-4 of in[0..len) under k (Aumasson and Bernstein): a keyed
 * hash, so that who does not know k cannot aim keys at one slot. */
static uint64_t siphash24(const uint64_t k[2], const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k[0], v1 = 0x646f72616e646f6dULL ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ k[0], v3 = 0x7465646279746573ULL ^ k[1];
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, j, end = len - len % 8;

	for (i = 0; i < end; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int dv_tab_seed(void)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(hkey)) {
		n = getrandom((uint8_t *)hkey + got, sizeof(hkey) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	hkey_set = 1;
	return 0;
}

void dv_tab_set_halfopen_ms(uint64_t ms)
{
	halfopen_ms = ms;
}

/* Where the probe for key starts: keyed (dv_tab_seed), so that spoofed
 * SYNs cannot be aimed at the slots of one connection. */
static uint32_t tab_hash(const struct tcd_key *key)
{
	if (!hkey_set)
		(void)dv_tab_seed();
	return (uint32_t)siphash24(hkey, (const uint8_t *)key, sizeof(*key));
}

int dv_offer_intern(const struct tcpcrypt_eno_offer *o, uid_t uid)
{
	unsigned i, mine = 0, n = of_st->n;

	for (i = 0; i < n; i++) {
		if (!memcmp(&of_st->o[i], o, sizeof(*o)))
			return (int)i + 1;
		mine += of_st->uid[i] == uid;
	}
	/* offers are never forgotten (live sockets carry their id): one user
	 * must not use up the table */
	if (n >= DV_MAX_OFFERS || (uid != 0 && mine >= DV_MAX_OFFERS_PER_UID))
		return -ENOSPC;
	of_st->uid[n] = uid;
	of_st->o[n] = *o;
	__atomic_store_n(&of_st->n, n + 1, __ATOMIC_RELEASE);
	return (int)n + 1;
}

const struct tcpcrypt_eno_offer *dv_offer_get(unsigned id)
{
	return id >= 1 && id <= __atomic_load_n(&of_st->n, __ATOMIC_ACQUIRE) ? &of_st->o[id - 1] : NULL;
}

int dv_offer_share(void)
{
	void *m = mmap(NULL, sizeof(*of_st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return -errno;
	memcpy(m, of_st, sizeof(*of_st));
	of_st = m;
	return 0;
}

int dv_offer_policy(const struct tcpcrypt_eno_offer *o, struct tc_eno_policy *pol)
{
	uint8_t opt[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_syn s;
	unsigned i;

	if (o->len < 1 || o->len > TCPCRYPT_ENO_CONTENT_MAX)
		return -EINVAL;
	opt[0] = TCPCRYPT_ENO_KIND;
	opt[1] = o->len + 2;
	memcpy(opt + 2, o->content, o->len);
	if (tc_eno_parse_syn(opt, o->len + 2u, &s) < 0)
		return -EINVAL;
	memset(pol, 0, sizeof(*pol));
	for (i = 0; i < s.ntep && pol->nteps < sizeof(pol->teps); i++)
		pol->teps[pol->nteps++] = s.tep[i].id;
	pol->app_aware = (s.global & TC_ENO_GLOBAL_A) ? 1 : 0;
	if (o->flags & TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE)
		pol->app_aware = 2;
	pol->passive = (s.global & TC_ENO_GLOBAL_B) ? 1 : 0;
	return 0;
}

static int live(const struct tcd_slot *c, uint64_t now)
{
	return c->t_ms && now - c->t_ms < DV_TTL_MS;
}

/* Index of the live entry of key, or -1. */
static long find_idx(const struct tcd_key *key, uint64_t now_ms)
{
	uint32_t h;
	unsigned i;

	if (!tab)
		return -1;
	h = tab_hash(key);
	for (i = 0; i < PROBE; i++) {
		long x = (long)((h + i) & (NSLOT - 1));

		if (live(&tab[x], now_ms) && !memcmp(&tab[x].key, key, sizeof(*key)))
			return x;
	}
	return -1;
}

struct tcd_slot *dv_conn_find(const struct tcd_key *key, uint64_t now_ms)
{
	long x = find_idx(key, now_ms);

	if (x < 0)
		return NULL;
	work = tab[x];
	work_idx = x;
	return &work;
}

/* 1 if the entry at c may be given to another connection at now: free,
 * expired, or a handshake of ours that cannot be live any more. Only B's
 * half-open entries (what a spoofed SYN makes) and the records of a lost
 * state (made by an unchecked segment) qualify, once older than the time
 * the kernel keeps a half-open connection (halfopen_ms: its SYN-ACK
 * retransmissions). A's entries (our own connects) and B's decided ones
 * (read by the shim after accept()) are never taken: a full window
 * refuses the new connection instead (it then runs plain on both ends). */
static int evictable(const struct tcd_slot *c, uint64_t now)
{
	if (!live(c, now))
		return 1;
	if (now - c->t_ms < halfopen_ms)
		return 0;
	return c->state == TCD_S_B_SYN || c->state == TCD_S_B_WAIT_ACK ||
	       (c->state == TCD_S_B_DONE && c->res.reason == TCPCRYPT_ENO_R_STATE_LOST);
}

struct tcd_slot *dv_conn_get(const struct tcd_key *key, uint64_t now_ms)
{
	long x, victim = -1;
	uint32_t h;
	unsigned i;

	if (!tab)
		tab = tab_store.slot;
	if (dv_conn_find(key, now_ms))
		return &work;
	h = tab_hash(key);
	for (i = 0; i < PROBE; i++) {
		x = (long)((h + i) & (NSLOT - 1));
		if (!live(&tab[x], now_ms)) {
			victim = x;
			break;
		}
		if (evictable(&tab[x], now_ms) && (victim < 0 || tab[x].t_ms < tab[victim].t_ms))
			victim = x;
	}
	work_idx = -1;
	if (victim < 0)
		return NULL;    /* every slot of the window is live: refused */
	memset(&work, 0, sizeof(work));
	work.key = *key;
	work.t_ms = now_ms ? now_ms : 1;
	work_idx = victim;
	return &work;
}

int dv_conn_commit(void)
{
	off_t off;
	long x = work_idx;

	work_idx = -1;
	if (x < 0 || !tab)
		return 0;
	if (!mapped) {
		tab[x] = work;
		return 0;
	}
	if (!memcmp(&tab[x], &work, sizeof(work)))
		return 0;
	off = (off_t)(offsetof(struct tcd_tab, slot) + (size_t)x * sizeof(work));
	if (pwrite(tab_fd, &work, sizeof(work), off) != (ssize_t)sizeof(work))
		return -errno;
	return 0;
}

int dv_tab_judged(uint64_t t_ms)
{
	static uint64_t last;

	if (!mapped || t_ms <= last)
		return 0;
	if (pwrite(tab_fd, &t_ms, sizeof(t_ms), offsetof(struct tcd_tab, judged_ms)) !=
	    (ssize_t)sizeof(t_ms))
		return -errno;
	last = t_ms;
	return 0;
}

void dv_conn_forget(void)
{
	work_idx = -1;
}

int dv_tab_fd(void)
{
	return tab_fd;
}

void dv_tab_set_fd(int fd)
{
	tab_fd = fd;
}

unsigned dv_conn_count(uint64_t now_ms)
{
	unsigned i, n = 0;

	for (i = 0; tab && i < NSLOT; i++)
		n += live(&tab[i], now_ms);
	return (unsigned)n;
}

int dv_tab_open(const char *path)
{
	int fd, e;
	void *m;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0 || ftruncate(fd, sizeof(struct tcd_tab)) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		return -e;
	}
	m = mmap(NULL, sizeof(struct tcd_tab), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = errno;
	if (m == MAP_FAILED) {
		close(fd);
		unlink(path);
		return -e;
	}
	mapped = m;
	mapped->nslots = NSLOT;
	if (tab)
		memcpy(mapped->slot, tab, sizeof(mapped->slot));
	mapped->magic = TCD_TAB_MAGIC;
	/* from now on written only through tab_fd (dv_conn_commit) */
	mprotect(m, sizeof(struct tcd_tab), PROT_READ);
	tab = mapped->slot;
	tab_fd = fd;
	return 0;
}

void dv_tab_close(const char *path)
{
	if (!mapped)
		return;
	unlink(path);
	munmap(mapped, sizeof(*mapped));
	close(tab_fd);
	tab_fd = -1;
	mapped = NULL;
	tab = NULL;
}
