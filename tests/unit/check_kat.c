/*
 * check_kat.c - known-answer tests of the tcpcrypt key schedule, the Init
 * messages and the frames, from fixed inputs.
 *
 * The expected bytes in kat/kat_vectors.h were NOT produced by libtcpcrypt:
 * they are the output of `python3 tests/unit/kat/gen_kat.py`, an independent
 * pure-stdlib Python implementation (hmac/hashlib HKDF, its own X25519,
 * ChaCha20-Poly1305, AES and GCM, each checked against the RFC / NIST
 * vectors inside the script). Fixed inputs (the same here and in the
 * script): the X25519 secret keys of RFC 7748 6.1 (Alice = A, Bob = B),
 * N_A = 0x40..0x5f, N_B = 0x60..0x7f, ENO transcript 45 03 23 45 04 01 23,
 * A offers [0x0010], B prefers [0x0002, 0x0010] (so B picks
 * ChaCha20-Poly1305); then the same conversation with A offering only
 * AES-128-GCM and only AES-256-GCM (check_kat_aes: SKIP without AES-NI).
 * `make check` regenerates the header and compares it byte for byte
 * (unit/kat/check_header.sh). To regenerate:
 * python3 tests/unit/kat/gen_kat.py > tests/unit/kat/kat_vectors.h
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
#include "aead.h"
#include "frame.h"
#include "keysched.h"
#include "session.h"
#include "session_internal.h"
/* One conversation's known answers (the header's kat_set_*). */
struct kat_blob {
	const uint8_t *p;
	size_t len;
};
#define KAT_F(a) { a, sizeof a }
struct kat_set {
	uint16_t aead;
	struct kat_blob init1, init2, ss0, mk0, sessid, resume, k_ab0, k_ba0, mk1, k_ab1, k_ba1;
	struct kat_blob fa1, fb1, fa2, fb2, fa3, fb3;
};

/* This file is built twice, with and without TC_AES_TESTS, each build
 * registering its own part of the tests: the other part is unused. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#include "kat/kat_vectors.h"

static const uint8_t sk_a[32] = {
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
	0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
};
static const uint8_t sk_b[32] = {
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
	0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb,
};
static const uint8_t transcript[7] = { 0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0x23 };
static const uint16_t offer_a[1] = { TCPCRYPT_AEAD_CHACHA20_POLY1305 };
static const uint16_t pref_b[2] = { TCPCRYPT_AEAD_AES_256_GCM, TCPCRYPT_AEAD_CHACHA20_POLY1305 };
static const uint16_t pref_all[3] = { TCPCRYPT_AEAD_AES_256_GCM, TCPCRYPT_AEAD_CHACHA20_POLY1305,
                                      TCPCRYPT_AEAD_AES_128_GCM };

static uint8_t n_a[32], n_b[32];

struct keylog_rec {
	int count;
	char lines[2][256];
};

static void keylog_cb(void *arg, const char *line)
{
	struct keylog_rec *r = arg;

	ck_assert_int_lt(r->count, 2);
	ck_assert_uint_lt(strlen(line), sizeof r->lines[0]);
	strcpy(r->lines[r->count++], line);
}

/* A offering only aead (0: offer_a), B preferring pref_all (0: pref_b). */
static tc_session *mk_session_aead(int role, struct keylog_rec *log, const uint16_t *aead)
{
	struct tc_session_params p = {
		.role = (uint8_t)role,
		.tep_byte = TCPCRYPT_TEP_ECDHE_CURVE25519,
		.transcript = transcript,
		.transcript_len = sizeof transcript,
		.aeads = role == TCPCRYPT_ROLE_A ? (aead ? aead : offer_a) : (aead ? pref_all : pref_b),
		.naeads = role == TCPCRYPT_ROLE_A ? 1 : aead ? 3 : 2,
	};
	tc_session *s = aligned_alloc(16, (tc_session_size() + 15) & ~(size_t)15);

	(void)log;                  /* (the key log is given per call: tc_session_handshake_log) */
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(tc_session_init_fixed(s, &p, role == TCPCRYPT_ROLE_A ? sk_a : sk_b,
	                                       role == TCPCRYPT_ROLE_A ? n_a : n_b), 0);
	return s;
}

