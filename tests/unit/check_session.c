/*
 * check_session.c - the tcpcrypt session engine end to end: two sessions
 * in memory run Init1/Init2 and exchange data both ways under random
 * chunking (one byte at a time included), with rekeys, until FINp, for
 * every AEAD; Init parsing errors; tampering with frames; misuse;
 * resumed sessions (RFC 8548 3.5): the chain's use rules, the v=1
 * suboption, resumed pairs under random chunking from offset 0.
 */
#include "config.h"

/* This file is built twice, with and without TC_AES_TESTS, each build
 * registering its own part of the tests: the other part is unused. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
#include "init_msg.h"
#include "aead.h"
#include "eno.h"
#include "keysched.h"
#include "resume_opt.h"
#include "session.h"
#include "util.h"

static const uint8_t transcript[7] = { 0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0x23 };

/* ---------------------------------------------------------------- helpers */

/* A deterministic generator, so a failure can be replayed. */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? (uint32_t)(rng_state % n) : 0;
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(256);
}

/* A growable byte buffer: one direction of the TCP stream, or a log. */
struct buf {
	uint8_t *p;
	size_t len, cap, rd;
};

static void buf_add(struct buf *b, const uint8_t *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 1024;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* How many AEADs the default list has here. */
static size_t ndefault(void)
{
	uint16_t l[TC_MAX_AEADS];

	return tc_aead_default_list(l, TC_MAX_AEADS);
}

static tc_session *new_session(int role, const uint16_t *aeads, size_t naeads)
{
	struct tc_session_params p = {
		.role = (uint8_t)role,
		.tep_byte = TCPCRYPT_TEP_ECDHE_CURVE25519,
		.transcript = transcript,
		.transcript_len = sizeof transcript,
		.aeads = aeads,
		.naeads = naeads,
	};
	tc_session *s;

	ck_assert_int_eq(tc_session_new(&s, &p), 0);
	return s;
}

/* A copy of a session (it is flat), to replay from the same state. */
static tc_session *clone_session(const tc_session *s)
{
	tc_session *c = aligned_alloc(16, (tc_session_size() + 15) & ~(size_t)15);

	ck_assert_ptr_nonnull(c);
	memcpy(c, s, tc_session_size());
	return c;
}

/* Direct handshake; both ready afterwards. */
static void handshake(tc_session *a, tc_session *b)
{
	uint8_t m1[TC_HANDSHAKE_MAX], m2[TC_HANDSHAKE_MAX];
	size_t l1, l2, used;

	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, m1, sizeof m1, &l1), 0);
	ck_assert_int_eq(tc_session_handshake(b, m1, l1, &used, m2, sizeof m2, &l2), 1);
	ck_assert_uint_eq(used, l1);
	ck_assert_int_eq(tc_session_handshake(a, m2, l2, &used, m1, sizeof m1, &l1), 1);
	ck_assert_uint_eq(used, l2);
	ck_assert_uint_eq(l1, 0);
}

static void seal_into(tc_session *s, struct buf *wire, const uint8_t *data, size_t len,
                      unsigned flags)
{
	static uint8_t out[TC_FRAME_MAX];
	size_t outlen;

	ck_assert_int_eq(tc_session_seal(s, data, len, flags, out, sizeof out, &outlen), 0);
	ck_assert_uint_eq(outlen, len + TC_FRAME_OVERHEAD);
	buf_add(wire, out, outlen);
}

/*
 * The receiver reads everything not yet read from wire, in chunks of
 * random size (mode 1: one byte at a time) with a random plaintext
 * capacity, appending plaintext to got and Init2 (B) to reply. Returns
 * the OR of the flags seen.
 */
static unsigned drain_wire(tc_session *s, struct buf *wire, struct buf *got, struct buf *reply,
                           int mode)
{
	static uint8_t plain[70000];
	uint8_t hs[TC_HANDSHAKE_MAX];
	size_t chunk, cap, plainlen, hslen;
	unsigned flags, all = 0;
	ssize_t r;
	int idle = 0;

	for (;;) {
		chunk = mode == 1 ? 1 : 1 + rnd(rnd(2) ? 64 : 70000);
		if (chunk > wire->len - wire->rd)
			chunk = wire->len - wire->rd;
		cap = rnd(4) == 0 ? 1 + rnd(8) : 1 + rnd(sizeof plain);
		r = tc_session_recv(s, wire->p + wire->rd, chunk, plain, cap, &plainlen, &flags,
		                    hs, sizeof hs, &hslen);
		ck_assert_int_ge(r, 0);
		ck_assert_uint_le((size_t)r, chunk);
		ck_assert_uint_le(plainlen, cap);
		wire->rd += (size_t)r;
		buf_add(got, plain, plainlen);
		if (hslen > 0)
			buf_add(reply, hs, hslen);
		all |= flags;
		/* done when all input is taken and no plaintext is left pending */
		if (wire->rd == wire->len && plainlen < cap) {
			if (++idle > 1)
				return all;
		} else {
			idle = 0;
		}
	}
}

/* ---------------------------------------------------------------- end to end */

/* One conversation between A and B with the AEAD id (0: defaults). */
static void conversation(uint16_t aead, int mode, uint64_t seed)
{
	uint16_t list[1] = { aead };
	tc_session *a = new_session(TCPCRYPT_ROLE_A, aead ? list : NULL, aead ? 1 : 0);
	tc_session *b = new_session(TCPCRYPT_ROLE_B, aead ? list : NULL, aead ? 1 : 0);
	struct buf ab = { 0 }, ba = { 0 }, sent_a = { 0 }, sent_b = { 0 }, got_a = { 0 }, got_b = { 0 };
	static uint8_t data[TC_FRAME_MAX_DATA];
	uint8_t hs[TC_HANDSHAKE_MAX], sa[TC_SESSID_LEN], sb[TC_SESSID_LEN];
	size_t hslen, used, len;
	int round, i, nframes, rekeys_a = 0, rekeys_b = 0;
	unsigned fl;

	rng_state = seed;
	/* A: Init1 onto the A->B stream */
	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, hs, sizeof hs, &hslen), 0);
	ck_assert_uint_eq(tc_session_ready(a), 0);
	buf_add(&ab, hs, hslen);
	for (round = 0; round < 12; round++) {
		/* A sends (its first frames go out together with Init1) */
		if (tc_session_ready(a) && rnd(3) == 0) {
			ck_assert_int_eq(tc_session_rekey(a), 0);
			rekeys_a++;
		}
		nframes = tc_session_ready(a) ? (int)rnd(4) + (round == 1) : 0;
		for (i = 0; i < nframes; i++) {
			/* one largest frame each way; more at random (not bytewise: slow) */
			len = (round == 1 && i == 0) || (mode == 0 && rnd(8) == 0) ?
			      TC_FRAME_MAX_DATA - rnd(3) : rnd(3000);
			rnd_bytes(data, len);
			buf_add(&sent_a, data, len);
			seal_into(a, &ab, data, len, 0);
		}
		while (tc_session_ready(a) && tc_session_rekey_pending(a))
			seal_into(a, &ab, NULL, 0, 0);
		/* B reads: Init1 (answered with Init2 onto B->A) and frames */
		drain_wire(b, &ab, &got_b, &ba, mode);
		ck_assert_int_eq(tc_session_ready(b), 1);
		/* B sends, rekeying at times; answers A's rekey */
		if (rnd(3) == 0) {
			ck_assert_int_eq(tc_session_rekey(b), 0);
			rekeys_b++;
		}
		nframes = (int)rnd(4) + (round == 1);
		for (i = 0; i < nframes; i++) {
			len = (round == 1 && i == 0) || (mode == 0 && rnd(8) == 0) ?
			      TC_FRAME_MAX_DATA : rnd(3000);
			rnd_bytes(data, len);
			buf_add(&sent_b, data, len);
			seal_into(b, &ba, data, len, 0);
		}
		while (tc_session_rekey_pending(b))
			seal_into(b, &ba, NULL, 0, 0);
		ck_assert_int_eq(tc_session_rekey_pending(b), 0);
		drain_wire(a, &ba, &got_a, &ab, mode);
		ck_assert_int_eq(tc_session_ready(a), 1);
	}
	ck_assert_int_gt(rekeys_a, 0);
	ck_assert_int_gt(rekeys_b, 0);
	/* both agree on the session */
	ck_assert_int_eq(tc_session_sessid(a, sa, sizeof sa), TC_SESSID_LEN);
	ck_assert_int_eq(tc_session_sessid(b, sb, sizeof sb), TC_SESSID_LEN);
	ck_assert_mem_eq(sa, sb, TC_SESSID_LEN);
	ck_assert_uint_eq(sa[0], 0x23);
	ck_assert_uint_eq(tc_session_aead(a), tc_session_aead(b));
	if (aead)
		ck_assert_uint_eq(tc_session_aead(a), aead);
	ck_assert_int_eq(tc_session_role(a), TCPCRYPT_ROLE_A);
	ck_assert_int_eq(tc_session_role(b), TCPCRYPT_ROLE_B);

	/* A ends with FINp and data; B sees the authenticated end */
	rnd_bytes(data, 100);
	buf_add(&sent_a, data, 100);
	seal_into(a, &ab, data, 100, TC_SEAL_FIN);
	ck_assert_int_eq(tc_session_seal(a, data, 1, 0, hs, sizeof hs, &hslen), -EINVAL);
	ck_assert_int_eq(tc_session_rekey(a), -EINVAL);
	fl = drain_wire(b, &ab, &got_b, &ba, mode);
	ck_assert_uint_eq(fl & TC_OPEN_FIN, TC_OPEN_FIN);
	/* B still sends, rekeys, then ends */
	ck_assert_int_eq(tc_session_rekey(b), 0);
	rnd_bytes(data, 5000);
	buf_add(&sent_b, data, 5000);
	seal_into(b, &ba, data, 5000, 0);
	seal_into(b, &ba, NULL, 0, TC_SEAL_FIN);
	fl = drain_wire(a, &ba, &got_a, &ab, mode);
	ck_assert_uint_eq(fl & TC_OPEN_FIN, TC_OPEN_FIN);
	/* A's FIN was sent: B's rekey needs no answer */
	ck_assert_int_eq(tc_session_rekey_pending(a), 0);

	ck_assert_uint_eq(got_b.len, sent_a.len);
	ck_assert_int_eq(memcmp(got_b.p, sent_a.p, sent_a.len), 0);
	ck_assert_uint_eq(got_a.len, sent_b.len);
	ck_assert_int_eq(memcmp(got_a.p, sent_b.p, sent_b.len), 0);
	ck_assert_uint_eq(tc_session_send_offset(a), ab.len);
	ck_assert_uint_eq(tc_session_recv_offset(b), ab.len);
	ck_assert_uint_eq(tc_session_send_offset(b), ba.len);
	ck_assert_uint_eq(tc_session_recv_offset(a), ba.len);

	tc_session_free(a);
	tc_session_free(b);
	buf_free(&ab); buf_free(&ba); buf_free(&sent_a); buf_free(&sent_b);
	buf_free(&got_a); buf_free(&got_b);
}

START_TEST(test_e2e_chacha)
{
	conversation(TCPCRYPT_AEAD_CHACHA20_POLY1305, 0, 0x1234567ull + (uint64_t)_i);
}
END_TEST

/* (the AES tests run in check_session_aes: SKIP without AES-NI) */
START_TEST(test_e2e_aes)
{
	uint16_t id = _i < 3 ? TCPCRYPT_AEAD_AES_256_GCM : TCPCRYPT_AEAD_AES_128_GCM;

	conversation(id, 0, 0x7654321ull + (uint64_t)_i);
}
END_TEST

START_TEST(test_e2e_default)
{
	conversation(0, 0, 0x42ull);
}
END_TEST

