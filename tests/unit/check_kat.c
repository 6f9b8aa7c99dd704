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
 * Resumption (RFC 8548 3.5) from each conversation's ss[0]: the chain
 * ss[1], ss[2], resume[1], resume[2], the session resumed from ss[1] with
 * nonce_a = 0xa0..0xa7 and nonce_b = 0xb0..0xb7 (sn, mk[0], the 0xa3
 * session ID, k_ab, k_ba, the first frames both ways at offset 0), the
 * SYN suboptions; with ChaCha20-Poly1305 also a session from ss[2] with a
 * 3-byte nonce_a and an empty nonce_b.
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
#include "eno.h"
#include "keysched.h"
#include "resume_opt.h"
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
/* The resumption known answers of one conversation (kat_rset_*). */
struct kat_rset {
	uint16_t aead;
	struct kat_blob ss1, ss2, resume1, resume2, sn, mk0, sessid, k_ab, k_ba, fa, fb, fa2;
	struct kat_blob sub_a, sub_b;
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

/* ---------------------------------------------------------------- resumption */

static const uint8_t nonce_a8[8] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7 };
static const uint8_t nonce_b8[8] = { 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7 };

/* The chain and the resumed key schedule from ss[0], primitive by primitive. */
static void rset_keysched(const struct kat_set *k, const struct kat_rset *r)
{
	uint8_t ss[32], res[18], key[44];
	struct tc_ks_session ks;
	size_t tl = r->k_ab.len;

	memcpy(ss, k->ss0.p, 32);
	tc_ks_next_ss(ss);
	ck_assert_mem_eq(ss, r->ss1.p, 32);
	tc_ks_resume(res, ss);
	ck_assert_mem_eq(res, r->resume1.p, 18);
	ck_assert_int_eq(tc_ks_from_ss(&ks, 0xa3, ss, r->sn.p, r->sn.len), 0);
	ck_assert_mem_eq(ks.mk0, r->mk0.p, 32);
	ck_assert_mem_eq(ks.sessid, r->sessid.p, 33);
	ck_assert_mem_eq(ks.resume, r->resume1.p, 18);
	ck_assert_mem_eq(ks.ss1, r->ss2.p, 32);
	tc_ks_traffic(key, tl, ks.mk0, TC_CONST_KEY_A);
	ck_assert_mem_eq(key, r->k_ab.p, tl);
	tc_ks_traffic(key, tl, ks.mk0, TC_CONST_KEY_B);
	ck_assert_mem_eq(key, r->k_ba.p, tl);
	tc_ks_next_ss(ss);
	ck_assert_mem_eq(ss, r->ss2.p, 32);
	tc_ks_resume(res, ss);
	ck_assert_mem_eq(res, r->resume2.p, 18);
	ck_assert_int_eq(tc_ks_from_ss(&ks, 0xa3, ss, r->sn.p, TC_KS_SN_MAX + 1), -EINVAL);
}

/* A fresh pair keyed through the engine (the conversation of the set),
 * each side's chain taken from its session. */
static void fresh_chains(uint16_t aead, struct tc_resume_chain *ca, struct tc_resume_chain *cb)
{
	uint16_t offer[1] = { aead };
	tc_session *a = mk_session_aead(TCPCRYPT_ROLE_A, NULL, offer);
	tc_session *b = mk_session_aead(TCPCRYPT_ROLE_B, NULL, offer);
	uint8_t out[TC_HANDSHAKE_MAX], out2[TC_HANDSHAKE_MAX];
	size_t outlen, out2len, used;
	struct tc_resume_chain again;

	ck_assert_int_eq(tc_session_take_chain(a, ca), -EINVAL);       /* no keys yet */
	ck_assert_int_eq(tc_session_handshake(a, NULL, 0, &used, out, sizeof out, &outlen), 0);
	ck_assert_int_eq(tc_session_handshake(b, out, outlen, &used, out2, sizeof out2, &out2len), 1);
	ck_assert_int_eq(tc_session_handshake(a, out2, out2len, &used, out, sizeof out, &outlen), 1);
	ck_assert_int_eq(tc_session_take_chain(a, ca), 0);
	ck_assert_int_eq(tc_session_take_chain(b, cb), 0);
	/* ss[1] is handed out once */
	ck_assert_int_eq(tc_session_take_chain(a, &again), -ENOENT);
	ck_assert_int_eq(tc_session_take_chain(b, &again), -ENOENT);
	ck_assert_uint_eq(ca->next, 1);
	ck_assert_uint_eq(ca->orig_role, TCPCRYPT_ROLE_A);
	ck_assert_uint_eq(cb->orig_role, TCPCRYPT_ROLE_B);
	ck_assert_uint_eq(ca->aead, aead);
	ck_assert_uint_eq(cb->tep, 0x23);
	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}

