/*
 * bench_engine.c - seal and open throughput of the tcpcrypt engine next to
 * the raw AEAD on the same buffers, for each AEAD this host has (the
 * default list: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), at 1 KiB,
 * 16 KiB and 64 KiB (65518 bytes, the most data one frame holds) of data
 * per frame.
 *
 * Each measurement processes a batch of frames (about 1 MiB); engine and
 * raw runs alternate, and the median of BENCH_REPS (default 31) runs is
 * reported. The engine runs as the shim calls it: seal from the
 * application's buffer straight into the frame (tc_session_sealv), open
 * straight into the reader's buffer (tc_session_open_to), each with its
 * kept context. The ceiling is the raw EVP AEAD on the same plaintext
 * (flags byte + data, 3 bytes of AD, key schedule done once), seal and
 * open; engine/ceiling divides by the slower of the two. libsodium's AEAD
 * (AES-256-GCM, ChaCha20-Poly1305: it has no AES-128) is measured on the
 * same frames for comparison.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <openssl/evp.h>

#include "tcpcrypt/tcpcrypt.h"
#include "aead.h"
#include "session.h"

#define BATCH_BYTES (1u << 20)
#define MAX_REPS 101

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Raw libsodium AEAD (where libsodium has it) on one frame's plaintext. */
static int sodium_has(uint16_t aead)
{
	return aead == TCPCRYPT_AEAD_CHACHA20_POLY1305 ||
	       (aead == TCPCRYPT_AEAD_AES_256_GCM && crypto_aead_aes256gcm_is_available());
}

static void sodium_seal(uint16_t aead, const crypto_aead_aes256gcm_state *st, const uint8_t *key,
                        uint8_t *c, uint8_t *tag, const uint8_t *m, size_t mlen, const uint8_t *ad,
                        const uint8_t *nonce)
{
	if (aead == TCPCRYPT_AEAD_AES_256_GCM)
		crypto_aead_aes256gcm_encrypt_detached_afternm(c, tag, NULL, m, mlen, ad, 3, NULL,
		                                               nonce, st);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(c, tag, NULL, m, mlen, ad, 3, NULL,
		                                                   nonce, key);
}

static int sodium_open(uint16_t aead, const crypto_aead_aes256gcm_state *st, const uint8_t *key,
                       uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *tag,
                       const uint8_t *ad, const uint8_t *nonce)
{
	if (aead == TCPCRYPT_AEAD_AES_256_GCM)
		return crypto_aead_aes256gcm_decrypt_detached_afternm(m, NULL, c, clen, tag, ad, 3,
		                                                      nonce, st);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(m, NULL, c, clen, tag, ad, 3,
	                                                          nonce, key);
}

/* The raw EVP AEAD (the ceiling: the primitive alone, key schedule done
 * once): AD, then the plaintext in one update, then the tag. */
static const EVP_CIPHER *evp_cipher(uint16_t aead)
{
	switch (aead) {
	case TCPCRYPT_AEAD_AES_128_GCM: return EVP_aes_128_gcm();
	case TCPCRYPT_AEAD_AES_256_GCM: return EVP_aes_256_gcm();
	default: return EVP_chacha20_poly1305();
	}
}

