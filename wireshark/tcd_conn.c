/*
 * tcd_conn.c - see tcd_conn.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "aead.h"
#include "init_msg.h"
#include "keysched.h"
#include "tcd_conn.h"
#include "util.h"

static size_t hash(const struct tcd_pkt *pk)
{
	size_t h = (size_t)pk->sport ^ pk->dport, i;

	for (i = 0; i < 16; i++)
		h = h * 31 + (pk->src[i] ^ pk->dst[i]);
	return h % 4096;
}

/* The direction of pk in c, or -1 if it is not c's. */
static int match(const struct tcd_conn *c, const struct tcd_pkt *pk)
{
	int d;

	if (c->af != pk->af)
		return -1;
	for (d = 0; d < 2; d++)
		if (c->port[d] == pk->sport && c->port[!d] == pk->dport &&
		    memcmp(c->addr[d], pk->src, 16) == 0 && memcmp(c->addr[!d], pk->dst, 16) == 0)
			return d;
	return -1;
}

struct tcd_conn *tcd_conn_get(struct tcd_table *t, const struct tcd_pkt *pk, int *dir)
{
	size_t h = hash(pk);
	struct tcd_conn *c, **na;
	int d;

	for (c = t->bucket[h]; c != NULL; c = c->next) {
		d = match(c, pk);
		if (d < 0)
			continue;
		/* a new SYN on the same 4-tuple: a new connection */
		if ((pk->flags & (TCD_TH_SYN | TCD_TH_ACK)) == TCD_TH_SYN && c->have_isn[d] &&
		    c->isn[d] != pk->seq)
			break;
		*dir = d;
		return c;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	na = realloc(t->all, (t->n + 1) * sizeof *na);
	if (na == NULL) {
		free(c);
		return NULL;
	}
	t->all = na;
	t->all[t->n++] = c;
	c->af = pk->af;
	memcpy(c->addr[0], pk->src, 16);
	memcpy(c->addr[1], pk->dst, 16);
	c->port[0] = pk->sport;
	c->port[1] = pk->dport;
	c->next = t->bucket[h];   /* before the older one of the same tuple */
	t->bucket[h] = c;
	*dir = 0;
	return c;
}

int64_t tcd_conn_off(const struct tcd_conn *c, int dir, uint32_t seq)
{
	return (int64_t)(int32_t)(seq - c->isn[dir] - 1);
}

int tcd_conn_add(struct tcd_conn *c, int dir, const struct tcd_pkt *pk, const uint8_t *pay)
{
	int64_t off;

	if (pk->flags & TCD_TH_SYN) {
		c->isn[dir] = pk->seq;
		c->have_isn[dir] = 1;
		return 0;   /* tcpcrypt sends no SYN data (RFC 8547 4.7) */
	}
	if (!c->have_isn[dir] || pk->pay_len == 0)
		return 0;
	off = tcd_conn_off(c, dir, pk->seq);
	if (off < 0)
		return 0;   /* a keep-alive probe or garbage before the stream */
	return tcd_stream_add(&c->st[dir], (uint64_t)off, pay, pk->pay_caplen, pk->pay_len);
}

/* The length of the Init message with this magic at the start of s: 0 if
 * s does not start with it, -EPROTO if it does but its header is not
 * captured whole or is malformed. */
static long init_len(const struct tcd_stream *s, uint32_t magic, size_t need)
{
	size_t have = 0;
	long m;

	if (!tcd_stream_has(s, 0, 4) || tc_get_be32(s->buf) != magic)
		return 0;
	while (have < TC_INIT_MAX && have < s->cap && s->have[have])
		have++;
	if (have < need)
		return -EPROTO;
	m = tc_init_msg_len(magic, s->buf, have, TC_INIT_MAX);
	if (m < 0 || (size_t)m <= 8)
		return -EPROTO;
	return m;
}

/* A key of the key log whose session ID agrees with its secret, as mk[0]. */
static int key_mk0(const struct tcd_key *k, uint8_t mk0[32])
{
	struct tc_ks_session ks;
	int ok;

	tc_ks_from_ss0(&ks, k->sessid[0], k->ss0);
	ok = sodium_memcmp(ks.sessid, k->sessid, TC_SESSID_LEN) == 0;
	memcpy(mk0, ks.mk0, 32);
	sodium_memzero(&ks, sizeof ks);
	return ok;
}

int tcd_conn_decrypt(struct tcd_conn *c, const struct tcd_keylog *kl)
{
	uint8_t mk0[32];
	long l[2];
	size_t i;
	int a, d, r;

	c->state = TCD_C_PLAIN;
	/* Init1 starts A's stream (9 header bytes: magic, M, K); Init2 B's (10: + AEAD) */
	for (a = 0; a < 2; a++) {
		l[a] = init_len(&c->st[a], TC_INIT1_MAGIC, 9);
		if (l[a] != 0)
			break;
	}
	if (a == 2)
		return 0;
	if (!c->have_isn[0] || !c->have_isn[1]) {
		c->state = TCD_C_NOHS;
		return 0;
	}
	l[!a] = init_len(&c->st[!a], TC_INIT2_MAGIC, 10);
	if (l[a] <= 0 || l[!a] <= 0) {
		c->state = TCD_C_BADINIT;
		return 0;
	}
	c->a_dir = a;
	c->aead = tc_get_be16(c->st[!a].buf + 8);
	if (tc_aead_key_len(c->aead) == 0) {
		c->state = TCD_C_NOAEAD;
		return 0;
	}
	c->state = TCD_C_NOKEY;
	for (i = 0; i < kl->n; i++) {
		if (!key_mk0(&kl->keys[i], mk0))
			continue;
		for (d = 0; d < 2; d++) {
			r = tcd_frames_read(NULL, &c->st[d], (uint64_t)l[d], c->aead, mk0, d == a, 1);
			if (r != 0)
				break;
		}
		if (r < 0) {
			sodium_memzero(mk0, sizeof mk0);
			return r == -ENOTSUP ? (c->state = TCD_C_NOAEAD, 0) : r;
		}
		if (r == 1)
			break;
	}
	if (i == kl->n) {
		sodium_memzero(mk0, sizeof mk0);
		return 0;
	}
	memcpy(c->sessid, kl->keys[i].sessid, TC_SESSID_LEN);
	for (d = 0; d < 2; d++) {
		r = tcd_frames_read(&c->dir[d], &c->st[d], (uint64_t)l[d], c->aead, mk0, d == a, 0);
		if (r < 0)
			break;
	}
	sodium_memzero(mk0, sizeof mk0);
	if (r < 0)
		return r;
	c->state = TCD_C_DECRYPTED;
	return 0;
}

void tcd_table_free(struct tcd_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		tcd_stream_free(&t->all[i]->st[0]);
		tcd_stream_free(&t->all[i]->st[1]);
		tcd_frames_free(&t->all[i]->dir[0]);
		tcd_frames_free(&t->all[i]->dir[1]);
		free(t->all[i]);
	}
	free(t->all);
	memset(t, 0, sizeof *t);
}