static tc_session *mk_session(int role, struct keylog_rec *log)
{
	return mk_session_aead(role, log, NULL);
}

static void setup(void)
{
	int i;

	for (i = 0; i < 32; i++) {
		n_a[i] = (uint8_t)(0x40 + i);
		n_b[i] = (uint8_t)(0x60 + i);
	}
}

START_TEST(test_keysched_kat)
{
	uint8_t es[32], ss0[32], mk[32], k[44];
	struct tc_ks_session ks;

	/* ES from the two public keys inside the Init messages (at offset 43/42) */
	ck_assert_int_eq(tc_ks_ecdh(es, sk_a, kat_init2 + 42), 0);
	ck_assert_mem_eq(es, kat_es, 32);
	ck_assert_int_eq(tc_ks_ecdh(es, sk_b, kat_init1 + 43), 0);
	ck_assert_mem_eq(es, kat_es, 32);
	tc_ks_ss0(ss0, n_a, transcript, sizeof transcript, kat_init1, sizeof kat_init1,
	          kat_init2, sizeof kat_init2, es);
	ck_assert_mem_eq(ss0, kat_ss0, 32);
	tc_ks_from_ss0(&ks, 0x23, ss0);
	ck_assert_mem_eq(ks.mk0, kat_mk0, 32);
	ck_assert_mem_eq(ks.sessid, kat_sessid, 33);
	ck_assert_mem_eq(ks.resume, kat_resume, 18);
	tc_ks_traffic(k, 44, ks.mk0, TC_CONST_KEY_A);
	ck_assert_mem_eq(k, kat_k_ab0, 44);
	tc_ks_traffic(k, 44, ks.mk0, TC_CONST_KEY_B);
	ck_assert_mem_eq(k, kat_k_ba0, 44);
	memcpy(mk, ks.mk0, 32);
	tc_ks_next_mk(mk);
	ck_assert_mem_eq(mk, kat_mk1, 32);
	tc_ks_traffic(k, 44, mk, TC_CONST_KEY_A);
	ck_assert_mem_eq(k, kat_k_ab1, 44);
	tc_ks_traffic(k, 44, mk, TC_CONST_KEY_B);
	ck_assert_mem_eq(k, kat_k_ba1, 44);
}
END_TEST

/* Opens one frame with s and checks its data and FIN flag. */
static void open_expect(tc_session *s, const uint8_t *frame, size_t len, const char *want,
                        unsigned want_flags)
{
	uint8_t buf[256], *data;
	size_t datalen;
	unsigned flags;

	memcpy(buf, frame, len);
	ck_assert_uint_eq(tc_frame_len(buf), len);
	ck_assert_int_eq(tc_session_open(s, buf, len, &data, &datalen, &flags), 0);
	ck_assert_uint_eq(datalen, strlen(want));
	ck_assert_mem_eq(data, want, datalen);
	ck_assert_uint_eq(flags, want_flags);
}

static void seal_expect(tc_session *s, const char *data, unsigned flags, const uint8_t *want,
                        size_t wantlen)
{
	uint8_t out[256];
	size_t outlen;

	ck_assert_int_eq(tc_session_seal(s, (const uint8_t *)data, strlen(data), flags, out,
	                                 sizeof out, &outlen), 0);
	ck_assert_uint_eq(outlen, wantlen);
	ck_assert_mem_eq(out, want, wantlen);
}

