/* tcpcryptd_divert_tab.c - offers and handshakes of the divert backend. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "tcpcryptd_divert_tab.h"

#define NSLOT  TCD_TAB_SLOTS
#define PROBE  TCD_TAB_PROBE

static struct tcpcrypt_eno_offer offers[DV_MAX_OFFERS];
static uid_t offer_uid[DV_MAX_OFFERS];   /* who added it */
static unsigned noffers;
static struct tcd_slot *tab;
static struct tcd_tab *mapped;
static struct tcd_tab tab_store;

int dv_offer_intern(const struct tcpcrypt_eno_offer *o, uid_t uid)
{
	unsigned i, mine = 0;

	for (i = 0; i < noffers; i++) {
		if (!memcmp(&offers[i], o, sizeof(*o)))
			return (int)i + 1;
		mine += offer_uid[i] == uid;
	}
	/* offers are never forgotten (live sockets carry their id): one user
	 * must not use up the table */
	if (noffers >= DV_MAX_OFFERS || (uid != 0 && mine >= DV_MAX_OFFERS_PER_UID))
		return -ENOSPC;
	offer_uid[noffers] = uid;
	offers[noffers++] = *o;
	return (int)noffers;
}

const struct tcpcrypt_eno_offer *dv_offer_get(unsigned id)
{
	return id >= 1 && id <= noffers ? &offers[id - 1] : NULL;
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

struct tcd_slot *dv_conn_find(const struct tcd_key *key, uint64_t now_ms)
{
	uint32_t h;
	unsigned i;

	if (!tab)
		return NULL;
	h = tcd_hash(key);
	for (i = 0; i < PROBE; i++) {
		struct tcd_slot *c = &tab[(h + i) & (NSLOT - 1)];

		if (live(c, now_ms) && !memcmp(&c->key, key, sizeof(*key)))
			return c;
	}
	return NULL;
}

struct tcd_slot *dv_conn_get(const struct tcd_key *key, uint64_t now_ms)
{
	struct tcd_slot *c, *victim = NULL;
	uint32_t h;
	unsigned i;

	if (!tab)
		tab = tab_store.slot;
	c = dv_conn_find(key, now_ms);
	if (c)
		return c;
	h = tcd_hash(key);
	for (i = 0; i < PROBE; i++) {
		c = &tab[(h + i) & (NSLOT - 1)];
		if (!live(c, now_ms)) {
			victim = c;
			break;
		}
		if (!victim || c->t_ms < victim->t_ms)
			victim = c;
	}
	memset(victim, 0, sizeof(*victim));
	victim->key = *key;
	victim->t_ms = now_ms ? now_ms : 1;
	return victim;
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
	close(fd);
	if (m == MAP_FAILED) {
		unlink(path);
		return -e;
	}
	mapped = m;
	mapped->nslots = NSLOT;
	if (tab)
		memcpy(mapped->slot, tab, sizeof(mapped->slot));
	mapped->magic = TCD_TAB_MAGIC;
	tab = mapped->slot;
	return 0;
}

void dv_tab_close(const char *path)
{
	if (!mapped)
		return;
	unlink(path);
	munmap(mapped, sizeof(*mapped));
	mapped = NULL;
	tab = NULL;
}