START_TEST(test_e2e_bytewise)
{
	conversation(TCPCRYPT_AEAD_CHACHA20_POLY1305, 1, 0x99ull);
}
END_TEST

START_TEST(test_e2e_bytewise_aes)
{
	uint16_t ids[2] = { TCPCRYPT_AEAD_AES_256_GCM, TCPCRYPT_AEAD_AES_128_GCM };

	conversation(ids[_i], 1, 0x9aull + (uint64_t)_i);
}
END_TEST

/* B may send right after Init2, before any frame of A. */
/* A session from a key pair made ahead completes the exchange; the pair
 * is wiped by the init (one pair, one connection), and its public key is
 * the one Init1 carries. */
START_TEST(test_keypair_ahead)
{
	struct tc_session_params p = {
		.role = TCPCRYPT_ROLE_A,
		.tep_byte = TCPCRYPT_TEP_ECDHE_CURVE25519,
		.transcript = transcript,
		.transcript_len = sizeof transcript,
	};
	struct tc_keypair kp, copy;
	uint8_t zero[sizeof kp] = { 0 }, m1[TC_HANDSHAKE_MAX];
	tc_session *a = aligned_alloc(16, (tc_session_size() + 15) & ~(size_t)15);
	tc_session *b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	size_t l1, used;

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(tc_keypair_make(NULL), -EINVAL);
	ck_assert_int_eq(tc_session_init_keypair(a, &p, NULL), -EINVAL);
	ck_assert_int_eq(tc_keypair_make(&kp), 0);
	copy = kp;
	ck_assert_int_eq(tc_session_init_keypair(a, &p, &kp), 0);
	ck_assert_mem_eq(&kp, zero, sizeof kp);
	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, m1, sizeof m1, &l1), 0);
	/* Init1 carries N_A followed by the pair's public key */
	{
		const uint8_t *n = memmem(m1, l1, copy.nonce, 32);

		ck_assert_ptr_nonnull(n);
		ck_assert_mem_eq(n + 32, copy.pk, 32);
	}
	tc_session_wipe(a);
	ck_assert_int_eq(tc_session_init_keypair(a, &p, &copy), 0);
	handshake(a, b);
	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_b_sends_first)
{
	tc_session *a = new_session(TCPCRYPT_ROLE_A, NULL, 0), *b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	struct buf ba = { 0 }, got = { 0 }, ab = { 0 };
	uint8_t m1[TC_HANDSHAKE_MAX], m2[TC_HANDSHAKE_MAX];
	size_t l1, l2, used;

	rng_state = 7;
	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, m1, sizeof m1, &l1), 0);
	ck_assert_int_eq(tc_session_handshake(b, m1, l1, &used, m2, sizeof m2, &l2), 1);
	ck_assert_uint_eq(tc_session_send_offset(b), TC_INIT2_LEN);
	ck_assert_uint_eq(tc_session_recv_offset(b), l1);
	buf_add(&ba, m2, l2);
	seal_into(b, &ba, (const uint8_t *)"early", 5, 0);
	drain_wire(a, &ba, &got, &ab, 0);
	ck_assert_uint_eq(got.len, 5);
	ck_assert_mem_eq(got.p, "early", 5);
	ck_assert_uint_eq(ab.len, 0);
	tc_session_free(a);
	tc_session_free(b);
	buf_free(&ba); buf_free(&got); buf_free(&ab);
}
END_TEST

/* Two rekeys before a frame move one generation; a peer rekey raises ours. */
START_TEST(test_rekey_rules)
{
	tc_session *a = new_session(TCPCRYPT_ROLE_A, NULL, 0), *b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	struct buf ab = { 0 }, ba = { 0 }, got = { 0 }, none = { 0 };

	rng_state = 11;
	handshake(a, b);
	ck_assert_int_eq(tc_session_rekey(a), 0);
	ck_assert_int_eq(tc_session_rekey(a), 0);
	seal_into(a, &ab, (const uint8_t *)"x", 1, 0);
	ck_assert_uint_eq(ab.p[0], 0x01);             /* rekey bit on the first frame */
	seal_into(a, &ab, (const uint8_t *)"y", 1, 0);
	ck_assert_uint_eq(ab.p[ab.len - 21], 0x00);   /* and only there */
	drain_wire(b, &ab, &got, &none, 0);
	ck_assert_uint_eq(got.len, 2);
	ck_assert_mem_eq(got.p, "xy", 2);
	ck_assert_int_eq(tc_session_rekey_pending(b), 1);
	/* B's own rekey now is the answer, not one more generation */
	ck_assert_int_eq(tc_session_rekey(b), 0);
	seal_into(b, &ba, (const uint8_t *)"z", 1, 0);
	ck_assert_uint_eq(ba.p[0], 0x01);
	ck_assert_int_eq(tc_session_rekey_pending(b), 0);
	got.len = 0;
	drain_wire(a, &ba, &got, &none, 0);
	ck_assert_uint_eq(got.len, 1);
	ck_assert_int_eq(tc_session_rekey_pending(a), 0);
	/* the peer rekeys twice: we follow to its generation */
	ck_assert_int_eq(tc_session_rekey(b), 0);
	seal_into(b, &ba, (const uint8_t *)"1", 1, 0);
	ck_assert_int_eq(tc_session_rekey(b), 0);
	seal_into(b, &ba, (const uint8_t *)"2", 1, 0);
	drain_wire(a, &ba, &got, &none, 0);
	ck_assert_int_eq(tc_session_rekey_pending(a), 1);
	/* B counts one generation per rekey frame: A needs two to catch up */
	seal_into(a, &ab, NULL, 0, 0);
	ck_assert_uint_eq(ab.p[ab.rd], 0x01);
	ck_assert_int_eq(tc_session_rekey_pending(a), 1);
	seal_into(a, &ab, NULL, 0, 0);
	ck_assert_uint_eq(ab.p[ab.rd + 20], 0x01);
	ck_assert_int_eq(tc_session_rekey_pending(a), 0);
	seal_into(a, &ab, NULL, 0, 0);
	ck_assert_uint_eq(ab.p[ab.rd + 40], 0x00);
	drain_wire(b, &ab, &got, &none, 0);
	ck_assert_int_eq(tc_session_rekey_pending(b), 0);
	seal_into(b, &ba, (const uint8_t *)"3", 1, 0);
	got.len = 0;
	drain_wire(a, &ba, &got, &none, 0);
	ck_assert_uint_eq(got.len, 1);
	ck_assert_uint_eq(got.p[0], '3');
	tc_session_free(a);
	tc_session_free(b);
	buf_free(&ab); buf_free(&ba); buf_free(&got); buf_free(&none);
}
END_TEST

/* ---------------------------------------------------------------- Init parsing */

/* An Init1 from a fresh key pair, with the given AEAD list and trailing bytes. */
static size_t make_init1(uint8_t *out, const uint16_t *ids, size_t n, size_t trailing,
                         const uint8_t *pub)
{
	uint8_t nonce[32], sk[32], pk[32];
	int len;

	randombytes_buf(nonce, sizeof nonce);
	randombytes_buf(sk, sizeof sk);
	crypto_scalarmult_base(pk, sk);
	len = tc_init1_build(out, TC_INIT_MAX, ids, n, nonce, pub ? pub : pk);
	ck_assert_int_gt(len, 0);
	memset(out + len, 0xee, trailing);
	tc_put_be32(out + 4, (uint32_t)((size_t)len + trailing));
	return (size_t)len + trailing;
}

/* Feeds msg to s one byte at a time (through tc_session_handshake) and
 * returns the final result. */
static int feed_bytewise(tc_session *s, const uint8_t *msg, size_t len, uint8_t *out,
                         size_t *outlen)
{
	size_t i, used, ol;
	int r = 0;

	*outlen = 0;
	for (i = 0; i < len; i++) {
		r = tc_session_handshake(s, msg + i, 1, &used, out, TC_HANDSHAKE_MAX, &ol);
		if (r < 0)
			return r;
		ck_assert_uint_eq(used, 1);
		if (ol > 0)
			*outlen = ol;
		if (r == 1)
			ck_assert_uint_eq(i, len - 1);
		else
			ck_assert_uint_eq(ol, 0);
	}
	return r;
}

START_TEST(test_init1_trailing)
{
	tc_session *a = new_session(TCPCRYPT_ROLE_A, NULL, 0), *b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	uint8_t m1[TC_INIT_MAX + 16], m2[TC_HANDSHAKE_MAX], sa[33], sb[33];
	size_t l1, l2, used;

	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, m1, sizeof m1, &l1), 0);
	/* B reads A's Init1 with 7 trailing bytes (M raised to match) */
	memset(m1 + l1, 0x5a, 7);
	tc_put_be32(m1 + 4, (uint32_t)(l1 + 7));
	ck_assert_int_eq(feed_bytewise(b, m1, l1 + 7, m2, &l2), 1);
	ck_assert_uint_eq(l2, TC_INIT2_LEN);
	ck_assert_uint_eq(tc_session_recv_offset(b), l1 + 7);
	/* A never sent them: the trailing bytes are in B's transcript only,
	 * so the session IDs differ (check_kat shows that both ends agree
	 * when the sender did send them) */
	ck_assert_int_eq(tc_session_handshake(a, m2, l2, &used, m1, sizeof m1, &l1), 1);
	tc_session_sessid(a, sa, sizeof sa);
	tc_session_sessid(b, sb, sizeof sb);
	ck_assert_int_ne(memcmp(sa, sb, 33), 0);
	tc_session_free(a);
	tc_session_free(b);
}
END_TEST

START_TEST(test_init1_max_len)
{
	static const uint16_t ids[1] = { TCPCRYPT_AEAD_CHACHA20_POLY1305 };
	tc_session *b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	static uint8_t m1[TC_INIT_MAX + 1];
	uint8_t m2[TC_HANDSHAKE_MAX];
	size_t l1 = make_init1(m1, ids, 1, TC_INIT_MAX - TC_INIT1_LEN(1), NULL), l2, used;

	ck_assert_uint_eq(l1, TC_INIT_MAX);
	/* the whole message and a frame byte behind it: only M bytes consumed */
	m1[l1] = 0x00;
	ck_assert_int_eq(tc_session_handshake(b, m1, l1 + 1, &used, m2, sizeof m2, &l2), 1);
	ck_assert_uint_eq(used, l1);
	tc_session_free(b);
}
END_TEST

START_TEST(test_init1_unknown_aeads)
{
	static const uint16_t ids[4] = { 0x7777, 0x0001, TCPCRYPT_AEAD_CHACHA20_POLY1305, 0xffff };
	static const uint16_t pref[2] = { TCPCRYPT_AEAD_AES_256_GCM, TCPCRYPT_AEAD_CHACHA20_POLY1305 };
	tc_session *b = new_session(TCPCRYPT_ROLE_B, pref, 2);
	uint8_t m1[TC_INIT_MAX], m2[TC_HANDSHAKE_MAX];
	size_t l1 = make_init1(m1, ids, 4, 0, NULL), l2;

	ck_assert_int_eq(feed_bytewise(b, m1, l1, m2, &l2), 1);
	ck_assert_uint_eq(tc_get_be16(m2 + 8), TCPCRYPT_AEAD_CHACHA20_POLY1305);
	ck_assert_uint_eq(tc_session_aead(b), TCPCRYPT_AEAD_CHACHA20_POLY1305);
	tc_session_free(b);
}
END_TEST

/* B's preference decides among A's offers, whatever A's order; B's
 * default preference takes AES-128-GCM first. */