START_TEST(test_session_kat)
{
	struct keylog_rec loga = { 0 }, logb = { 0 };
	tc_session *a = mk_session(TCPCRYPT_ROLE_A, &loga), *b = mk_session(TCPCRYPT_ROLE_B, &logb);
	uint8_t out[TC_HANDSHAKE_MAX], out2[TC_HANDSHAKE_MAX], sid[64], res[18];
	size_t outlen, out2len, used;
	char want[256];

	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, out, sizeof out, &outlen), 0);
	ck_assert_uint_eq(outlen, sizeof kat_init1);
	ck_assert_mem_eq(out, kat_init1, sizeof kat_init1);
	ck_assert_int_eq(tc_session_handshake_log(b, out, outlen, &used, out2, sizeof out2, &out2len,
	                                          keylog_cb, &logb), 1);
	ck_assert_uint_eq(used, sizeof kat_init1);
	ck_assert_uint_eq(out2len, sizeof kat_init2);
	ck_assert_mem_eq(out2, kat_init2, sizeof kat_init2);
	ck_assert_int_eq(tc_session_handshake_log(a, out2, out2len, &used, out, sizeof out, &outlen,
	                                          keylog_cb, &loga), 1);
	ck_assert_uint_eq(used, sizeof kat_init2);
	ck_assert_uint_eq(outlen, 0);

	ck_assert_int_eq(tc_session_sessid(a, sid, sizeof sid), 33);
	ck_assert_mem_eq(sid, kat_sessid, 33);
	ck_assert_int_eq(tc_session_sessid(b, sid, sizeof sid), 33);
	ck_assert_mem_eq(sid, kat_sessid, 33);
	ck_assert_int_eq(tc_session_resume_id(a, res), 0);
	ck_assert_mem_eq(res, kat_resume, 18);
	ck_assert_uint_eq(tc_session_aead(a), TCPCRYPT_AEAD_CHACHA20_POLY1305);
	ck_assert_uint_eq(tc_session_aead(b), TCPCRYPT_AEAD_CHACHA20_POLY1305);

	/* key log: exactly two lines each, with the independently computed secrets */
	ck_assert_int_eq(loga.count, 2);
	ck_assert_int_eq(logb.count, 2);
	snprintf(want, sizeof want, "TCPCRYPT_ES %s %s", KAT_SESSID_HEX, KAT_ES_HEX);
	ck_assert_str_eq(loga.lines[0], want);
	ck_assert_str_eq(logb.lines[0], want);
	snprintf(want, sizeof want, "TCPCRYPT_SS %s %s", KAT_SESSID_HEX, KAT_SS0_HEX);
	ck_assert_str_eq(loga.lines[1], want);
	ck_assert_str_eq(logb.lines[1], want);

	/* the conversation of gen_kat.py, frame by frame */
	ck_assert_uint_eq(tc_session_send_offset(a), 75);
	ck_assert_uint_eq(tc_session_send_offset(b), 74);
	seal_expect(a, "hello, B", 0, kat_fa1, sizeof kat_fa1);
	open_expect(b, kat_fa1, sizeof kat_fa1, "hello, B", 0);
	seal_expect(b, "hi A", 0, kat_fb1, sizeof kat_fb1);
	open_expect(a, kat_fb1, sizeof kat_fb1, "hi A", 0);
	ck_assert_int_eq(tc_session_rekey(a), 0);
	seal_expect(a, "after rekey", 0, kat_fa2, sizeof kat_fa2);
	ck_assert_int_eq(tc_session_rekey_pending(b), 0);
	open_expect(b, kat_fa2, sizeof kat_fa2, "after rekey", 0);
	ck_assert_int_eq(tc_session_rekey_pending(b), 1);
	seal_expect(b, "", 0, kat_fb2, sizeof kat_fb2);
	ck_assert_int_eq(tc_session_rekey_pending(b), 0);
	open_expect(a, kat_fb2, sizeof kat_fb2, "", 0);
	ck_assert_int_eq(tc_session_rekey_pending(a), 0);   /* A started it: no answer */
	seal_expect(a, "", TC_SEAL_FIN, kat_fa3, sizeof kat_fa3);
	open_expect(b, kat_fa3, sizeof kat_fa3, "", TC_OPEN_FIN);
	seal_expect(b, "bye", TC_SEAL_FIN, kat_fb3, sizeof kat_fb3);
	open_expect(a, kat_fb3, sizeof kat_fb3, "bye", TC_OPEN_FIN);
	ck_assert_uint_eq(tc_session_send_offset(a), 75 + sizeof kat_fa1 + sizeof kat_fa2 + sizeof kat_fa3);
	ck_assert_uint_eq(tc_session_recv_offset(a), 74 + sizeof kat_fb1 + sizeof kat_fb2 + sizeof kat_fb3);

	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}