static void evp_seal(EVP_CIPHER_CTX *x, uint8_t *c, uint8_t *tag, const uint8_t *m, size_t mlen,
                     const uint8_t *ad, const uint8_t *nonce)
{
	int n;

	if (EVP_EncryptInit_ex2(x, NULL, NULL, nonce, NULL) != 1 ||
	    EVP_EncryptUpdate(x, NULL, &n, ad, 3) != 1 ||
	    EVP_EncryptUpdate(x, c, &n, m, (int)mlen) != 1 ||
	    EVP_EncryptFinal_ex(x, c + mlen, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
		abort();
}

static int evp_open(EVP_CIPHER_CTX *x, uint8_t *m, const uint8_t *c, size_t clen, uint8_t *tag,
                    const uint8_t *ad, const uint8_t *nonce)
{
	int n;

	if (EVP_DecryptInit_ex2(x, NULL, NULL, nonce, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1 ||
	    EVP_DecryptUpdate(x, NULL, &n, ad, 3) != 1 ||
	    EVP_DecryptUpdate(x, m, &n, c, (int)clen) != 1)
		abort();
	return EVP_DecryptFinal_ex(x, m + clen, &n) == 1 ? 0 : -1;
}

static tc_session *new_session(int role, uint16_t aead)
{
	struct tc_session_params p = {
		.role = (uint8_t)role, .tep_byte = TCPCRYPT_TEP_ECDHE_CURVE25519,
		.aeads = &aead, .naeads = 1,
	};
	tc_session *s;

	if (tc_session_new(&s, &p) != 0)
		abort();
	return s;
}

static void bench_one(uint16_t aead, size_t len, int reps)
{
	size_t flen = len + TC_FRAME_OVERHEAD, nframes = BATCH_BYTES / flen, i, outlen, dlen;
	uint8_t *data = malloc(len + 1), *batch = malloc(nframes * flen), *pristine = malloc(nframes * flen);
	uint8_t *plain = malloc(len + 16);
	uint8_t key[32], nonce[12] = { 0 }, m1[TC_HANDSHAKE_MAX], m2[TC_HANDSHAKE_MAX], *d;
	double seal_e[MAX_REPS], seal_r[MAX_REPS], seal_s[MAX_REPS];
	double open_e[MAX_REPS], open_r[MAX_REPS], open_s[MAX_REPS], t;
	double se, sr, ss, oe, orw, os, ceil, mb = (double)(nframes * len) / 1e6;
	int sod = sodium_has(aead);
	crypto_aead_aes256gcm_state st;
	EVP_CIPHER_CTX *ex = EVP_CIPHER_CTX_new(), *dx = EVP_CIPHER_CTX_new();
	tc_aead_ctx tx = { 0 }, rx = { 0 };
	struct iovec src = { NULL, len }, dst = { NULL, len };
	tc_session *a, *b, *bsnap;
	size_t l1, l2, c;
	unsigned fl;
	int rep;

	if (data == NULL || batch == NULL || pristine == NULL || plain == NULL || ex == NULL ||
	    dx == NULL)
		abort();
	randombytes_buf(data, len + 1);
	data[0] = 0;   /* the flags byte of the raw plaintext */
	src.iov_base = data + 1;
	dst.iov_base = plain;
	randombytes_buf(key, sizeof key);
	if (aead == TCPCRYPT_AEAD_AES_256_GCM && sod)
		crypto_aead_aes256gcm_beforenm(&st, key);
	if (EVP_EncryptInit_ex2(ex, evp_cipher(aead), key, nonce, NULL) != 1 ||
	    EVP_DecryptInit_ex2(dx, evp_cipher(aead), key, nonce, NULL) != 1)
		abort();
	a = new_session(TCPCRYPT_ROLE_A, aead);
	b = new_session(TCPCRYPT_ROLE_B, aead);
	if (tc_session_handshake(a, NULL, 0, &c, m1, sizeof m1, &l1) != 0 ||
	    tc_session_handshake(b, m1, l1, &c, m2, sizeof m2, &l2) != 1 ||
	    tc_session_handshake(a, m2, l2, &c, m1, sizeof m1, &l1) != 1)
		abort();
	bsnap = aligned_alloc(16, (tc_session_size() + 15) & ~(size_t)15);
	if (bsnap == NULL)
		abort();

	for (rep = 0; rep < reps; rep++) {
		/* seal: the engine as the shim calls it (from the application's
		 * buffer straight into the frame), then the raw EVP AEAD and
		 * libsodium's on the same plaintext */
		t = now();
		for (i = 0; i < nframes; i++)
			if (tc_session_sealv(a, &tx, &src, 1, 0, len, 0, batch + i * flen, flen,
			                     &outlen) != 0)
				abort();
		seal_e[rep] = now() - t;
		if (rep == 0)
			memcpy(pristine, batch, nframes * flen);
		t = now();
		for (i = 0; i < nframes; i++)
			evp_seal(ex, batch + i * flen + 3, batch + i * flen + 4 + len, data, len + 1,
			         batch + i * flen, nonce);
		seal_r[rep] = now() - t;
		t = now();
		for (i = 0; sod && i < nframes; i++)
			sodium_seal(aead, &st, key, batch + i * flen + 3, batch + i * flen + 4 + len,
			            data, len + 1, batch + i * flen, nonce);
		seal_s[rep] = now() - t;

		/* open: the first batch A sealed, from B's state before it,
		 * straight into the reader's buffer */
		if (rep == 0)
			memcpy(bsnap, b, tc_session_size());
		memcpy(b, bsnap, tc_session_size());
		memcpy(batch, pristine, nframes * flen);
		t = now();
		for (i = 0; i < nframes; i++)
			if (tc_session_open_to(b, &rx, batch + i * flen, flen, &dst, 1, 0, &d, &dlen,
			                       &fl) != 0 || dlen != len)
				abort();
		open_e[rep] = now() - t;
		/* raw: the same frames, sealed again raw with the fixed nonce */
		for (i = 0; i < nframes; i++)
			evp_seal(ex, batch + i * flen + 3, batch + i * flen + 4 + len, data, len + 1,
			         batch + i * flen, nonce);
		t = now();
		for (i = 0; i < nframes; i++)
			if (evp_open(dx, plain, batch + i * flen + 3, len + 1, batch + i * flen + 4 + len,
			             batch + i * flen, nonce) != 0)
				abort();
		open_r[rep] = now() - t;
		if (sod) {
			for (i = 0; i < nframes; i++)
				sodium_seal(aead, &st, key, batch + i * flen + 3, batch + i * flen + 4 + len,
				            data, len + 1, batch + i * flen, nonce);
			t = now();
			for (i = 0; i < nframes; i++)
				if (sodium_open(aead, &st, key, plain, batch + i * flen + 3, len + 1,
				                batch + i * flen + 4 + len, batch + i * flen, nonce) != 0)
					abort();
			open_s[rep] = now() - t;
		}
	}
	se = mb / median(seal_e, reps);
	sr = mb / median(seal_r, reps);
	oe = mb / median(open_e, reps);
	orw = mb / median(open_r, reps);
	ss = sod ? mb / median(seal_s, reps) : 0;
	os = sod ? mb / median(open_s, reps) : 0;
	ceil = sr < orw ? sr : orw;
	printf("%-16s %6zu | engine seal %7.1f open %7.1f | ceiling (EVP) seal %7.1f open %7.1f"
	       " | engine/ceiling %.3f %.3f |",
	       tc_aead_name(aead), len, se, oe, sr, orw, se / ceil, oe / ceil);
	if (sod)
		printf(" libsodium seal %7.1f open %7.1f\n", ss, os);
	else
		printf(" libsodium       -          -\n");
	fflush(stdout);
	tc_aead_ctx_free(&tx);
	tc_aead_ctx_free(&rx);
	EVP_CIPHER_CTX_free(ex);
	EVP_CIPHER_CTX_free(dx);
	tc_session_free(a);
	tc_session_free(b);
	tc_session_wipe(bsnap);
	free(bsnap);
	free(data);
	free(batch);
	free(pristine);
	free(plain);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1024, 16384, TC_FRAME_MAX_DATA };
	uint16_t aeads[TC_MAX_AEADS];
	size_t n, i, j;
	int reps = 31;
	const char *e = getenv("BENCH_REPS");

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: bench_engine (BENCH_REPS=n in the environment)\n");
		return 2;
	}
	if (e != NULL)
		reps = atoi(e);
	if (reps < 1 || reps > MAX_REPS)
		reps = 31;
	if (sodium_init() < 0)
		return 1;
	n = tc_aead_default_list(aeads, TC_MAX_AEADS);
	printf("tcpcrypt engine (seal from the application's buffer, open into the reader's) vs"
	       " the raw EVP AEAD (the ceiling) and libsodium's, MB/s of application data,"
	       " median of %d alternating runs\n", reps);
	for (i = 0; i < n; i++)
		for (j = 0; j < sizeof sizes / sizeof sizes[0]; j++)
			bench_one(aeads[i], sizes[j], reps);
	return 0;
}