START_TEST(test_init1_preference)
{
	static const uint16_t ids[3] = { TCPCRYPT_AEAD_CHACHA20_POLY1305, TCPCRYPT_AEAD_AES_256_GCM,
	                                 TCPCRYPT_AEAD_AES_128_GCM };
	static const uint16_t pref[2] = { TCPCRYPT_AEAD_AES_256_GCM, TCPCRYPT_AEAD_CHACHA20_POLY1305 };
	tc_session *b;
	uint8_t m1[TC_INIT_MAX], m2[TC_HANDSHAKE_MAX];
	size_t l1 = make_init1(m1, ids, 3, 0, NULL), l2, used;

	b = new_session(TCPCRYPT_ROLE_B, pref, 2);
	ck_assert_int_eq(tc_session_handshake(b, m1, l1, &used, m2, sizeof m2, &l2), 1);
	ck_assert_uint_eq(tc_get_be16(m2 + 8), TCPCRYPT_AEAD_AES_256_GCM);
	tc_session_free(b);
	b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	ck_assert_int_eq(tc_session_handshake(b, m1, l1, &used, m2, sizeof m2, &l2), 1);
	ck_assert_uint_eq(tc_get_be16(m2 + 8), TCPCRYPT_AEAD_AES_128_GCM);
	tc_session_free(b);
}
END_TEST

/* The error of feeding msg to a fresh B (whole, then bytewise), and that
 * it sticks. */
static int b_error(const uint8_t *msg, size_t len)
{
	tc_session *b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	uint8_t m2[TC_HANDSHAKE_MAX];
	size_t l2, used;
	int r, r2;

	r = tc_session_handshake(b, msg, len, &used, m2, sizeof m2, &l2);
	ck_assert_uint_eq(l2, 0);
	/* sticky */
	ck_assert_int_eq(tc_session_handshake(b, msg, len, &used, m2, sizeof m2, &l2), r);
	ck_assert_int_eq(tc_session_ready(b), 0);
	tc_session_free(b);
	b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	r2 = feed_bytewise(b, msg, len, m2, &l2);
	ck_assert_int_eq(r2, r);
	tc_session_free(b);
	return r;
}

START_TEST(test_init1_errors)
{
	static const uint16_t chacha[1] = { TCPCRYPT_AEAD_CHACHA20_POLY1305 };
	static const uint16_t nothing[2] = { 0x0003, 0x7777 };
	uint8_t m[TC_INIT_MAX + 8], zero[32] = { 0 };
	size_t l;

	/* no AEAD in common */
	l = make_init1(m, nothing, 2, 0, NULL);
	ck_assert_int_eq(b_error(m, l), -ENOTSUP);
	l = make_init1(m, NULL, 0, 0, NULL);
	ck_assert_int_eq(b_error(m, l), -ENOTSUP);
	/* bad magic: found at the first byte */
	l = make_init1(m, chacha, 1, 0, NULL);
	m[0] ^= 1;
	ck_assert_int_eq(b_error(m, 1), -EPROTO);
	m[0] ^= 1;
	m[3] ^= 0x80;
	ck_assert_int_eq(b_error(m, l), -EPROTO);
	m[3] ^= 0x80;
	/* an Init2 where Init1 is due */
	tc_put_be32(m, TC_INIT2_MAGIC);
	ck_assert_int_eq(b_error(m, l), -EPROTO);
	tc_put_be32(m, TC_INIT1_MAGIC);
	/* bad lengths: above TC_INIT_MAX, below the fixed part */
	tc_put_be32(m + 4, TC_INIT_MAX + 1);
	ck_assert_int_eq(b_error(m, 8), -EPROTO);
	tc_put_be32(m + 4, 0xffffffffu);
	ck_assert_int_eq(b_error(m, 8), -EPROTO);
	tc_put_be32(m + 4, 8);
	ck_assert_int_eq(b_error(m, 8), -EPROTO);
	tc_put_be32(m + 4, (uint32_t)l - 1);          /* one short of K's ids + N_A + Pub_A */
	ck_assert_int_eq(b_error(m, l), -EPROTO);
	m[8] = 2;                                     /* K = 2 with M for K = 1 */
	tc_put_be32(m + 4, (uint32_t)l);
	ck_assert_int_eq(b_error(m, l), -EPROTO);
	/* an all-zero (small-order) public key */
	l = make_init1(m, chacha, 1, 0, zero);
	ck_assert_int_eq(b_error(m, l), -EKEYREJECTED);
}
END_TEST

/* A's side: Init2 errors. */
static int a_error(const uint16_t *offer, size_t n, uint16_t chosen, uint32_t mlen,
                   uint32_t magic, const uint8_t *pub)
{
	tc_session *a = new_session(TCPCRYPT_ROLE_A, offer, n);
	uint8_t m1[TC_HANDSHAKE_MAX], m2[TC_INIT_MAX], nonce[32], sk[32], pk[32];
	size_t l1, used;
	int r;

	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, m1, sizeof m1, &l1), 0);
	randombytes_buf(nonce, 32);
	randombytes_buf(sk, 32);
	crypto_scalarmult_base(pk, sk);
	ck_assert_int_eq(tc_init2_build(m2, sizeof m2, chosen, nonce, pub ? pub : pk), TC_INIT2_LEN);
	tc_put_be32(m2, magic);
	tc_put_be32(m2 + 4, mlen);
	memset(m2 + TC_INIT2_LEN, 0, sizeof m2 - TC_INIT2_LEN);
	r = tc_session_handshake(a, m2, mlen > TC_INIT2_LEN && mlen <= TC_INIT_MAX ? mlen : TC_INIT2_LEN,
	                         &used, m1, sizeof m1, &l1);
	if (r < 0) {
		ck_assert_int_eq(tc_session_ready(a), 0);
		ck_assert_int_eq(tc_session_handshake(a, m2, 1, &used, m1, sizeof m1, &l1), r);
	}
	tc_session_free(a);
	return r;
}

START_TEST(test_init2_errors)
{
	static const uint16_t chacha[1] = { TCPCRYPT_AEAD_CHACHA20_POLY1305 };
	uint8_t zero[32] = { 0 };

	ck_assert_int_eq(a_error(chacha, 1, TCPCRYPT_AEAD_CHACHA20_POLY1305, TC_INIT2_LEN,
	                         TC_INIT2_MAGIC, NULL), 1);
	ck_assert_int_eq(a_error(chacha, 1, TCPCRYPT_AEAD_CHACHA20_POLY1305, TC_INIT2_LEN + 9,
	                         TC_INIT2_MAGIC, NULL), 1);
	/* a chosen AEAD A did not offer */
	ck_assert_int_eq(a_error(chacha, 1, TCPCRYPT_AEAD_AES_256_GCM, TC_INIT2_LEN,
	                         TC_INIT2_MAGIC, NULL), -EPROTO);
	ck_assert_int_eq(a_error(chacha, 1, 0x7777, TC_INIT2_LEN, TC_INIT2_MAGIC, NULL), -EPROTO);
	ck_assert_int_eq(a_error(chacha, 1, TCPCRYPT_AEAD_CHACHA20_POLY1305, TC_INIT2_LEN,
	                         TC_INIT1_MAGIC, NULL), -EPROTO);
	ck_assert_int_eq(a_error(chacha, 1, TCPCRYPT_AEAD_CHACHA20_POLY1305, TC_INIT2_LEN - 1,
	                         TC_INIT2_MAGIC, NULL), -EPROTO);
	ck_assert_int_eq(a_error(chacha, 1, TCPCRYPT_AEAD_CHACHA20_POLY1305, TC_INIT_MAX + 1,
	                         TC_INIT2_MAGIC, NULL), -EPROTO);
	ck_assert_int_eq(a_error(chacha, 1, TCPCRYPT_AEAD_CHACHA20_POLY1305, TC_INIT2_LEN,
	                         TC_INIT2_MAGIC, zero), -EKEYREJECTED);
}
END_TEST

START_TEST(test_params)
{
	static const uint16_t unknown[1] = { 0x0003 };
	static const uint16_t many[TC_MAX_AEADS + 1] = { 0 };
	struct tc_session_params p = {
		.role = TCPCRYPT_ROLE_A, .tep_byte = 0x23, .transcript = transcript,
		.transcript_len = sizeof transcript,
	};
	tc_session *s;
	uint8_t out[TC_HANDSHAKE_MAX], sid[33];
	size_t used, outlen;

	ck_assert_uint_eq(tc_session_size() % 16, 0);
	p.tep_byte = 0xa3;
	ck_assert_int_eq(tc_session_new(&s, &p), -ENOTSUP);
	p.tep_byte = 0x23;
	p.role = 2;
	ck_assert_int_eq(tc_session_new(&s, &p), -EINVAL);
	p.role = TCPCRYPT_ROLE_A;
	p.transcript_len = 81;
	ck_assert_int_eq(tc_session_new(&s, &p), -EINVAL);
	p.transcript_len = 0;
	p.aeads = unknown;
	p.naeads = 1;
	ck_assert_int_eq(tc_session_new(&s, &p), -ENOTSUP);
	p.aeads = many;
	p.naeads = TC_MAX_AEADS + 1;
	ck_assert_int_eq(tc_session_new(&s, &p), -EINVAL);
	p.aeads = NULL;
	p.naeads = 0;
	ck_assert_int_eq(tc_session_new(&s, &p), 0);
	/* before the keys: no seal, no open, no session ID, no rekey */
	ck_assert_int_eq(tc_session_seal(s, (const uint8_t *)"x", 1, 0, out, sizeof out, &outlen), -EINVAL);
	ck_assert_int_eq(tc_session_sessid(s, sid, sizeof sid), -EINVAL);
	ck_assert_int_eq(tc_session_rekey(s), -EINVAL);
	/* Init1 needs room */
	ck_assert_int_eq(tc_session_handshake(s, NULL, 0, &used, out, 10, &outlen), -ENOSPC);
	ck_assert_int_eq(tc_session_handshake(s, NULL, 0, &used, out, sizeof out, &outlen), 0);
	ck_assert_uint_eq(outlen, TC_INIT1_LEN(ndefault()));
	tc_session_free(s);
}
END_TEST

/* ---------------------------------------------------------------- frames */

struct pair {
	tc_session *a, *b;
};

static struct pair keyed_pair(uint16_t aead)
{
	uint16_t list[1] = { aead };
	struct pair p = { new_session(TCPCRYPT_ROLE_A, list, 1), new_session(TCPCRYPT_ROLE_B, list, 1) };

	handshake(p.a, p.b);
	return p;
}

static void free_pair(struct pair *p)
{
	tc_session_free(p->a);
	tc_session_free(p->b);
}

/* Feeds wire[0..len) to s in one call; returns the result, plaintext in got. */
static ssize_t feed(tc_session *s, const uint8_t *wire, size_t len, struct buf *got, unsigned *flags)
{
	static uint8_t plain[TC_FRAME_MAX];
	uint8_t hs[TC_HANDSHAKE_MAX];
	size_t plainlen, hslen;
	ssize_t r;

	r = tc_session_recv(s, wire, len, plain, sizeof plain, &plainlen, flags, hs, sizeof hs, &hslen);
	if (got)
		buf_add(got, plain, plainlen);
	return r;
}

/* Everything refuses work after a fatal error. */
static void assert_dead(tc_session *s, int err)
{
	uint8_t out[64], fr[20] = { 0, 0, 17 }, *data;
	size_t outlen, datalen;
	unsigned flags;

	ck_assert_int_eq(tc_session_seal(s, (const uint8_t *)"x", 1, 0, out, sizeof out, &outlen), err);
	ck_assert_int_eq(tc_session_open(s, fr, sizeof fr, &data, &datalen, &flags), err);
	ck_assert_int_eq(feed(s, fr, sizeof fr, NULL, &flags), err);
	ck_assert_int_eq(tc_session_rekey(s), err);
	ck_assert_int_eq(tc_session_ready(s), 0);
	ck_assert_int_eq(tc_session_rekey_pending(s), 0);
}

/* Flip every bit of a frame (header, ciphertext, tag): each is fatal and
 * delivers nothing of the frame. */