END_TEST

/* No key log unless asked: the same session without a callback works. */
START_TEST(test_no_keylog)
{
	tc_session *a = mk_session(TCPCRYPT_ROLE_A, NULL), *b = mk_session(TCPCRYPT_ROLE_B, NULL);
	uint8_t out[TC_HANDSHAKE_MAX], out2[TC_HANDSHAKE_MAX], sid[33];
	size_t outlen, out2len, used;

	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, out, sizeof out, &outlen), 0);
	ck_assert_int_eq(tc_session_handshake(b, out, outlen, &used, out2, sizeof out2, &out2len), 1);
	ck_assert_int_eq(tc_session_handshake(a, out2, out2len, &used, out, sizeof out, &outlen), 1);
	ck_assert_int_eq(tc_session_sessid(b, sid, sizeof sid), 33);
	ck_assert_mem_eq(sid, kat_sessid, 33);
	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}
END_TEST

/* A received URGp frame: the urgent field is not delivered as data but
 * reported (TC_OPEN_URG, tc_session_urgent); an
 * URGp frame too short for the field is a protocol error. The frames are
 * sealed here with the independently computed k_ab[0]. */
START_TEST(test_urgent)
{
	tc_session *a = mk_session(TCPCRYPT_ROLE_A, NULL), *b = mk_session(TCPCRYPT_ROLE_B, NULL);
	uint8_t out[TC_HANDSHAKE_MAX], out2[TC_HANDSHAKE_MAX], fr[64], *data;
	size_t outlen, out2len, used, datalen;
	unsigned flags;
	tc_aead_key k;
	long n;

	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, out, sizeof out, &outlen), 0);
	ck_assert_int_eq(tc_session_handshake(b, out, outlen, &used, out2, sizeof out2, &out2len), 1);
	ck_assert_int_eq(tc_aead_key_set(&k, TCPCRYPT_AEAD_CHACHA20_POLY1305, kat_k_ab0, 1), 0);
	n = tc_frame_seal(&k, 75, 0, TC_FRAME_FL_URG, (const uint8_t *)"\x00\x02" "abc", 5, fr, sizeof fr);
	ck_assert_int_eq(n, 25);
	ck_assert_int_eq(tc_session_open(b, fr, (size_t)n, &data, &datalen, &flags), 0);
	ck_assert_uint_eq(datalen, 3);
	ck_assert_mem_eq(data, "abc", 3);
	ck_assert_uint_eq(flags, TC_OPEN_URG);
	ck_assert_uint_eq(tc_session_urgent(b), 2);
	n = tc_frame_seal(&k, 100, 0, TC_FRAME_FL_URG, (const uint8_t *)"\x00", 1, fr, sizeof fr);
	ck_assert_int_eq(tc_session_open(b, fr, (size_t)n, &data, &datalen, &flags), -EPROTO);
	/* the frame layer alone refuses a clen below 17 */
	{
		struct tc_frame_plain pl;
		uint8_t shortf[19] = { 0x00, 0x00, 0x10 };

		ck_assert_int_eq(tc_frame_open(&k, 0, shortf, sizeof shortf, &pl), -EMSGSIZE);
		ck_assert_int_eq(tc_frame_open(&k, 0, shortf, 2, &pl), -EMSGSIZE);
	}
	tc_aead_key_wipe(&k);
	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}
END_TEST

/* TC_SEAL_URG: A's frame has URGp and the urgent field naming its last
 * data byte (the frame layout checked against the independently computed
 * k_ab[0]); B opens it with TC_OPEN_URG and tc_session_urgent(); an
 * urgent field past the frame's data is a protocol error and its data are
 * wiped. */
