/*
 * check_primitives.c - known-answer tests of the primitives under the
 * engine: HKDF-SHA256 (RFC 5869 A.1-A.3), X25519 (RFC 7748 6.1),
 * ChaCha20-Poly1305 (RFC 8439 2.8.2), AES-128-GCM and AES-256-GCM (GCM
 * spec test cases 1-4 and 13-16, only where the CPU has AES-NI: else SKIP),
 * and the AEAD list helpers.
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
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
#include "aead.h"
#include "frame.h"
#include "hkdf.h"
#include "keysched.h"
#include "session.h"
#include "util.h"

/* Decodes hex (spaces ignored) into out; returns the byte count. */
static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	unsigned v;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		ck_assert(n < cap);
		ck_assert(sscanf(hex, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static void check_hkdf(const char *ikm_h, const char *salt_h, const char *info_h, size_t L,
                       const char *prk_h, const char *okm_h)
{
	uint8_t ikm[128], salt[128], info[128], prk[32], want_prk[32], okm[128], want_okm[128];
	size_t ikml = unhex(ikm, sizeof ikm, ikm_h), saltl = unhex(salt, sizeof salt, salt_h);
	size_t infol = unhex(info, sizeof info, info_h);
	tc_hkdf_extract_state st;
	size_t i;

	ck_assert_uint_eq(unhex(want_prk, sizeof want_prk, prk_h), 32);
	ck_assert_uint_eq(unhex(want_okm, sizeof want_okm, okm_h), L);
	tc_hkdf_extract(prk, salt, saltl, ikm, ikml);
	ck_assert_mem_eq(prk, want_prk, 32);
	/* the streaming form, one byte at a time, gives the same PRK */
	memset(prk, 0, sizeof prk);
	tc_hkdf_extract_init(&st, salt, saltl);
	for (i = 0; i < ikml; i++)
		tc_hkdf_extract_update(&st, ikm + i, 1);
	tc_hkdf_extract_final(&st, prk);
	ck_assert_mem_eq(prk, want_prk, 32);
	ck_assert_int_eq(tc_hkdf_expand(okm, L, prk, 32, info, infol), 0);
	ck_assert_mem_eq(okm, want_okm, L);
}

START_TEST(test_hkdf_rfc5869)
{
	char ikm2[161], salt2[161], info2[161];
	int i;

	/* A.1 */
	check_hkdf("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
	           "f0f1f2f3f4f5f6f7f8f9", 42,
	           "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	           "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	           "34007208d5b887185865");
	/* A.2: IKM 0x00..0x4f, salt 0x60..0xaf, info 0xb0..0xff */
	for (i = 0; i < 80; i++) {
		snprintf(ikm2 + 2 * i, 3, "%02x", i);
		snprintf(salt2 + 2 * i, 3, "%02x", 0x60 + i);
		snprintf(info2 + 2 * i, 3, "%02x", 0xb0 + i);
	}
	check_hkdf(ikm2, salt2, info2, 82,
	           "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
	           "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	           "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	           "cc30c58179ec3e87c14c01d5c1f3434f1d87");
	/* A.3: no salt, no info */
	check_hkdf("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
	           "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
	           "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	           "9d201395faa4b61a96c8");
}
END_TEST

START_TEST(test_hkdf_limits)
{
	uint8_t prk[32] = { 1 }, out[64], again[64];

	ck_assert_int_eq(tc_hkdf_expand(out, 255 * 32 + 1, prk, 32, NULL, 0), -EINVAL);
	/* out may alias prk: same result as a separate buffer */
	ck_assert_int_eq(tc_hkdf_expand(out, 32, prk, 32, (const uint8_t *)"x", 1), 0);
	memcpy(again, prk, 32);
	ck_assert_int_eq(tc_hkdf_expand(again, 32, again, 32, (const uint8_t *)"x", 1), 0);
	ck_assert_mem_eq(out, again, 32);
}
END_TEST

START_TEST(test_x25519_rfc7748)
{
	uint8_t a_sk[32], b_sk[32], a_pk[32], b_pk[32], want[32], es1[32], es2[32], bad[32];

	unhex(a_sk, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b_sk, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	ck_assert_int_eq(crypto_scalarmult_base(a_pk, a_sk), 0);
	ck_assert_int_eq(crypto_scalarmult_base(b_pk, b_sk), 0);
	unhex(want, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	ck_assert_mem_eq(a_pk, want, 32);
	unhex(want, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	ck_assert_mem_eq(b_pk, want, 32);
	unhex(want, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	ck_assert_int_eq(tc_ks_ecdh(es1, a_sk, b_pk), 0);
	ck_assert_int_eq(tc_ks_ecdh(es2, b_sk, a_pk), 0);
	ck_assert_mem_eq(es1, want, 32);
	ck_assert_mem_eq(es2, want, 32);
	/* small-order points give an all-zero secret: rejected */
	memset(bad, 0, 32);
	ck_assert_int_eq(tc_ks_ecdh(es1, a_sk, bad), -EKEYREJECTED);
	bad[0] = 1;
	ck_assert_int_eq(tc_ks_ecdh(es1, a_sk, bad), -EKEYREJECTED);
}
END_TEST

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only one "
	"tip for the future, sunscreen would be it.";

START_TEST(test_chacha20poly1305_rfc8439)
{
	uint8_t keymat[44], nonce[12], aad[12], want[114 + 16], c[114], tag[16], m[114];
	tc_aead_key k;
	size_t i;

	for (i = 0; i < 32; i++)
		keymat[i] = (uint8_t)(0x80 + i);
	memset(keymat + 32, 0, 12);      /* NR = 0: the nonce is used as given */
	unhex(nonce, 12, "070000004041424344454647");
	unhex(aad, 12, "50515253c0c1c2c3c4c5c6c7");
	ck_assert_uint_eq(unhex(want, sizeof want,
		"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		"3ff4def08e4b7a9de576d26586cec64b6116"
		"1ae10b594f09e26a7e902ecbd0600691"), 130);
	ck_assert_uint_eq(strlen(sunscreen), 114);
	ck_assert_int_eq(tc_aead_key_set(&k, TCPCRYPT_AEAD_CHACHA20_POLY1305, keymat, 1), 0);
	ck_assert_int_eq(tc_aead_seal(&k, nonce, c, tag, (const uint8_t *)sunscreen, 114, aad, 12), 0);
	ck_assert_mem_eq(c, want, 114);
	ck_assert_mem_eq(tag, want + 114, 16);
	ck_assert_int_eq(tc_aead_open(&k, nonce, m, c, 114, tag, aad, 12), 0);
	ck_assert_mem_eq(m, sunscreen, 114);
	tag[15] ^= 1;
	ck_assert_int_eq(tc_aead_open(&k, nonce, m, c, 114, tag, aad, 12), -EBADMSG);
	tc_aead_key_wipe(&k);
}
END_TEST

/*
 * The GCM specification's test cases (McGrew and Viega, "The Galois/Counter
 * Mode of Operation", NIST's GCM test vectors): 1-4 (AES-128) and 13-16
 * (AES-256); 12-byte IVs, 16-byte tags. Also through the streaming calls
 * in odd pieces, and a forged tag that must leave no plaintext behind.
 */
struct gcm_case {
	uint16_t id;
	const char *key, *iv, *pt, *ad, *ct, *tag;
};

static const char gcm_pt[] =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char gcm_ad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
static const struct gcm_case gcm_cases[] = {
	/* 1 */ { TCPCRYPT_AEAD_AES_128_GCM, "00000000000000000000000000000000",
		"000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a" },
	/* 2 */ { TCPCRYPT_AEAD_AES_128_GCM, "00000000000000000000000000000000",
		"000000000000000000000000", "00000000000000000000000000000000", "",
		"0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf" },
	/* 3 */ { TCPCRYPT_AEAD_AES_128_GCM, "feffe9928665731c6d6a8f9467308308",
		"cafebabefacedbaddecaf888", gcm_pt, "",
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
		"4d5c2af327cd64a62cf35abd2ba6fab4" },
	/* 4 */ { TCPCRYPT_AEAD_AES_128_GCM, "feffe9928665731c6d6a8f9467308308",
		"cafebabefacedbaddecaf888", NULL /* gcm_pt[:60] */, gcm_ad,
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		"5bc94fbc3221a5db94fae95ae7121a47" },
	/* 13 */ { TCPCRYPT_AEAD_AES_256_GCM,
		"0000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	/* 14 */ { TCPCRYPT_AEAD_AES_256_GCM,
		"0000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000", "00000000000000000000000000000000", "",
		"cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	/* 15 */ { TCPCRYPT_AEAD_AES_256_GCM,
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		"cafebabefacedbaddecaf888", gcm_pt, "",
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
		"b094dac5d93471bdec1a502270e3cc6c" },
	/* 16 */ { TCPCRYPT_AEAD_AES_256_GCM,
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		"cafebabefacedbaddecaf888", NULL, gcm_ad,
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
		"76fc6ece0f4e1768cddf8853bb2d551b" },
};

START_TEST(test_gcm_vectors)
{
	const struct gcm_case *t = &gcm_cases[_i];
	uint8_t keymat[44] = { 0 }, nonce[12], pt[64], ad[20], want_c[64], want_t[16];
	uint8_t c[64], tag[16], m[64];
	size_t kl, ptlen, adlen, cl;
	struct iovec v[3];
	tc_aead_ctx x = { 0 };
	tc_aead_key k;

	kl = unhex(keymat, 32, t->key);
	ck_assert_uint_eq(kl, t->id == TCPCRYPT_AEAD_AES_128_GCM ? 16 : 32);
	/* NR = 0 (keymat is zeroed past the key): the nonce is used as given */
	ck_assert_uint_eq(unhex(nonce, 12, t->iv), 12);
	ptlen = t->pt ? unhex(pt, sizeof pt, t->pt) : unhex(pt, sizeof pt, gcm_pt) - 4;
	adlen = unhex(ad, sizeof ad, t->ad);
	cl = unhex(want_c, sizeof want_c, t->ct);
	ck_assert_uint_eq(cl, ptlen);
	unhex(want_t, 16, t->tag);
	ck_assert_uint_eq(tc_aead_key_len(t->id), kl);
	ck_assert_int_eq(tc_aead_key_set(&k, t->id, keymat, 7), 0);
	ck_assert_int_eq(tc_aead_seal(&k, nonce, c, tag, pt, ptlen, ad, adlen), 0);
	ck_assert_mem_eq(c, want_c, ptlen);
	ck_assert_mem_eq(tag, want_t, 16);
	ck_assert_int_eq(tc_aead_open(&k, nonce, m, c, ptlen, tag, ad, adlen), 0);
	ck_assert_mem_eq(m, pt, ptlen);
	/* in pieces (1, 17, rest) with a kept context, twice: the second
	 * time the context reuses the key it holds */
	for (int rep = 0; rep < 2; rep++) {
		size_t a = ptlen < 1 ? ptlen : 1, b = ptlen - a < 17 ? ptlen - a : 17;

		v[0].iov_base = pt; v[0].iov_len = a;
		v[1].iov_base = pt + a; v[1].iov_len = b;
		v[2].iov_base = pt + a + b; v[2].iov_len = ptlen - a - b;
		memset(c, 0, sizeof c);
		ck_assert_int_eq(tc_aead_sealv(&x, &k, nonce, ad, adlen, v, 3, c, tag), 0);
		ck_assert_mem_eq(c, want_c, ptlen);
		ck_assert_mem_eq(tag, want_t, 16);
		v[0].iov_base = m; v[1].iov_base = m + a; v[2].iov_base = m + a + b;
		memset(m, 0, sizeof m);
		ck_assert_int_eq(tc_aead_openv(&x, &k, nonce, ad, adlen, c, ptlen, tag, v, 3), 0);
		ck_assert_mem_eq(m, pt, ptlen);
	}
	/* a forged tag or ciphertext: -EBADMSG and the output zeroed */
	tag[15] ^= 1;
	memset(m, 0xaa, sizeof m);
	ck_assert_int_eq(tc_aead_open(&k, nonce, m, c, ptlen, tag, ad, adlen), -EBADMSG);
	for (size_t i = 0; i < ptlen; i++)
		ck_assert_uint_eq(m[i], 0);
	tag[15] ^= 1;
	if (ptlen > 0) {
		c[0] ^= 0x80;
		ck_assert_int_eq(tc_aead_openv(&x, &k, nonce, ad, adlen, c, ptlen, tag, v, 3), -EBADMSG);
		c[0] ^= 0x80;
	}
	/* and the context recovers */
	ck_assert_int_eq(tc_aead_openv(&x, &k, nonce, ad, adlen, c, ptlen, tag, v, 3), 0);
	tc_aead_ctx_free(&x);
	tc_aead_key_wipe(&k);
}
END_TEST

START_TEST(test_aead_lists)
{
	uint16_t l[TC_MAX_AEADS];
	size_t n;
	int aes = tc_aead_cpu_has_aes();

	n = tc_aead_default_list(l, TC_MAX_AEADS);
	if (aes) {
		ck_assert_uint_eq(n, 3);
		ck_assert_uint_eq(l[0], TCPCRYPT_AEAD_AES_128_GCM);
		ck_assert_uint_eq(l[1], TCPCRYPT_AEAD_AES_256_GCM);
		ck_assert_uint_eq(l[2], TCPCRYPT_AEAD_CHACHA20_POLY1305);
	} else {
		ck_assert_uint_eq(n, 1);
		ck_assert_uint_eq(l[0], TCPCRYPT_AEAD_CHACHA20_POLY1305);
	}
	ck_assert_uint_eq(tc_aead_default_list(l, 1), 1);
	ck_assert_int_eq(tc_aead_supported(TCPCRYPT_AEAD_CHACHA20_POLY1305), 1);
	ck_assert_int_eq(tc_aead_supported(TCPCRYPT_AEAD_AES_256_GCM), aes ? 1 : 0);
	ck_assert_int_eq(tc_aead_supported(TCPCRYPT_AEAD_AES_128_GCM), aes ? 1 : 0);
	ck_assert_uint_eq(tc_aead_key_len(TCPCRYPT_AEAD_CHACHA20_POLY1305), 32);
	ck_assert_int_eq(tc_aead_supported(0x1234), 0);
	ck_assert_uint_eq(tc_aead_key_len(0x1234), 0);

	ck_assert_int_eq(tc_aead_parse_list("aes256gcm,chacha20poly1305", l, TC_MAX_AEADS), 2);
	ck_assert_uint_eq(l[0], 0x0002);
	ck_assert_uint_eq(l[1], 0x0010);
	ck_assert_int_eq(tc_aead_parse_list(" chacha20 , AES-256-GCM", l, TC_MAX_AEADS), 2);
	ck_assert_uint_eq(l[0], 0x0010);
	ck_assert_uint_eq(l[1], 0x0002);
	ck_assert_int_eq(tc_aead_parse_list("chacha20,aes128gcm,AES-256-GCM", l, TC_MAX_AEADS), 3);
	ck_assert_uint_eq(l[0], 0x0010);
	ck_assert_uint_eq(l[1], 0x0001);
	ck_assert_uint_eq(l[2], 0x0002);
	ck_assert_int_eq(tc_aead_parse_list("0x10,0x0002,0x0001", l, TC_MAX_AEADS), 3);
	ck_assert_uint_eq(l[0], 0x0010);
	ck_assert_uint_eq(l[1], 0x0002);
	ck_assert_uint_eq(l[2], 0x0001);
	ck_assert_int_eq(tc_aead_parse_list("chacha20-poly1305", l, TC_MAX_AEADS), 1);
	ck_assert_int_eq(tc_aead_parse_list("", l, TC_MAX_AEADS), -EINVAL);
	ck_assert_int_eq(tc_aead_parse_list("rot13", l, TC_MAX_AEADS), -EINVAL);
	ck_assert_int_eq(tc_aead_parse_list("chacha20,", l, TC_MAX_AEADS), -EINVAL);
	ck_assert_int_eq(tc_aead_parse_list("0x", l, TC_MAX_AEADS), -EINVAL);
	ck_assert_int_eq(tc_aead_parse_list("0x10000", l, TC_MAX_AEADS), -EINVAL);
	ck_assert_int_eq(tc_aead_parse_list("0x0g", l, TC_MAX_AEADS), -EINVAL);
	ck_assert_int_eq(tc_aead_parse_list("chacha20,chacha20", l, 1), -EINVAL);
	ck_assert_int_eq(tc_aead_parse_list(NULL, l, 1), -EINVAL);

	ck_assert_str_eq(tc_aead_name(0x0001), "aes128gcm");
	ck_assert_str_eq(tc_aead_name(0x0002), "aes256gcm");
	ck_assert_str_eq(tc_aead_name(0x0010), "chacha20poly1305");
	ck_assert_str_eq(tc_aead_name(0x7777), "unknown");
	/* every name parses back to its id */
	for (unsigned id = 1; id <= 0x10; id++) {
		if (strcmp(tc_aead_name((uint16_t)id), "unknown") == 0)
			continue;
		ck_assert_int_eq(tc_aead_parse_list(tc_aead_name((uint16_t)id), l, 1), 1);
		ck_assert_uint_eq(l[0], id);
	}
}
END_TEST

START_TEST(test_util)
{
	static const uint8_t b[] = { 0x00, 0x9f, 0xa0, 0xff };
	char out[9], small[8];
	uint8_t nonce[12], nr[12];
	int i;

	ck_assert_uint_eq(tc_hex(out, sizeof out, b, 4), 8);
	ck_assert_str_eq(out, "009fa0ff");
	ck_assert_uint_eq(tc_hex(small, sizeof small, b, 4), 0);
	ck_assert_str_ne(tc_strerror(-EBADMSG), tc_strerror(-EPROTO));
	ck_assert_str_ne(tc_strerror(-EBADMSG), tc_strerror(-12345));
	/* frame nonce: (0^4 | be64 offset) XOR NR */
	for (i = 0; i < 12; i++)
		nr[i] = (uint8_t)(0x10 * i + 1);
	tc_frame_nonce(nonce, nr, 0x0102030405060708ull);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(nonce[i], nr[i]);
	for (i = 4; i < 12; i++)
		ck_assert_uint_eq(nonce[i], nr[i] ^ (uint8_t)(i - 3));
}
END_TEST

/*
 * Built twice (crypto.mk): check_primitives, the tests every host can
 * run, and check_primitives_aes (TC_AES_TESTS), the AES-GCM ones, which
 * exit 77 (SKIP) where the CPU lacks AES-NI or PCLMULQDQ.
 */
static Suite *primitives_suite(void)
{
	Suite *s = suite_create("primitives");
	TCase *tc = tcase_create("core");

#ifdef TC_AES_TESTS
	tcase_add_loop_test(tc, test_gcm_vectors, 0, (int)(sizeof gcm_cases / sizeof gcm_cases[0]));
#else
	tcase_add_test(tc, test_hkdf_rfc5869);
	tcase_add_test(tc, test_hkdf_limits);
	tcase_add_test(tc, test_x25519_rfc7748);
	tcase_add_test(tc, test_chacha20poly1305_rfc8439);
	tcase_add_test(tc, test_aead_lists);
	tcase_add_test(tc, test_util);
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
	sr = srunner_create(primitives_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