static void flip_every_bit(uint16_t aead)
{
	struct pair p = keyed_pair(aead);
	struct buf w = { 0 }, got = { 0 };
	static uint8_t tail[70000];
	uint8_t f[64];
	size_t f1len, flen, bit;
	unsigned flags;
	tc_session *b;
	ssize_t r;

	seal_into(p.a, &w, (const uint8_t *)"first", 5, 0);
	f1len = w.len;
	seal_into(p.a, &w, (const uint8_t *)"the frame under attack", 22, 0);
	flen = w.len - f1len;
	memset(tail, 0, sizeof tail);
	/* B read the first frame */
	ck_assert_int_eq(feed(p.b, w.p, f1len, &got, &flags), (ssize_t)f1len);
	ck_assert_uint_eq(got.len, 5);
	for (bit = 0; bit < flen * 8; bit++) {
		b = clone_session(p.b);
		memcpy(f, w.p + f1len, flen);
		f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		got.len = 0;
		r = feed(b, f, flen, &got, &flags);
		if (r == (ssize_t)flen) {
			/* a longer clen: the frame is not complete yet; the bytes
			 * that follow complete it and authentication fails */
			ck_assert_uint_eq(got.len, 0);
			ck_assert_uint_ge(tc_frame_len(f), flen);
			r = feed(b, tail, sizeof tail, &got, &flags);
		}
		ck_assert_msg(r == -EBADMSG || r == -EMSGSIZE, "bit %zu: %zd", bit, r);
		ck_assert_uint_eq(got.len, 0);
		ck_assert_uint_eq(flags, 0);
		assert_dead(b, (int)r);
		tc_session_wipe(b);
		free(b);
	}
	free_pair(&p);
	buf_free(&w);
	buf_free(&got);
}

START_TEST(test_flip_bits_chacha)
{
	flip_every_bit(TCPCRYPT_AEAD_CHACHA20_POLY1305);
}
END_TEST

START_TEST(test_flip_bits_aes)
{
	flip_every_bit(_i ? TCPCRYPT_AEAD_AES_128_GCM : TCPCRYPT_AEAD_AES_256_GCM);
}
END_TEST

/* Three frames F1 F2 F3 from A; B sees them in the order given. */
static ssize_t play(const int *order, size_t n, struct buf *got, int *err)
{
	struct pair p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	struct buf w = { 0 }, stream = { 0 };
	size_t off[4], i;
	unsigned flags;
	ssize_t r = 0;

	off[0] = 0;
	seal_into(p.a, &w, (const uint8_t *)"one", 3, 0);
	off[1] = w.len;
	seal_into(p.a, &w, (const uint8_t *)"two", 3, 0);
	off[2] = w.len;
	seal_into(p.a, &w, (const uint8_t *)"three", 5, 0);
	off[3] = w.len;
	for (i = 0; i < n; i++)
		buf_add(&stream, w.p + off[order[i]], off[order[i] + 1] - off[order[i]]);
	*err = 0;
	for (i = 0; i < stream.len; i++) {
		r = feed(p.b, stream.p + i, 1, got, &flags);
		if (r < 0) {
			*err = (int)r;
			assert_dead(p.b, (int)r);
			break;
		}
	}
	free_pair(&p);
	buf_free(&w);
	buf_free(&stream);
	return r;
}