/* Both halves of the negotiation through the codec: A's suboption, B's
 * match and answer, A's reading of the answer. */
static void rset_options(const struct kat_rset *r, struct tc_resume_chain *ca,
                         struct tc_resume_chain *cb, struct tc_resume_secret *sa,
                         struct tc_resume_secret *sb)
{
	uint8_t opt[40];
	struct tc_eno_syn syn;
	struct tc_resume_offer off;
	int n;

	/* A: the lowest i, ss[1]; its SYN option 45 14 | a3 half nonce_a */
	ck_assert_int_eq(tc_resume_chain_take(ca, sa), 0);
	ck_assert_uint_eq(sa->index, 1);
	ck_assert_mem_eq(sa->ss, r->ss1.p, 32);
	ck_assert_mem_eq(sa->resume, r->resume1.p, 18);
	ck_assert_mem_eq(ca->ss, r->ss2.p, 32);
	n = tc_resume_subopt_build(0x23, sa->orig_role, sa->resume, nonce_a8, 8, 0, opt + 2,
	                           sizeof opt - 2);
	ck_assert_int_eq(n, (int)r->sub_a.len);
	ck_assert_mem_eq(opt + 2, r->sub_a.p, r->sub_a.len);
	opt[0] = 69;
	opt[1] = (uint8_t)(n + 2);
	ck_assert_int_eq(tc_eno_parse_syn(opt, (size_t)n + 2, &syn), 0);

	/* B: A's half names ss[1] of its chain; B answers 45 15 01 | a3 half nonce_b */
	ck_assert_int_eq(tc_resume_subopt_parse(&syn.tep[0], &off), 1);
	ck_assert_uint_eq(off.nonce_len, 8);
	ck_assert_mem_eq(off.nonce, nonce_a8, 8);
	ck_assert_int_eq(tc_resume_chain_match(cb, off.half, 4, sb), 1);
	ck_assert_uint_eq(sb->index, 1);
	ck_assert_mem_eq(sb->ss, r->ss1.p, 32);
	n = tc_resume_subopt_build(0x23, sb->orig_role, sb->resume, nonce_b8, 8, 0, opt + 3,
	                           sizeof opt - 3);
	ck_assert_int_eq(n, (int)r->sub_b.len);
	ck_assert_mem_eq(opt + 3, r->sub_b.p, r->sub_b.len);
	opt[1] = (uint8_t)(n + 3);
	opt[2] = 0x01;
	ck_assert_int_eq(tc_eno_parse_syn(opt, (size_t)n + 3, &syn), 0);

	/* A: B's half matches: resumed, with nonce_b */
	ck_assert_int_eq(tc_resume_check_answer(&syn, 0x23, sa->orig_role, sa->resume, &off),
	                 TC_RESUME_ANSWER_RESUMED);
	ck_assert_uint_eq(off.nonce_len, 8);
	ck_assert_mem_eq(off.nonce, nonce_b8, 8);
}

struct keylog_one {
	int count;
	char line[256];
};

static void keylog_one_cb(void *arg, const char *line)
{
	struct keylog_one *r = arg;

	r->count++;
	ck_assert_uint_lt(strlen(line), sizeof r->line);
	strcpy(r->line, line);
}

/* A resumed session from sec with the 8-byte nonces; the secret is wiped. */
static tc_session *resumed_session(struct tc_resume_secret *sec, int role,
                                   const uint8_t *na, size_t nal, const uint8_t *nb, size_t nbl,
                                   struct keylog_one *log)
{
	static const uint8_t zero[sizeof(struct tc_resume_secret)];
	struct tc_resume_params p = {
		.role = (uint8_t)role, .nonce_a = na, .nonce_a_len = nal, .nonce_b = nb,
		.nonce_b_len = nbl, .keylog = log ? keylog_one_cb : NULL, .keylog_arg = log,
	};
	tc_session *s = aligned_alloc(16, (tc_session_size() + 15) & ~(size_t)15);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(tc_session_init_resumed(s, sec, &p), 0);
	ck_assert_mem_eq(sec, zero, sizeof *sec);
	return s;
}