START_TEST(test_urgent_seal)
{
	tc_session *a = mk_session(TCPCRYPT_ROLE_A, NULL), *b = mk_session(TCPCRYPT_ROLE_B, NULL);
	uint8_t out[TC_HANDSHAKE_MAX], out2[TC_HANDSHAKE_MAX], fr[64], copy[64], *data;
	size_t outlen, out2len, used, datalen, flen;
	struct tc_frame_plain pl;
	unsigned flags;
	tc_aead_key k;
	long n;

	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, out, sizeof out, &outlen), 0);
	ck_assert_int_eq(tc_session_handshake(b, out, outlen, &used, out2, sizeof out2, &out2len), 1);
	ck_assert_int_eq(tc_session_handshake(a, out2, out2len, &used, out, sizeof out, &outlen), 1);
	ck_assert_int_eq(tc_session_seal(a, (const uint8_t *)"", 0, TC_SEAL_URG, fr, sizeof fr, &flen),
	                 -EINVAL);
	ck_assert_int_eq(tc_session_seal(a, (const uint8_t *)"ab!", 3, TC_SEAL_URG, fr, sizeof fr, &flen), 0);
	ck_assert_uint_eq(flen, 3 + 1 + 2 + 3 + 16);
	memcpy(copy, fr, flen);
	ck_assert_int_eq(tc_aead_key_set(&k, TCPCRYPT_AEAD_CHACHA20_POLY1305, kat_k_ab0, 1), 0);
	ck_assert_int_eq(tc_frame_open(&k, tc_session_send_offset(a) - flen, copy, flen, &pl), 0);
	ck_assert_uint_eq(pl.flags, TC_FRAME_FL_URG);
	ck_assert_uint_eq(pl.urgent, 2);
	ck_assert_uint_eq(pl.datalen, 3);
	ck_assert_mem_eq(pl.data, "ab!", 3);
	ck_assert_int_eq(tc_session_open(b, fr, flen, &data, &datalen, &flags), 0);
	ck_assert_uint_eq(flags, TC_OPEN_URG);
	ck_assert_uint_eq(tc_session_urgent(b), 2);
	ck_assert_mem_eq(data, "ab!", 3);
	/* a plain frame after it: no TC_OPEN_URG */
	ck_assert_int_eq(tc_session_seal(a, (const uint8_t *)"cd", 2, 0, fr, sizeof fr, &flen), 0);
	ck_assert_int_eq(tc_session_open(b, fr, flen, &data, &datalen, &flags), 0);
	ck_assert_uint_eq(flags, 0);
	/* urgent field 3 for 3 data bytes: names no byte of the frame */
	n = tc_frame_seal(&k, tc_session_recv_offset(b), 0, TC_FRAME_FL_URG,
	                  (const uint8_t *)"\x00\x03" "xyz", 5, fr, sizeof fr);
	ck_assert_int_eq(n, 25);
	ck_assert_int_eq(tc_session_open(b, fr, (size_t)n, &data, &datalen, &flags), -EPROTO);
	ck_assert_mem_eq(fr + 6, "\0\0\0", 3);
	tc_aead_key_wipe(&k);
	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}
END_TEST

/* Trailing bytes after Pub are accepted and belong to the transcript: B
 * fed an Init1 with 3 of them, and A fed an Init2 with 2, get the session
 * IDs that gen_kat.py computed with those bytes in the transcript (what
 * a peer that sent them computes too). */