START_TEST(test_reorder_replay_drop)
{
	static const int ok[3] = { 0, 1, 2 }, swap[3] = { 0, 2, 1 }, replay[3] = { 0, 0, 1 };
	static const int drop[2] = { 0, 2 }, replay_late[4] = { 0, 1, 2, 1 };
	struct buf got = { 0 };
	int err;

	play(ok, 3, &got, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(got.len, 11);
	ck_assert_mem_eq(got.p, "onetwothree", 11);
	got.len = 0;
	play(swap, 3, &got, &err);
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_uint_eq(got.len, 3);         /* "one" only */
	got.len = 0;
	play(replay, 3, &got, &err);
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_uint_eq(got.len, 3);
	got.len = 0;
	play(drop, 2, &got, &err);
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_uint_eq(got.len, 3);
	got.len = 0;
	play(replay_late, 4, &got, &err);
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_uint_eq(got.len, 11);
	buf_free(&got);
}
END_TEST

/* A stream cut inside a frame gives no plaintext and no FIN: the caller
 * sees a TCP FIN without FINp. A cut tag that the next frame's bytes fill
 * fails authentication. */
START_TEST(test_truncate)
{
	struct pair p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	struct buf w = { 0 }, got = { 0 }, cut = { 0 };
	size_t f1;
	unsigned flags;
	tc_session *b2 = clone_session(p.b);

	seal_into(p.a, &w, (const uint8_t *)"whole frame", 11, TC_SEAL_FIN);
	f1 = w.len;
	ck_assert_int_eq(feed(p.b, w.p, f1 - 1, &got, &flags), (ssize_t)(f1 - 1));
	ck_assert_uint_eq(got.len, 0);
	ck_assert_uint_eq(flags, 0);
	ck_assert_int_eq(feed(p.b, w.p + f1 - 1, 1, &got, &flags), 1);
	ck_assert_uint_eq(got.len, 11);
	ck_assert_uint_eq(flags, TC_OPEN_FIN);
	/* the tag's last byte dropped; what follows takes its place. The
	 * byte that follows must differ from the dropped one (a fixed byte
	 * would equal it once in 256 runs, the keys being random). */
	buf_add(&cut, w.p, f1 - 1);
	{
		uint8_t next = (uint8_t)(w.p[f1 - 1] ^ 0x5a);

		buf_add(&cut, &next, 1);
	}
	got.len = 0;
	ck_assert_int_eq(feed(b2, cut.p, cut.len, &got, &flags), -EBADMSG);
	ck_assert_uint_eq(got.len, 0);
	tc_session_wipe(b2);
	free(b2);
	free_pair(&p);
	buf_free(&w); buf_free(&got); buf_free(&cut);
}
END_TEST

/* A valid frame after FINp is a protocol error. */
START_TEST(test_after_fin)
{
	struct pair p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	tc_session *a2 = clone_session(p.a), *b2;
	struct buf w = { 0 }, forged = { 0 }, got = { 0 };
	uint8_t fr[64], *data;
	size_t datalen;
	unsigned flags;

	/* A's FIN frame, then (from a copy of A) a frame at the next offset */
	seal_into(p.a, &w, NULL, 0, TC_SEAL_FIN);
	seal_into(a2, &forged, NULL, 0, 0);               /* same length as the FIN frame */
	seal_into(a2, &forged, (const uint8_t *)"late", 4, 0);
	buf_add(&w, forged.p + 20, forged.len - 20);
	b2 = clone_session(p.b);
	ck_assert_int_eq(feed(p.b, w.p, w.len, &got, &flags), -EPROTO);
	assert_dead(p.b, -EPROTO);
	/* the same in two calls: the FIN is reported, then the error */
	ck_assert_int_eq(feed(b2, w.p, 20, &got, &flags), 20);
	ck_assert_uint_eq(flags, TC_OPEN_FIN);
	ck_assert_int_eq(feed(b2, w.p, 0, &got, &flags), 0);
	ck_assert_uint_eq(flags, TC_OPEN_FIN);
	memcpy(fr, w.p + 20, w.len - 20);
	ck_assert_int_eq(tc_session_open(b2, fr, w.len - 20, &data, &datalen, &flags), -EPROTO);
	ck_assert_uint_eq(got.len, 0);
	assert_dead(b2, -EPROTO);
	tc_session_wipe(b2);
	free(b2);
	tc_session_wipe(a2);
	free(a2);
	free_pair(&p);
	buf_free(&w); buf_free(&forged); buf_free(&got);
}
END_TEST

/* Plaintext of good frames comes out before a bad frame's error. */
START_TEST(test_good_then_bad)
{
	struct pair p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	struct buf w = { 0 }, got = { 0 };
	unsigned flags;
	ssize_t r;

	seal_into(p.a, &w, (const uint8_t *)"good", 4, 0);
	seal_into(p.a, &w, (const uint8_t *)"bad", 3, 0);
	w.p[w.len - 1] ^= 1;
	r = feed(p.b, w.p, w.len, &got, &flags);
	ck_assert_int_ge(r, 0);
	ck_assert_uint_eq(got.len, 4);
	ck_assert_mem_eq(got.p, "good", 4);
	got.len = 0;
	ck_assert_int_eq(feed(p.b, w.p + r, w.len - (size_t)r, &got, &flags), -EBADMSG);
	ck_assert_uint_eq(got.len, 0);
	free_pair(&p);
	buf_free(&w); buf_free(&got);
}
END_TEST

/* tc_session_peek() opens frames ahead of the receive offset without
 * changing the session: the same plaintext and flags as the opens that
 * follow; a wrong offset or a forged frame fails and leaves the session
 * working; a frame under the next key is not opened. */
static size_t seal_one(tc_session *s, uint8_t *out, size_t cap, const char *d, unsigned flags)
{
	size_t outlen;

	ck_assert_int_eq(tc_session_seal(s, (const uint8_t *)d, strlen(d), flags, out, cap, &outlen), 0);
	return outlen;
}

static int peek_copy(const tc_session *s, uint64_t ahead, const uint8_t *f, size_t n,
                     uint8_t *copy, size_t *dlen, unsigned *flags, uint16_t *u, uint8_t **data)
{
	memcpy(copy, f, n);
	return tc_session_peek(s, NULL, ahead, copy, n, data, dlen, flags, u);
}

START_TEST(test_peek_ahead)
{
	struct pair p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	uint8_t f[5][64], c[64], *data;
	size_t n[5], dlen;
	unsigned flags;
	uint16_t u;
	tc_aead_ctx x = { 0 };

	n[0] = seal_one(p.a, f[0], 64, "hello", 0);
	n[1] = seal_one(p.a, f[1], 64, "world!", 0);
	n[2] = seal_one(p.a, f[2], 64, "ab", TC_SEAL_URG);
	n[3] = seal_one(p.a, f[3], 64, "end", TC_SEAL_FIN);
	/* ahead of everything: each frame at its offset */
	ck_assert_int_eq(peek_copy(p.b, n[0], f[1], n[1], c, &dlen, &flags, &u, &data), 0);
	ck_assert_uint_eq(dlen, 6);
	ck_assert_mem_eq(data, "world!", 6);
	ck_assert_uint_eq(flags, 0);
	ck_assert_int_eq(tc_session_peek(p.b, &x, n[0] + n[1], memcpy(c, f[2], n[2]), n[2],
	                                 &data, &dlen, &flags, &u), 0);
	ck_assert_uint_eq(flags, TC_OPEN_URG);
	ck_assert_uint_eq(u, 1);
	ck_assert_mem_eq(data, "ab", 2);
	ck_assert_int_eq(peek_copy(p.b, n[0] + n[1] + n[2], f[3], n[3], c, &dlen, &flags, &u, &data), 0);
	ck_assert_uint_eq(flags, TC_OPEN_FIN);
	/* the wrong offset, a flipped bit: errors, the session goes on */
	ck_assert_int_eq(peek_copy(p.b, 0, f[1], n[1], c, &dlen, &flags, &u, &data), -EBADMSG);
	memcpy(c, f[1], n[1]);
	c[n[1] - 1] ^= 1;
	ck_assert_int_eq(tc_session_peek(p.b, NULL, n[0], c, n[1], &data, &dlen, &flags, &u), -EBADMSG);
	ck_assert_int_eq(c[4] | c[5], 0);   /* (zeroed) */
	ck_assert_int_eq(tc_session_ready(p.b), 1);
	/* the opens give the same, from the same offsets */
	for (int i = 0; i < 4; i++) {
		static const size_t want[4] = { 5, 6, 2, 3 };

		ck_assert_int_eq(tc_session_open(p.b, f[i], n[i], &data, &dlen, &flags), 0);
		ck_assert_uint_eq(dlen, want[i]);
	}
	ck_assert_mem_eq(f[1] + 4, "world!", 6);
	/* after FINp nothing follows */
	ck_assert_int_eq(peek_copy(p.b, 0, f[3], n[3], c, &dlen, &flags, &u, &data), -EPROTO);
	free_pair(&p);

	/* a frame under the next key is left for the open */
	p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	n[0] = seal_one(p.a, f[0], 64, "old", 0);
	ck_assert_int_eq(tc_session_rekey(p.a), 0);
	n[1] = seal_one(p.a, f[1], 64, "new", 0);
	ck_assert_int_eq(peek_copy(p.b, n[0], f[1], n[1], c, &dlen, &flags, &u, &data), -EAGAIN);
	ck_assert_int_eq(tc_session_open(p.b, f[0], n[0], &data, &dlen, &flags), 0);
	ck_assert_int_eq(tc_session_open(p.b, f[1], n[1], &data, &dlen, &flags), 0);
	ck_assert_mem_eq(data, "new", 3);
	tc_aead_ctx_free(&x);
	free_pair(&p);
}
END_TEST

START_TEST(test_frame_sizes)
{
	struct pair p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	static uint8_t big[TC_FRAME_MAX_DATA + 1], out[TC_FRAME_MAX + 16];
	uint8_t small[3] = { 0x00, 0x00, 0x10 }, *data;
	size_t outlen, datalen;
	unsigned flags;
	tc_session *b2 = clone_session(p.b);

	ck_assert_int_eq(tc_session_seal(p.a, big, sizeof big, 0, out, sizeof out, &outlen), -EMSGSIZE);
	ck_assert_int_eq(tc_session_seal(p.a, big, 10, 0, out, 10 + TC_FRAME_OVERHEAD - 1, &outlen), -ENOSPC);
	/* misuse is not fatal */
	ck_assert_int_eq(tc_session_seal(p.a, big, TC_FRAME_MAX_DATA, 0, out, sizeof out, &outlen), 0);
	ck_assert_uint_eq(outlen, TC_FRAME_MAX);
	ck_assert_uint_eq(tc_frame_len(out), TC_FRAME_MAX);
	ck_assert_int_eq(tc_session_open(p.b, out, outlen, &data, &datalen, &flags), 0);
	ck_assert_uint_eq(datalen, TC_FRAME_MAX_DATA);
	/* clen 16 < 17: no frame is that short */
	ck_assert_int_eq(feed(b2, small, 3, NULL, &flags), -EMSGSIZE);
	assert_dead(b2, -EMSGSIZE);
	tc_session_wipe(b2);
	free(b2);
	free_pair(&p);
}
END_TEST

/* Data written into the output buffer in place gives the same frame. */
START_TEST(test_seal_in_place)
{
	struct pair p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	tc_session *a2 = clone_session(p.a);
	uint8_t f1[64], f2[64];
	size_t l1, l2;

	ck_assert_int_eq(tc_session_seal(p.a, (const uint8_t *)"in place", 8, 0, f1, sizeof f1, &l1), 0);
	memcpy(f2 + 4, "in place", 8);
	ck_assert_int_eq(tc_session_seal(a2, f2 + 4, 8, 0, f2, sizeof f2, &l2), 0);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(f1, f2, l1);
	tc_session_wipe(a2);
	free(a2);
	free_pair(&p);
}
END_TEST

/* FIN is reported with the last byte of the FINp frame's data, not before. */
START_TEST(test_fin_after_data)
{
	struct pair p = keyed_pair(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	struct buf w = { 0 };
	uint8_t plain[5], hs[TC_HANDSHAKE_MAX];
	size_t plainlen, hslen;
	unsigned flags;

	seal_into(p.a, &w, (const uint8_t *)"0123456789a", 11, TC_SEAL_FIN);
	ck_assert_int_eq(tc_session_recv(p.b, w.p, w.len, plain, 5, &plainlen, &flags, hs, sizeof hs,
	                                 &hslen), (ssize_t)w.len);
	ck_assert_uint_eq(plainlen, 5);
	ck_assert_uint_eq(flags, 0);
	ck_assert_int_eq(tc_session_recv(p.b, NULL, 0, plain, 5, &plainlen, &flags, hs, sizeof hs,
	                                 &hslen), 0);
	ck_assert_uint_eq(plainlen, 5);
	ck_assert_mem_eq(plain, "56789", 5);
	ck_assert_uint_eq(flags, 0);
	ck_assert_int_eq(tc_session_recv(p.b, NULL, 0, plain, 5, &plainlen, &flags, hs, sizeof hs,
	                                 &hslen), 0);
	ck_assert_uint_eq(plainlen, 1);
	ck_assert_uint_eq(plain[0], 'a');
	ck_assert_uint_eq(flags, TC_OPEN_FIN);
	free_pair(&p);
	buf_free(&w);
}
END_TEST

/* As the shim does after fork: the session shared, each process with its
 * own copy of the cipher context. The child's copy still holds the old key
 * when the parent has rekeyed; it must load the new one by itself (the key
 * tag), so the peer reads one valid stream. */
START_TEST(test_ctx_across_fork_rekey)
{
	struct tc_session_params p = {
		.role = TCPCRYPT_ROLE_A, .tep_byte = TCPCRYPT_TEP_ECDHE_CURVE25519,
		.transcript = transcript, .transcript_len = sizeof transcript,
	};
	size_t sz = (tc_session_size() + 8192 + 4095) & ~(size_t)4095;
	uint8_t *shm = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	tc_session *a = (tc_session *)shm, *b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	uint8_t *wire = shm + ((tc_session_size() + 15) & ~(size_t)15);   /* 8192 shared bytes */
	uint8_t m1[TC_HANDSHAKE_MAX], m2[TC_HANDSHAKE_MAX], go = 0;
	tc_aead_ctx tx = { 0 };
	struct iovec v;
	struct buf w = { 0 }, got = { 0 }, none = { 0 };
	size_t l1, l2, used, n0, n1, n2;
	int st, pfd[2];
	pid_t pid;

	ck_assert_ptr_ne(shm, MAP_FAILED);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(tc_session_init(a, &p), 0);
	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, m1, sizeof m1, &l1), 0);
	ck_assert_int_eq(tc_session_handshake(b, m1, l1, &used, m2, sizeof m2, &l2), 1);
	ck_assert_int_eq(tc_session_handshake(a, m2, l2, &used, m1, sizeof m1, &l1), 1);
	v.iov_base = (void *)"p0 "; v.iov_len = 3;
	ck_assert_int_eq(tc_session_sealv(a, &tx, &v, 1, 0, 3, 0, wire, 2048, &n0), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		size_t n;
		int ok;

		close(pfd[1]);
		ok = read(pfd[0], &go, 1) == 1;
		v.iov_base = (void *)"child"; v.iov_len = 5;
		ok = ok && tc_session_sealv(a, &tx, &v, 1, 0, 5, 0, wire + 4096, 2048, &n) == 0 &&
		     n == 5 + TC_FRAME_OVERHEAD;
		tc_aead_ctx_free(&tx);
		tc_session_free(b);
		_exit(ok ? 0 : 1);
	}
	close(pfd[0]);
	ck_assert_int_eq(tc_session_rekey(a), 0);
	v.iov_base = (void *)"p1 "; v.iov_len = 3;
	ck_assert_int_eq(tc_session_sealv(a, &tx, &v, 1, 0, 3, 0, wire + 2048, 2048, &n1), 0);
	ck_assert_uint_eq(wire[2048], 1);    /* the rekey frame */
	ck_assert_int_eq(write(pfd[1], &go, 1), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(pfd[1]);
	n2 = 5 + TC_FRAME_OVERHEAD;
	buf_add(&w, wire, n0);
	buf_add(&w, wire + 2048, n1);
	buf_add(&w, wire + 4096, n2);
	seal_into(a, &w, (const uint8_t *)"!", 1, TC_SEAL_FIN);
	ck_assert_uint_eq(drain_wire(b, &w, &got, &none, 0) & TC_OPEN_FIN, TC_OPEN_FIN);
	ck_assert_uint_eq(got.len, 12);
	ck_assert_mem_eq(got.p, "p0 p1 child!", 12);
	tc_aead_ctx_free(&tx);
	tc_session_wipe(a);
	munmap(shm, sz);
	tc_session_free(b);
	buf_free(&w); buf_free(&got); buf_free(&none);
}
END_TEST

/* The session is flat: placed in MAP_SHARED memory, parent and child of a
 * fork seal in turn on one send offset, and the peer reads one valid
 * stream (no nonce is used twice). */
START_TEST(test_shared_across_fork)
{
	struct tc_session_params p = {
		.role = TCPCRYPT_ROLE_A, .tep_byte = TCPCRYPT_TEP_ECDHE_CURVE25519,
		.transcript = transcript, .transcript_len = sizeof transcript,
	};
	size_t sz = (tc_session_size() + 4096 + 4095) & ~(size_t)4095;
	uint8_t *shm = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	tc_session *a = (tc_session *)shm, *b = new_session(TCPCRYPT_ROLE_B, NULL, 0);
	uint8_t *wire = shm + ((tc_session_size() + 15) & ~(size_t)15);   /* 4096 shared bytes */
	uint8_t m1[TC_HANDSHAKE_MAX], m2[TC_HANDSHAKE_MAX];
	struct buf w = { 0 }, got = { 0 }, none = { 0 };
	size_t l1, l2, used, n1;
	int st;
	pid_t pid;

	ck_assert_ptr_ne(shm, MAP_FAILED);
	ck_assert_int_eq(tc_session_init(a, &p), 0);
	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, m1, sizeof m1, &l1), 0);
	ck_assert_int_eq(tc_session_handshake(b, m1, l1, &used, m2, sizeof m2, &l2), 1);
	ck_assert_int_eq(tc_session_handshake(a, m2, l2, &used, m1, sizeof m1, &l1), 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		size_t n;
		int ok;

		ok = tc_session_seal(a, (const uint8_t *)"child ", 6, 0, wire, 2048, &n) == 0 &&
		     n == 6 + TC_FRAME_OVERHEAD;
		tc_session_free(b);   /* nothing leaks in the child (valgrind checks it too) */
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	n1 = 6 + TC_FRAME_OVERHEAD;
	ck_assert_uint_eq(tc_session_send_offset(a), TC_INIT1_LEN(ndefault()) + n1);
	buf_add(&w, wire, n1);
	seal_into(a, &w, (const uint8_t *)"parent", 6, TC_SEAL_FIN);
	ck_assert_uint_eq(drain_wire(b, &w, &got, &none, 0) & TC_OPEN_FIN, TC_OPEN_FIN);
	ck_assert_uint_eq(got.len, 12);
	ck_assert_mem_eq(got.p, "child parent", 12);
	tc_session_wipe(a);
	munmap(shm, sz);
	tc_session_free(b);
	buf_free(&w); buf_free(&got); buf_free(&none);
}
END_TEST

/*
 * The no-copy paths the shim uses: tc_session_sealv() gathering the data
 * from odd iovec pieces with a kept context, tc_session_open_to()
 * scattering it straight into the reader's pieces; across a rekey (the
 * contexts load the new keys by themselves) and a forged frame, after
 * which the reader's buffer holds zeros, not unauthenticated bytes.
 * Loop index 1 (AES build): AES-128-GCM; else the AEAD by build.
 */