/* The resumed pair: session IDs, offsets from 0, each known frame both ways. */
static void rset_sessions(const struct kat_rset *r, struct tc_resume_secret *sa,
                          struct tc_resume_secret *sb)
{
	struct keylog_one loga = { 0 }, logb = { 0 };
	tc_session *a = resumed_session(sa, TCPCRYPT_ROLE_A, nonce_a8, 8, nonce_b8, 8, &loga);
	tc_session *b = resumed_session(sb, TCPCRYPT_ROLE_B, nonce_a8, 8, nonce_b8, 8, &logb);
	tc_aead_ctx ax = { 0 }, bx = { 0 }, ar = { 0 }, br = { 0 };
	char want[256], sid[67], ss[65];
	uint8_t id[64];
	size_t i;

	ck_assert_int_eq(tc_session_sessid(a, id, sizeof id), 33);
	ck_assert_mem_eq(id, r->sessid.p, 33);
	ck_assert_uint_eq(id[0], 0xa3);
	ck_assert_int_eq(tc_session_sessid(b, id, sizeof id), 33);
	ck_assert_mem_eq(id, r->sessid.p, 33);
	ck_assert_int_eq(tc_session_resumed(a), 1);
	ck_assert_int_eq(tc_session_role(b), TCPCRYPT_ROLE_B);
	ck_assert_uint_eq(tc_session_aead(a), r->aead);
	ck_assert_uint_eq(tc_session_send_offset(a), 0);
	ck_assert_uint_eq(tc_session_recv_offset(b), 0);
	/* key log: TCPCRYPT_SS <session id> <ss[1]>, from the known bytes */
	for (i = 0; i < 33; i++)
		snprintf(sid + 2 * i, 3, "%02x", r->sessid.p[i]);
	for (i = 0; i < 32; i++)
		snprintf(ss + 2 * i, 3, "%02x", r->ss1.p[i]);
	snprintf(want, sizeof want, "TCPCRYPT_SS %s %s", sid, ss);
	ck_assert_int_eq(loga.count, 1);
	ck_assert_str_eq(loga.line, want);
	ck_assert_str_eq(logb.line, want);

	seal_set(a, &ax, "resumed hello, B", 0, &r->fa);
	open_set(b, &br, &r->fa, "resumed hello, B", 0);
	seal_set(b, &bx, "resumed hi A", 0, &r->fb);
	open_set(a, &ar, &r->fb, "resumed hi A", 0);
	seal_set(a, &ax, "bye", TC_SEAL_FIN, &r->fa2);
	open_set(b, &br, &r->fa2, "bye", TC_OPEN_FIN);
	tc_aead_ctx_free(&ax); tc_aead_ctx_free(&bx); tc_aead_ctx_free(&ar); tc_aead_ctx_free(&br);
	tc_session_free(a);
	tc_session_free(b);
}

/* One set: key schedule, chains from the engine's fresh sessions,
 * suboptions, the resumed pair. Returns the chains at ss[2]. */
static void run_rset(const struct kat_set *k, const struct kat_rset *r,
                     struct tc_resume_chain *ca, struct tc_resume_chain *cb)
{
	struct tc_resume_secret sa, sb;

	ck_assert_uint_eq(k->aead, r->aead);
	rset_keysched(k, r);
	fresh_chains(r->aead, ca, cb);
	ck_assert_mem_eq(ca->ss, r->ss1.p, 32);
	ck_assert_mem_eq(cb->ss, r->ss1.p, 32);
	rset_options(r, ca, cb, &sa, &sb);
	rset_sessions(r, &sa, &sb);
}