START_TEST(test_trailing_kat)
{
	tc_session *a = mk_session(TCPCRYPT_ROLE_A, NULL), *b = mk_session(TCPCRYPT_ROLE_B, NULL);
	uint8_t out[TC_HANDSHAKE_MAX], sid[33], fr[64], *data;
	size_t outlen, used, datalen;
	unsigned flags;

	ck_assert_int_eq(tc_session_handshake(b, kat_init1_trailing, sizeof kat_init1_trailing, &used,
	                                      out, sizeof out, &outlen), 1);
	ck_assert_uint_eq(used, 78);
	ck_assert_uint_eq(outlen, sizeof kat_init2);
	ck_assert_mem_eq(out, kat_init2, sizeof kat_init2);
	ck_assert_int_eq(tc_session_sessid(b, sid, sizeof sid), 33);
	ck_assert_mem_eq(sid, kat_sessid_t1, 33);
	ck_assert_uint_eq(tc_session_recv_offset(b), 78);
	memcpy(fr, kat_fa1_t1, sizeof kat_fa1_t1);
	ck_assert_int_eq(tc_session_open(b, fr, sizeof kat_fa1_t1, &data, &datalen, &flags), 0);
	ck_assert_uint_eq(datalen, 8);
	ck_assert_mem_eq(data, "hello, B", 8);

	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, out, sizeof out, &outlen), 0);
	ck_assert_int_eq(tc_session_handshake(a, kat_init2_trailing, sizeof kat_init2_trailing, &used,
	                                      out, sizeof out, &outlen), 1);
	ck_assert_uint_eq(used, 76);
	ck_assert_int_eq(tc_session_sessid(a, sid, sizeof sid), 33);
	ck_assert_mem_eq(sid, kat_sessid_t2, 33);
	ck_assert_uint_eq(tc_session_recv_offset(a), 76);
	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}
END_TEST

/*
 * One whole conversation of gen_kat.py for a set (all three AEADs): the key
 * schedule, the Init messages, the session ID, every frame both ways
 * through the engine's one-shot and no-copy calls, the rekey and FINp.
 */
static void open_set(tc_session *s, tc_aead_ctx *x, const struct kat_blob *f, const char *want,
                     unsigned want_flags)
{
	uint8_t buf[256], plain[256], *data;
	struct iovec dst = { plain, sizeof plain };
	size_t datalen;
	unsigned flags;

	memcpy(buf, f->p, f->len);
	ck_assert_int_eq(tc_session_open_to(s, x, buf, f->len, &dst, 1, 0, &data, &datalen, &flags), 0);
	ck_assert_ptr_null(data);
	ck_assert_uint_eq(datalen, strlen(want));
	ck_assert_mem_eq(plain, want, datalen);
	ck_assert_uint_eq(flags, want_flags);
}

static void seal_set(tc_session *s, tc_aead_ctx *x, const char *data, unsigned flags,
                     const struct kat_blob *want)
{
	uint8_t out[256];
	struct iovec v = { (void *)(uintptr_t)data, strlen(data) };
	size_t outlen;

	ck_assert_int_eq(tc_session_sealv(s, x, &v, 1, 0, v.iov_len, flags, out, sizeof out, &outlen), 0);
	ck_assert_uint_eq(outlen, want->len);
	ck_assert_mem_eq(out, want->p, want->len);
}