START_TEST(test_no_copy_paths)
{
#ifdef TC_AES_TESTS
	uint16_t id = _i ? TCPCRYPT_AEAD_AES_128_GCM : TCPCRYPT_AEAD_AES_256_GCM;
#else
	uint16_t id = TCPCRYPT_AEAD_CHACHA20_POLY1305;
#endif
	struct pair p = keyed_pair(id);
	static uint8_t data[3000], frame[3000 + TC_FRAME_OVERHEAD], got[3100];
	tc_aead_ctx tx = { 0 }, rx = { 0 };
	struct iovec src[3], dst[2];
	size_t flen, dlen, len;
	uint8_t *d;
	unsigned fl;
	int round;

	rnd_bytes(data, sizeof data);
	for (round = 0; round < 6; round++) {
		len = round == 5 ? 0 : 1000 + 400 * (size_t)round;
		src[0].iov_base = data; src[0].iov_len = 1;
		src[1].iov_base = data + 1; src[1].iov_len = 999;
		src[2].iov_base = data + 1000; src[2].iov_len = sizeof data - 1000;
		if (round == 3)
			ck_assert_int_eq(tc_session_rekey(p.a), 0);
		/* from offset 7 of the pieces */
		ck_assert_int_eq(tc_session_sealv(p.a, &tx, src, 3, 7, len, 0, frame, sizeof frame,
		                                  &flen), 0);
		ck_assert_uint_eq(flen, len + TC_FRAME_OVERHEAD);
		ck_assert_uint_eq(frame[0], round == 3 ? 1 : 0);
		memset(got, 0x55, sizeof got);
		dst[0].iov_base = got; dst[0].iov_len = 10;
		dst[1].iov_base = got + 10; dst[1].iov_len = sizeof got - 10;
		ck_assert_int_eq(tc_session_open_to(p.b, &rx, frame, flen, dst, 2, 3, &d, &dlen, &fl), 0);
		ck_assert_ptr_null(d);
		ck_assert_uint_eq(dlen, len);
		ck_assert_uint_eq(got[0], 0x55);
		ck_assert_uint_eq(got[2], 0x55);
		ck_assert_mem_eq(got + 3, data + 7, len);
		ck_assert_uint_eq(got[3 + len], 0x55);
	}
	/* the same frames through the one-shot calls agree */
	ck_assert_int_eq(tc_session_seal(p.a, data, 100, 0, frame, sizeof frame, &flen), 0);
	ck_assert_int_eq(tc_session_open_to(p.b, &rx, frame, flen, NULL, 0, 0, &d, &dlen, &fl), 0);
	ck_assert_mem_eq(d, data, 100);
	/* a forged frame: -EBADMSG, and nothing of it in the reader's buffer */
	ck_assert_int_eq(tc_session_sealv(p.a, &tx, src, 3, 0, 2000, 0, frame, sizeof frame, &flen), 0);
	frame[flen - 1] ^= 1;
	memset(got, 0x55, sizeof got);
	ck_assert_int_eq(tc_session_open_to(p.b, &rx, frame, flen, dst, 2, 0, &d, &dlen, &fl), -EBADMSG);
	for (size_t i = 0; i < 2000; i++)
		ck_assert_uint_eq(got[i], 0);
	assert_dead(p.b, -EBADMSG);
	tc_aead_ctx_free(&tx);
	tc_aead_ctx_free(&rx);
	free_pair(&p);
}
END_TEST

/* ---------------------------------------------------------------- resumption */

/* A fresh pair with aead (0: defaults) keyed through Init1/Init2, its
 * chains taken: ca on A's side, cb on B's. */
static void fresh_chains(uint16_t aead, struct tc_resume_chain *ca, struct tc_resume_chain *cb)
{
	uint16_t l[1] = { aead };
	tc_session *a = new_session(TCPCRYPT_ROLE_A, aead ? l : NULL, aead ? 1 : 0);
	tc_session *b = new_session(TCPCRYPT_ROLE_B, aead ? l : NULL, aead ? 1 : 0);

	handshake(a, b);
	ck_assert_int_eq(tc_session_take_chain(a, ca), 0);
	ck_assert_int_eq(tc_session_take_chain(b, cb), 0);
	ck_assert_mem_eq(ca->ss, cb->ss, sizeof ca->ss);
	tc_session_free(a);
	tc_session_free(b);
}

/* A resumed session from sec (wiped by it) with the given nonces. */
static tc_session *resumed(struct tc_resume_secret *sec, int role, const uint8_t *na, size_t nal,
                           const uint8_t *nb, size_t nbl)
{
	struct tc_resume_params p = {
		.role = (uint8_t)role, .nonce_a = na, .nonce_a_len = nal,
		.nonce_b = nb, .nonce_b_len = nbl,
	};
	tc_session *s = aligned_alloc(16, (tc_session_size() + 15) & ~(size_t)15);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(tc_session_init_resumed(s, sec, &p), 0);
	return s;
}

/* The resumed pair of the next index of ca (A, active) and cb (B,
 * passive, found by A's half), with the nonces each secret carries. */
static void resumed_pair(struct tc_resume_chain *ca, struct tc_resume_chain *cb,
                         tc_session **a, tc_session **b)
{
	struct tc_resume_secret sa, sb;
	uint8_t na[8], nb[8];

	ck_assert_int_eq(tc_resume_chain_take(ca, &sa), 0);
	ck_assert_int_eq(tc_resume_chain_match(cb, sa.resume, 8, &sb), 1);
	ck_assert_uint_eq(sa.index, sb.index);
	memcpy(na, sa.nonce, 8);
	memcpy(nb, sb.nonce, 8);
	*a = resumed(&sa, TCPCRYPT_ROLE_A, na, 8, nb, 8);
	*b = resumed(&sb, TCPCRYPT_ROLE_B, na, 8, nb, 8);
}

/* A resumed pair exchanges data both ways from stream offset 0, no Init
 * message, under random chunking, until FINp both ways; equal session
 * IDs that start with 0xa3, and a new ID for each index. */
static void resume_conversation(uint16_t aead, uint64_t seed)
{
	struct tc_resume_chain ca, cb;
	struct buf ab = { 0 }, ba = { 0 }, got_b = { 0 }, got_a = { 0 }, none = { 0 }, sent_a = { 0 },
		sent_b = { 0 };
	uint8_t ida[33], idb[33], prev[33], data[3000];
	tc_session *a, *b;
	unsigned fa = 0, fb = 0;
	int conn, i;
	size_t n;

	rng_state = seed;
	fresh_chains(aead, &ca, &cb);
	for (conn = 0; conn < 3; conn++) {
		resumed_pair(&ca, &cb, &a, &b);
		ck_assert_int_eq(tc_session_ready(a), 1);
		ck_assert_int_eq(tc_session_resumed(b), 1);
		ck_assert_int_eq(tc_session_sessid(a, ida, sizeof ida), 33);
		ck_assert_int_eq(tc_session_sessid(b, idb, sizeof idb), 33);
		ck_assert_mem_eq(ida, idb, 33);
		ck_assert_uint_eq(ida[0], 0xa3);
		if (conn > 0)
			ck_assert_mem_ne(ida, prev, 33);
		memcpy(prev, ida, 33);
		if (aead != 0)
			ck_assert_uint_eq(tc_session_aead(b), aead);
		ck_assert_uint_eq(tc_session_send_offset(a), 0);
		ck_assert_uint_eq(tc_session_send_offset(b), 0);
		for (i = 0; i < 20; i++) {
			n = rnd(sizeof data);
			rnd_bytes(data, n);
			if (rnd(2)) {
				seal_into(a, &ab, data, n, 0);
				buf_add(&sent_a, data, n);
			} else {
				seal_into(b, &ba, data, n, 0);
				buf_add(&sent_b, data, n);
			}
		}
		seal_into(a, &ab, NULL, 0, TC_SEAL_FIN);
		seal_into(b, &ba, NULL, 0, TC_SEAL_FIN);
		/* the first frame of each direction is at offset 0 */
		ck_assert_uint_eq(tc_session_send_offset(a), ab.len);
		ck_assert_uint_eq(tc_session_send_offset(b), ba.len);
		fb = drain_wire(b, &ab, &got_b, &none, conn == 1);
		fa = drain_wire(a, &ba, &got_a, &none, 0);
		ck_assert_uint_eq(fb & TC_OPEN_FIN, TC_OPEN_FIN);
		ck_assert_uint_eq(fa & TC_OPEN_FIN, TC_OPEN_FIN);
		ck_assert_uint_eq(none.len, 0);
		ck_assert_uint_eq(got_b.len, sent_a.len);
		ck_assert_uint_eq(got_a.len, sent_b.len);
		if (sent_a.len)
			ck_assert_mem_eq(got_b.p, sent_a.p, sent_a.len);
		if (sent_b.len)
			ck_assert_mem_eq(got_a.p, sent_b.p, sent_b.len);
		tc_session_free(a);
		tc_session_free(b);
		buf_free(&ab); buf_free(&ba); buf_free(&got_a); buf_free(&got_b);
		buf_free(&sent_a); buf_free(&sent_b);
	}
	tc_resume_chain_wipe(&ca);
	tc_resume_chain_wipe(&cb);
}

START_TEST(test_resume_e2e)
{
	static const uint16_t ids[3] = { 0, TCPCRYPT_AEAD_CHACHA20_POLY1305, 0 };

	resume_conversation(ids[_i], 0x5eed0001ull + (uint64_t)_i);
}
END_TEST

START_TEST(test_resume_e2e_aes)
{
	resume_conversation(_i ? TCPCRYPT_AEAD_AES_256_GCM : TCPCRYPT_AEAD_AES_128_GCM,
	                    0x5eed0100ull + (uint64_t)_i);
}
END_TEST

/* The same ss[i] with other nonces gives another session ID and other
 * keys (a frame of one does not open in the other); so does swapping
 * nonce_a and nonce_b. */