START_TEST(test_resume_chacha)
{
	struct tc_resume_chain ca, cb;
	struct tc_resume_secret sa, sb;
	static const uint8_t na3[3] = { 0xc0, 0xc1, 0xc2 };
	tc_session *a, *b;
	tc_aead_ctx x = { 0 };
	uint8_t id[33];

	run_rset(&kat_set_chacha, &kat_rset_chacha, &ca, &cb);
	/* the next connection: ss[2], a 3-byte nonce_a and an empty nonce_b */
	ck_assert_int_eq(tc_resume_chain_take(&ca, &sa), 0);
	ck_assert_uint_eq(sa.index, 2);
	ck_assert_mem_eq(sa.ss, kat_r_chacha_ss2, 32);
	ck_assert_int_eq(tc_resume_chain_match(&cb, sa.resume, 4, &sb), 1);   /* A's half: resume[0..8] */
	ck_assert_uint_eq(sb.index, 2);
	a = resumed_session(&sa, TCPCRYPT_ROLE_A, na3, 3, NULL, 0, NULL);
	b = resumed_session(&sb, TCPCRYPT_ROLE_B, na3, 3, NULL, 0, NULL);
	ck_assert_int_eq(tc_session_sessid(a, id, sizeof id), 33);
	ck_assert_mem_eq(id, kat_r2_sessid, 33);
	ck_assert_int_eq(tc_session_sessid(b, id, sizeof id), 33);
	ck_assert_mem_eq(id, kat_r2_sessid, 33);
	seal_set(a, &x, "second resumption", 0, &(struct kat_blob)KAT_F(kat_r2_fa));
	seal_set(b, &x, "ok", 0, &(struct kat_blob)KAT_F(kat_r2_fb));
	tc_aead_ctx_free(&x);
	tc_session_free(a);
	tc_session_free(b);
	tc_resume_chain_wipe(&ca);
	tc_resume_chain_wipe(&cb);
}
END_TEST

/* The original B host opens the resumed connection (its ENO role is A
 * now): the keys follow the original roles, so the frames and session ID
 * are the known ones all the same. */
START_TEST(test_resume_roles_swapped)
{
	const struct kat_rset *r = &kat_rset_chacha;
	struct tc_resume_chain ca, cb;
	struct tc_resume_secret sa, sb;
	tc_aead_ctx x = { 0 };
	tc_session *a, *b;
	uint8_t id[33];

	ck_assert_int_eq(tc_resume_chain_init(&ca, r->ss1.p, 1, TCPCRYPT_ROLE_A, 0x23, r->aead), 0);
	ck_assert_int_eq(tc_resume_chain_init(&cb, r->ss1.p, 1, TCPCRYPT_ROLE_B, 0x23, r->aead), 0);
	/* the original B takes actively and sends resume[9..17]; the original A matches it */
	ck_assert_int_eq(tc_resume_chain_take(&cb, &sb), 0);
	ck_assert_int_eq(tc_resume_chain_match(&ca, sb.resume + 9, 1, &sa), 1);
	b = resumed_session(&sb, TCPCRYPT_ROLE_A, nonce_a8, 8, nonce_b8, 8, NULL);
	a = resumed_session(&sa, TCPCRYPT_ROLE_B, nonce_a8, 8, nonce_b8, 8, NULL);
	ck_assert_int_eq(tc_session_role(b), TCPCRYPT_ROLE_A);
	ck_assert_int_eq(tc_session_sessid(b, id, sizeof id), 33);
	ck_assert_mem_eq(id, r->sessid.p, 33);
	seal_set(b, &x, "resumed hi A", 0, &r->fb);
	seal_set(a, &x, "resumed hello, B", 0, &r->fa);
	tc_aead_ctx_free(&x);
	tc_session_free(a);
	tc_session_free(b);
}
END_TEST

START_TEST(test_resume_aes)
{
	struct tc_resume_chain ca, cb;

	if (_i)
		run_rset(&kat_set_aes256, &kat_rset_aes256, &ca, &cb);
	else
		run_rset(&kat_set_aes128, &kat_rset_aes128, &ca, &cb);
	tc_resume_chain_wipe(&ca);
	tc_resume_chain_wipe(&cb);
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
	tcase_add_loop_test(tc, test_resume_aes, 0, 2);
#else
	tcase_add_test(tc, test_keysched_kat);
	tcase_add_test(tc, test_session_kat);
	tcase_add_test(tc, test_no_keylog);
	tcase_add_test(tc, test_urgent);
	tcase_add_test(tc, test_urgent_seal);
	tcase_add_test(tc, test_trailing_kat);
	tcase_add_test(tc, test_set_chacha);
	tcase_add_test(tc, test_resume_chacha);
	tcase_add_test(tc, test_resume_roles_swapped);
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