static void run_set(const struct kat_set *k)
{
	uint16_t offer[1] = { k->aead };
	tc_session *a = mk_session_aead(TCPCRYPT_ROLE_A, NULL, offer);
	tc_session *b = mk_session_aead(TCPCRYPT_ROLE_B, NULL, offer);
	tc_aead_ctx ax = { 0 }, bx = { 0 }, ar = { 0 }, br = { 0 };
	uint8_t out[TC_HANDSHAKE_MAX], out2[TC_HANDSHAKE_MAX], sid[64], es[32], ss0[32], mk[32], key[44];
	size_t outlen, out2len, used, tl = k->k_ab0.len;
	struct tc_ks_session ks;

	ck_assert_uint_eq(tl, tc_aead_key_len(k->aead) + 12);
	/* key schedule */
	ck_assert_int_eq(tc_ks_ecdh(es, sk_a, k->init2.p + 42), 0);
	tc_ks_ss0(ss0, n_a, transcript, sizeof transcript, k->init1.p, k->init1.len,
	          k->init2.p, k->init2.len, es);
	ck_assert_mem_eq(ss0, k->ss0.p, 32);
	tc_ks_from_ss0(&ks, 0x23, ss0);
	ck_assert_mem_eq(ks.mk0, k->mk0.p, 32);
	ck_assert_mem_eq(ks.sessid, k->sessid.p, 33);
	ck_assert_mem_eq(ks.resume, k->resume.p, 18);
	tc_ks_traffic(key, tl, ks.mk0, TC_CONST_KEY_A);
	ck_assert_mem_eq(key, k->k_ab0.p, tl);
	tc_ks_traffic(key, tl, ks.mk0, TC_CONST_KEY_B);
	ck_assert_mem_eq(key, k->k_ba0.p, tl);
	memcpy(mk, ks.mk0, 32);
	tc_ks_next_mk(mk);
	ck_assert_mem_eq(mk, k->mk1.p, 32);
	tc_ks_traffic(key, tl, mk, TC_CONST_KEY_A);
	ck_assert_mem_eq(key, k->k_ab1.p, tl);
	tc_ks_traffic(key, tl, mk, TC_CONST_KEY_B);
	ck_assert_mem_eq(key, k->k_ba1.p, tl);

	/* Init messages and the session */
	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, out, sizeof out, &outlen), 0);
	ck_assert_uint_eq(outlen, k->init1.len);
	ck_assert_mem_eq(out, k->init1.p, outlen);
	ck_assert_int_eq(tc_session_handshake(b, out, outlen, &used, out2, sizeof out2, &out2len), 1);
	ck_assert_uint_eq(out2len, k->init2.len);
	ck_assert_mem_eq(out2, k->init2.p, out2len);
	ck_assert_int_eq(tc_session_handshake(a, out2, out2len, &used, out, sizeof out, &outlen), 1);
	ck_assert_uint_eq(tc_session_aead(a), k->aead);
	ck_assert_uint_eq(tc_session_aead(b), k->aead);
	ck_assert_int_eq(tc_session_sessid(a, sid, sizeof sid), 33);
	ck_assert_mem_eq(sid, k->sessid.p, 33);
	ck_assert_int_eq(tc_session_sessid(b, sid, sizeof sid), 33);
	ck_assert_mem_eq(sid, k->sessid.p, 33);

	/* the conversation, frame by frame, with kept contexts */
	seal_set(a, &ax, "hello, B", 0, &k->fa1);
	open_set(b, &br, &k->fa1, "hello, B", 0);
	seal_set(b, &bx, "hi A", 0, &k->fb1);
	open_set(a, &ar, &k->fb1, "hi A", 0);
	ck_assert_int_eq(tc_session_rekey(a), 0);
	seal_set(a, &ax, "after rekey", 0, &k->fa2);
	open_set(b, &br, &k->fa2, "after rekey", 0);
	ck_assert_int_eq(tc_session_rekey_pending(b), 1);
	seal_set(b, &bx, "", 0, &k->fb2);
	open_set(a, &ar, &k->fb2, "", 0);
	seal_set(a, &ax, "", TC_SEAL_FIN, &k->fa3);
	open_set(b, &br, &k->fa3, "", TC_OPEN_FIN);
	seal_set(b, &bx, "bye", TC_SEAL_FIN, &k->fb3);
	open_set(a, &ar, &k->fb3, "bye", TC_OPEN_FIN);
	tc_aead_ctx_free(&ax); tc_aead_ctx_free(&bx); tc_aead_ctx_free(&ar); tc_aead_ctx_free(&br);
	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}

START_TEST(test_set_chacha)
{
	run_set(&kat_set_chacha);
}
END_TEST

START_TEST(test_set_aes)
{
	run_set(_i ? &kat_set_aes256 : &kat_set_aes128);
}
END_TEST

static Suite *kat_suite(void)
{
	Suite *s = suite_create("kat");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
#ifdef TC_AES_TESTS
	tcase_add_loop_test(tc, test_set_aes, 0, 2);
#else
	tcase_add_test(tc, test_keysched_kat);
	tcase_add_test(tc, test_session_kat);
	tcase_add_test(tc, test_no_keylog);
	tcase_add_test(tc, test_urgent);
	tcase_add_test(tc, test_urgent_seal);
	tcase_add_test(tc, test_trailing_kat);
	tcase_add_test(tc, test_set_chacha);
#endif
	suite_add_tcase(s, tc);
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
	sr = srunner_create(kat_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