START_TEST(test_resume_nonces)
{
	static const uint8_t n1[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, n2[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	struct tc_resume_chain ca, cb;
	struct tc_resume_secret sa, s1, s2, s3;
	uint8_t id1[33], id2[33], id3[33], fr[64], copy[64], *data;
	size_t flen, dlen;
	unsigned flags;
	tc_session *x, *y, *z;

	fresh_chains(TCPCRYPT_AEAD_CHACHA20_POLY1305, &ca, &cb);
	ck_assert_int_eq(tc_resume_chain_take(&ca, &sa), 0);
	/* copies of the same secret (a test only: the API hands it out once) */
	s1 = s2 = s3 = sa;
	x = resumed(&s1, TCPCRYPT_ROLE_A, n1, 8, n2, 8);
	y = resumed(&s2, TCPCRYPT_ROLE_A, n1, 8, n1, 8);
	z = resumed(&s3, TCPCRYPT_ROLE_A, n2, 8, n1, 8);
	ck_assert_int_eq(tc_session_sessid(x, id1, sizeof id1), 33);
	ck_assert_int_eq(tc_session_sessid(y, id2, sizeof id2), 33);
	ck_assert_int_eq(tc_session_sessid(z, id3, sizeof id3), 33);
	ck_assert_uint_eq(id1[0], 0xa3);
	ck_assert_mem_ne(id1 + 1, id2 + 1, 32);
	ck_assert_mem_ne(id1 + 1, id3 + 1, 32);
	ck_assert_mem_ne(id2 + 1, id3 + 1, 32);
	tc_session_free(y);
	tc_session_free(z);
	/* B with other nonces: x's first frame fails authentication */
	s1 = sa;
	s1.orig_role = TCPCRYPT_ROLE_B;
	y = resumed(&s1, TCPCRYPT_ROLE_B, n1, 8, n1, 8);
	ck_assert_int_eq(tc_session_seal(x, (const uint8_t *)"hi", 2, 0, fr, sizeof fr, &flen), 0);
	memcpy(copy, fr, flen);              /* (a failed open zeroes the frame's data) */
	ck_assert_int_eq(tc_session_open(y, copy, flen, &data, &dlen, &flags), -EBADMSG);
	tc_session_free(y);
	/* with the nonces swapped too */
	s1 = sa;
	s1.orig_role = TCPCRYPT_ROLE_B;
	y = resumed(&s1, TCPCRYPT_ROLE_B, n2, 8, n1, 8);
	memcpy(copy, fr, flen);
	ck_assert_int_eq(tc_session_open(y, copy, flen, &data, &dlen, &flags), -EBADMSG);
	tc_session_free(y);
	/* and with the same nonces it opens */
	s1 = sa;
	s1.orig_role = TCPCRYPT_ROLE_B;
	y = resumed(&s1, TCPCRYPT_ROLE_B, n1, 8, n2, 8);
	ck_assert_int_eq(tc_session_open(y, fr, flen, &data, &dlen, &flags), 0);
	ck_assert_uint_eq(dlen, 2);
	ck_assert_mem_eq(data, "hi", 2);
	tc_session_free(x);
	tc_session_free(y);
	tc_resume_secret_wipe(&sa);
	tc_resume_chain_wipe(&ca);
	tc_resume_chain_wipe(&cb);
}
END_TEST

/* Parses a whole option built from its content bytes (syn points into a
 * static copy, valid until the next call). */
static void parse_content(const uint8_t *c, size_t n, struct tc_eno_syn *syn)
{
	static uint8_t opt[40];

	ck_assert_uint_le(n + 2, sizeof opt);
	opt[0] = 69;
	opt[1] = (uint8_t)(n + 2);
	memcpy(opt + 2, c, n);
	ck_assert_int_eq(tc_eno_parse_syn(opt, n + 2, syn), 0);
}

/* A reads B's answer: a half that does not match (any bit flipped, or
 * A's own half echoed back) is ignored: IGNORED when it was B's only
 * suboption for the TEP (A then runs plain TCP), FRESH when B also
 * offered fresh exchange; B's matching half resumes. The passive chain
 * does not match a wrong half and stays where it was. */
START_TEST(test_resume_half_mismatch)
{
	struct tc_resume_chain ca, cb, before;
	struct tc_resume_secret sa, sb;
	struct tc_resume_offer peer;
	struct tc_eno_syn syn;
	uint8_t c[40], half[9];
	int n, i, bit;

	fresh_chains(0, &ca, &cb);
	ck_assert_int_eq(tc_resume_chain_take(&ca, &sa), 0);
	/* B's answer with B's half: resumed */
	c[0] = 0x01;
	n = tc_resume_subopt_build(0x23, TCPCRYPT_ROLE_B, sa.resume, (const uint8_t *)"12345678", 8, 0,
	                           c + 1, sizeof c - 1);
	ck_assert_int_eq(n, 18);
	parse_content(c, (size_t)n + 1, &syn);
	ck_assert_int_eq(tc_resume_check_answer(&syn, 0x23, TCPCRYPT_ROLE_A, sa.resume, &peer),
	                 TC_RESUME_ANSWER_RESUMED);
	ck_assert_uint_eq(peer.nonce_len, 8);
	ck_assert_mem_eq(peer.nonce, "12345678", 8);
	/* every single-bit change of B's half: ignored */
	for (i = 0; i < 9; i++) {
		for (bit = 0; bit < 8; bit++) {
			c[2 + i] ^= (uint8_t)(1 << bit);
			parse_content(c, (size_t)n + 1, &syn);
			ck_assert_int_eq(tc_resume_check_answer(&syn, 0x23, TCPCRYPT_ROLE_A, sa.resume,
			                                        &peer), TC_RESUME_ANSWER_IGNORED);
			memcpy(half, c + 2, 9);
			ck_assert_int_eq(tc_resume_half_matches(sa.resume, TCPCRYPT_ROLE_A, half), 0);
			c[2 + i] ^= (uint8_t)(1 << bit);
		}
	}
	memcpy(half, c + 2, 9);
	ck_assert_int_eq(tc_resume_half_matches(sa.resume, TCPCRYPT_ROLE_A, half), 1);
	/* A's own half reflected (a middlebox echoing the SYN): ignored */
	n = tc_resume_subopt_build(0x23, TCPCRYPT_ROLE_A, sa.resume, NULL, 0, 0, c + 1, sizeof c - 1);
	parse_content(c, (size_t)n + 1, &syn);
	ck_assert_int_eq(tc_resume_check_answer(&syn, 0x23, TCPCRYPT_ROLE_A, sa.resume, &peer),
	                 TC_RESUME_ANSWER_IGNORED);
	/* a fresh 0x23 before the ignored suboption: the last valid one is fresh */
	c[1] = 0x23;
	n = tc_resume_subopt_build(0x23, TCPCRYPT_ROLE_A, sa.resume, NULL, 0, 0, c + 2, sizeof c - 2);
	parse_content(c, (size_t)n + 2, &syn);
	ck_assert_int_eq(tc_resume_check_answer(&syn, 0x23, TCPCRYPT_ROLE_A, sa.resume, &peer),
	                 TC_RESUME_ANSWER_FRESH);
	/* B answered another TEP only */
	c[1] = 0x21;
	parse_content(c, 2, &syn);
	ck_assert_int_eq(tc_resume_check_answer(&syn, 0x23, TCPCRYPT_ROLE_A, sa.resume, &peer),
	                 -ENOENT);
	/* the passive chain: a wrong half finds nothing and changes nothing */
	memcpy(half, sa.resume, 9);
	half[8] ^= 0x80;
	before = cb;
	ck_assert_int_eq(tc_resume_chain_match(&cb, half, 64, &sb), 0);
	ck_assert_mem_eq(&cb, &before, sizeof cb);
	/* B's own half (not what a peer that was A sends): no match either */
	ck_assert_int_eq(tc_resume_chain_match(&cb, sa.resume + 9, 64, &sb), 0);
	ck_assert_int_eq(tc_resume_chain_match(&cb, sa.resume, 1, &sb), 1);
	tc_resume_secret_wipe(&sa);
	tc_resume_secret_wipe(&sb);
	tc_resume_chain_wipe(&ca);
	tc_resume_chain_wipe(&cb);
}
END_TEST

/* A v=1 suboption with fewer than 9 data bytes is a fresh offer (last in
 * the option, or after a length byte); 9 to 17 bytes a resumption offer
 * with a 0-8 byte nonce; more is no valid suboption. B's short v=1 answer
 * means fresh exchange for A, and ENO negotiates it. */
START_TEST(test_resume_short_is_fresh)
{
	static const struct tc_eno_policy pol = { .teps = { 0x23 }, .nteps = 1 };
	struct tc_eno_outcome out;
	struct tc_resume_offer o;
	struct tc_eno_syn syn;
	uint8_t c[40], res[18] = { 0 }, opt_a[3] = { 69, 3, 0x23 }, opt_b[13] = { 69, 12 };
	size_t d;
	int r;

	for (d = 0; d <= 20; d++) {
		/* last suboption: data to the end of the option */
		c[0] = 0xa3;
		memset(c + 1, 0x5a, d);
		parse_content(c, d + 1, &syn);
		ck_assert_uint_eq(syn.ntep, 1);
		r = tc_resume_subopt_parse(&syn.tep[0], &o);
		ck_assert_uint_eq(o.tep, 0x23);
		if (d < 9)
			ck_assert_int_eq(r, 0);
		else if (d <= 17)
			ck_assert_int_eq(r, 1);
		else
			ck_assert_int_eq(r, -EMSGSIZE);
		if (r == 1)
			ck_assert_uint_eq(o.nonce_len, d - 9);
		/* the same behind a length byte, followed by another TEP */
		if (d >= 1 && d <= 17) {
			c[0] = (uint8_t)(0x80 | (d - 1));
			c[1] = 0xa3;
			memset(c + 2, 0x5a, d);
			c[2 + d] = 0x21;
			parse_content(c, d + 3, &syn);
			ck_assert_uint_eq(syn.ntep, 2);
			ck_assert_int_eq(tc_resume_subopt_parse(&syn.tep[0], &o), d < 9 ? 0 : 1);
		}
	}
	/* B answers 01 a3 + 8 bytes: fresh for A, and ENO negotiates 0xa3 */
	c[0] = 0x01;
	c[1] = 0xa3;
	memset(c + 2, 0x77, 9);
	parse_content(c, 10, &syn);
	ck_assert_int_eq(tc_resume_check_answer(&syn, 0x23, TCPCRYPT_ROLE_A, res, &o),
	                 TC_RESUME_ANSWER_FRESH);
	memcpy(opt_b + 2, c, 11);
	ck_assert_int_eq(tc_eno_negotiate(&pol, opt_a, sizeof opt_a, opt_b, 12, &out), 0);
	ck_assert_uint_eq(out.negotiated, 1);
	ck_assert_uint_eq(out.tep_byte, 0xa3);
	/* 9 bytes: a resumption answer, which does not match: not fresh */
	parse_content(c, 11, &syn);
	ck_assert_int_eq(tc_resume_check_answer(&syn, 0x23, TCPCRYPT_ROLE_A, res, &o),
	                 TC_RESUME_ANSWER_IGNORED);
	opt_b[1] = 13;
	ck_assert_int_eq(tc_eno_negotiate(&pol, opt_a, sizeof opt_a, opt_b, 13, &out), 0);
	ck_assert_uint_eq(out.negotiated, 0);
	/* v=0: fresh */
	c[0] = 0x23;
	parse_content(c, 1, &syn);
	ck_assert_int_eq(tc_resume_subopt_parse(&syn.tep[0], &o), 0);
}
END_TEST

/* The suboption codec: the length byte, the half by original role,
 * nonces of 0-8 bytes, room and argument checks. */
START_TEST(test_resume_subopt_build)
{
	uint8_t res[18], out[32], nonce[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct tc_eno_syn syn;
	struct tc_resume_offer o;
	size_t nl;
	int n;

	for (n = 0; n < 18; n++)
		res[n] = (uint8_t)(0x10 + n);
	for (nl = 0; nl <= 8; nl++) {
		n = tc_resume_subopt_build(0x23, TCPCRYPT_ROLE_B, res, nonce, nl, 1, out, sizeof out);
		ck_assert_int_eq(n, (int)(11 + nl));
		ck_assert_uint_eq(out[0], 0x80 | (9 + nl - 1));
		ck_assert_uint_eq(out[1], 0xa3);
		ck_assert_mem_eq(out + 2, res + 9, 9);
		if (nl > 0)
			ck_assert_mem_eq(out + 11, nonce, nl);
		out[n] = 0x22;                 /* another TEP after it */
		parse_content(out, (size_t)n + 1, &syn);
		ck_assert_uint_eq(syn.ntep, 2);
		ck_assert_int_eq(tc_resume_subopt_parse(&syn.tep[0], &o), 1);
		ck_assert_mem_eq(o.half, res + 9, 9);
		ck_assert_uint_eq(o.nonce_len, nl);
		if (nl > 0)
			ck_assert_mem_eq(o.nonce, nonce, nl);
	}
	n = tc_resume_subopt_build(0x23, TCPCRYPT_ROLE_A, res, nonce, 8, 0, out, sizeof out);
	ck_assert_int_eq(n, 18);
	ck_assert_mem_eq(out + 1, res, 9);
	ck_assert_int_eq(tc_resume_subopt_build(0x23, TCPCRYPT_ROLE_A, res, nonce, 8, 0, out, 17),
	                 -ENOSPC);
	ck_assert_int_eq(tc_resume_subopt_build(0x23, TCPCRYPT_ROLE_A, res, nonce, 8, 1, out, 18),
	                 -ENOSPC);
	ck_assert_int_eq(tc_resume_subopt_build(0x23, TCPCRYPT_ROLE_A, res, nonce, 9, 0, out, sizeof out),
	                 -EINVAL);
	ck_assert_int_eq(tc_resume_subopt_build(0x23, 2, res, nonce, 8, 0, out, sizeof out), -EINVAL);
	ck_assert_int_eq(tc_resume_subopt_build(0xa3, TCPCRYPT_ROLE_A, res, nonce, 8, 0, out, sizeof out),
	                 -EINVAL);
	ck_assert_int_eq(tc_resume_half_matches(res, 2, res), -EINVAL);
}
END_TEST

/* Each ss[i] is handed out once: take gives i = 1, 2, 3... with distinct
 * secrets equal to the chain stepped by hand; a passive match skips to
 * the index the half names and never gives an index twice; a chain
 * serves one use only; a consumed secret cannot key a second session. */
START_TEST(test_resume_chain_once)
{
	struct tc_resume_chain ca, cb, cc;
	struct tc_resume_secret sec[10], sb, tmp;
	static const uint8_t zero[32];
	uint8_t ss[32], res[18];
	struct tc_resume_params p = { .role = TCPCRYPT_ROLE_A };
	tc_session *s = aligned_alloc(16, (tc_session_size() + 15) & ~(size_t)15);
	int i, j;

	ck_assert_ptr_nonnull(s);
	fresh_chains(0, &ca, &cb);
	memcpy(ss, ca.ss, 32);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(tc_resume_chain_take(&ca, &sec[i]), 0);
		ck_assert_uint_eq(sec[i].index, (uint64_t)i + 1);
		ck_assert_mem_eq(sec[i].ss, ss, 32);            /* ss[i+1] = Expand(ss[i], NEXTK) */
		ck_assert_mem_ne(ca.ss, ss, 32);                /* the chain moved past it */
		tc_ks_resume(res, ss);
		ck_assert_mem_eq(sec[i].resume, res, 18);
		tc_ks_next_ss(ss);
		for (j = 0; j < i; j++) {
			ck_assert_mem_ne(sec[i].ss, sec[j].ss, 32);
			ck_assert_mem_ne(sec[i].nonce, sec[j].nonce, 8);
		}
	}
	ck_assert_uint_eq(ca.next, 11);
	ck_assert_uint_eq(ca.use, TC_RESUME_USE_ACTIVE);
	/* passive: the peer's 4th try (index 4) reached us first; 1-3 are gone */
	ck_assert_int_eq(tc_resume_chain_match(&cb, sec[3].resume, 8, &sb), 1);
	ck_assert_uint_eq(sb.index, 4);
	ck_assert_mem_eq(sb.ss, sec[3].ss, 32);
	ck_assert_uint_eq(cb.next, 5);
	ck_assert_int_eq(tc_resume_chain_match(&cb, sec[3].resume, 8, &tmp), 0);   /* never twice */
	ck_assert_int_eq(tc_resume_chain_match(&cb, sec[1].resume, 8, &tmp), 0);   /* skipped: gone */
	ck_assert_int_eq(tc_resume_chain_match(&cb, sec[9].resume, 5, &tmp), 0);   /* index 10: not in 5..9 */
	ck_assert_uint_eq(cb.next, 5);
	ck_assert_int_eq(tc_resume_chain_match(&cb, sec[9].resume, 6, &tmp), 1);   /* 5..10 */
	ck_assert_uint_eq(tmp.index, 10);
	ck_assert_mem_eq(tmp.ss, sec[9].ss, 32);
	ck_assert_int_eq(tc_resume_chain_match(&cb, sec[9].resume, 64, &tmp), 0);
	/* one use per chain */
	ck_assert_int_eq(tc_resume_chain_take(&cb, &tmp), -EPERM);
	ck_assert_int_eq(tc_resume_chain_match(&ca, sec[0].resume, 8, &tmp), -EPERM);
	ck_assert_int_eq(tc_resume_chain_match(&cb, sec[0].resume, 0, &tmp), -EINVAL);
	ck_assert_int_eq(tc_resume_chain_match(&cb, sec[0].resume, 65, &tmp), -EINVAL);
	/* a secret keys one session: it is wiped, and a wiped one is refused */
	ck_assert_int_eq(tc_session_init_resumed(s, &sec[0], &p), 0);
	ck_assert_mem_eq(sec[0].ss, zero, 32);
	ck_assert_int_eq(tc_session_init_resumed(s, &sec[0], &p), -EINVAL);
	tc_session_wipe(s);
	/* the end of the index space, and chains that cannot be */
	ck_assert_int_eq(tc_resume_chain_init(&cc, ss, UINT64_MAX, TCPCRYPT_ROLE_A, 0x23,
	                                      TCPCRYPT_AEAD_CHACHA20_POLY1305), 0);
	ck_assert_int_eq(tc_resume_chain_take(&cc, &tmp), -EOVERFLOW);
	ck_assert_int_eq(tc_resume_chain_init(&cc, ss, 0, TCPCRYPT_ROLE_A, 0x23,
	                                      TCPCRYPT_AEAD_CHACHA20_POLY1305), -EINVAL);
	ck_assert_int_eq(tc_resume_chain_init(&cc, ss, 1, TCPCRYPT_ROLE_A, 0x24,
	                                      TCPCRYPT_AEAD_CHACHA20_POLY1305), -ENOTSUP);
	ck_assert_int_eq(tc_resume_chain_init(&cc, ss, 1, TCPCRYPT_ROLE_A, 0x23, 0x0099), -ENOTSUP);
	ck_assert_int_eq(tc_resume_chain_init(&cc, ss, 1, TCPCRYPT_ROLE_A, 0x23,
	                                      TCPCRYPT_AEAD_CHACHA20_POLY1305), 0);
	tc_resume_chain_wipe(&cc);
	ck_assert_mem_eq(cc.ss, zero, 32);
	ck_assert_uint_eq(cc.next, 0);
	ck_assert_int_eq(tc_resume_chain_take(&cc, &tmp), -EINVAL);
	for (i = 0; i < 10; i++)
		tc_resume_secret_wipe(&sec[i]);
	tc_resume_secret_wipe(&sb);
	tc_resume_secret_wipe(&tmp);
	tc_resume_chain_wipe(&ca);
	tc_resume_chain_wipe(&cb);
	free(s);
}
END_TEST

/* tc_session_init_resumed's argument checks; each failure wipes the secret. */
START_TEST(test_resume_params)
{
	static const uint16_t other[1] = { 0x0099 };
	static const uint8_t n9[9] = { 0 };
	static const uint8_t zero[sizeof(struct tc_resume_secret)];
	struct tc_resume_chain ca, cb;
	struct tc_resume_secret sa, t;
	struct tc_resume_params p = { .role = TCPCRYPT_ROLE_A };
	tc_session *s = aligned_alloc(16, (tc_session_size() + 15) & ~(size_t)15);
	tc_session *fresh = new_session(TCPCRYPT_ROLE_A, NULL, 0);

	ck_assert_ptr_nonnull(s);
	fresh_chains(0, &ca, &cb);
	ck_assert_int_eq(tc_resume_chain_take(&ca, &sa), 0);
#define TRY(change, want) do { \
		struct tc_resume_params q = p; \
		t = sa; \
		change; \
		ck_assert_int_eq(tc_session_init_resumed(s, &t, &q), want); \
		ck_assert_mem_eq(&t, zero, sizeof t); \
	} while (0)
	TRY(q.nonce_a = n9; q.nonce_a_len = 9, -EINVAL);
	TRY(q.nonce_b_len = 1, -EINVAL);                      /* NULL nonce */
	TRY(q.role = 2, -EINVAL);
	TRY(t.orig_role = 7, -EINVAL);
	TRY(t.index = 0, -EINVAL);                            /* ss[0] keyed the original */
	TRY(t.tep = 0x24, -ENOTSUP);
	TRY(t.aead = 0x0099, -ENOTSUP);
	TRY(q.aeads = other; q.naeads = 1, -ENOTSUP);         /* not acceptable here any more */
	TRY(q.aeads = other; q.naeads = TC_MAX_AEADS + 1, -EINVAL);
	TRY((void)0, 0);
#undef TRY
	ck_assert_int_eq(tc_session_resumed(s), 1);
	ck_assert_int_eq(tc_session_take_chain(s, &cb), -ENOENT);   /* a resumed session has none */
	ck_assert_int_eq(tc_session_resumed(fresh), 0);
	ck_assert_int_eq(tc_session_take_chain(fresh, &cb), -EINVAL);   /* not keyed */
	ck_assert_int_eq(tc_session_init_resumed(NULL, &t, &p), -EINVAL);
	tc_session_wipe(s);
	free(s);
	tc_session_free(fresh);
	tc_resume_secret_wipe(&sa);
	tc_resume_chain_wipe(&ca);
	tc_resume_chain_wipe(&cb);
}
END_TEST

/*
 * Built twice (crypto.mk): check_session, on every host, and
 * check_session_aes (TC_AES_TESTS), the AES-GCM sessions, which exit 77
 * (SKIP) where the CPU lacks AES-NI or PCLMULQDQ.
 */
static Suite *session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *e2e = tcase_create("e2e"), *init = tcase_create("init"), *fr = tcase_create("frames");
	TCase *res = tcase_create("resume");

	tcase_set_timeout(e2e, 120);
	tcase_set_timeout(fr, 120);
	tcase_set_timeout(res, 120);
#ifdef TC_AES_TESTS
	tcase_add_loop_test(e2e, test_e2e_aes, 0, 6);
	tcase_add_loop_test(e2e, test_e2e_bytewise_aes, 0, 2);
	tcase_add_loop_test(e2e, test_no_copy_paths, 0, 2);
	tcase_add_test(init, test_init1_preference);
	tcase_add_loop_test(fr, test_flip_bits_aes, 0, 2);
	tcase_add_loop_test(res, test_resume_e2e_aes, 0, 2);
#else
	tcase_add_loop_test(e2e, test_e2e_chacha, 0, 3);
	tcase_add_test(e2e, test_e2e_default);
	tcase_add_test(e2e, test_e2e_bytewise);
	tcase_add_test(e2e, test_b_sends_first);
	tcase_add_test(e2e, test_keypair_ahead);
	tcase_add_test(e2e, test_rekey_rules);
	tcase_add_test(e2e, test_shared_across_fork);
	tcase_add_test(e2e, test_ctx_across_fork_rekey);
	tcase_add_test(e2e, test_no_copy_paths);

	tcase_add_test(init, test_init1_trailing);
	tcase_add_test(init, test_init1_max_len);
	tcase_add_test(init, test_init1_unknown_aeads);
	tcase_add_test(init, test_init1_errors);
	tcase_add_test(init, test_init2_errors);
	tcase_add_test(init, test_params);

	tcase_add_test(fr, test_flip_bits_chacha);
	tcase_add_test(fr, test_reorder_replay_drop);
	tcase_add_test(fr, test_truncate);
	tcase_add_test(fr, test_fin_after_data);
	tcase_add_test(fr, test_after_fin);
	tcase_add_test(fr, test_good_then_bad);
	tcase_add_test(fr, test_frame_sizes);
	tcase_add_test(fr, test_peek_ahead);
	tcase_add_test(fr, test_seal_in_place);

	tcase_add_loop_test(res, test_resume_e2e, 0, 3);
	tcase_add_test(res, test_resume_nonces);
	tcase_add_test(res, test_resume_half_mismatch);
	tcase_add_test(res, test_resume_short_is_fresh);
	tcase_add_test(res, test_resume_subopt_build);
	tcase_add_test(res, test_resume_chain_once);
	tcase_add_test(res, test_resume_params);
#endif
	suite_add_tcase(s, e2e);
	suite_add_tcase(s, res);
	suite_add_tcase(s, init);
	suite_add_tcase(s, fr);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 99;
#ifdef TC_AES_TESTS
	if (!tc_aead_cpu_has_aes()) {
		printf("SKIP: the CPU has no AES-NI/PCLMULQDQ: AES-GCM is never offered here\n");
		return 77;
	}
#endif
	sr = srunner_create(session_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
