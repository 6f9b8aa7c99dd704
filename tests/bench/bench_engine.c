/*
 * bench_engine.c - seal and open throughput of the tcpcrypt engine next to
 * the raw libsodium AEAD call on the same buffers, for each AEAD this host
 * has, at 1 KiB, 16 KiB and 64 KiB (65518 bytes, the most data one frame
 * holds) of data per frame.
 *
 * Each measurement processes a batch of frames (about 1 MiB); engine and
 * raw runs alternate, and the median of BENCH_REPS (default 31) runs is
 * reported with the ratio engine / raw. The raw call encrypts the same
 * plaintext (flags byte + data, 3 bytes of AD) with the same key; the
 * engine adds the frame header, the nonce, the copy of the data into the
 * frame and the bookkeeping.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
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

/* Raw libsodium AEAD on one frame's plaintext (in place when m == c). */
static void raw_seal(uint16_t aead, const crypto_aead_aes256gcm_state *st, const uint8_t *key,
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

static int raw_open(uint16_t aead, const crypto_aead_aes256gcm_state *st, const uint8_t *key,
                    uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *tag,
                    const uint8_t *ad, const uint8_t *nonce)
{
	if (aead == TCPCRYPT_AEAD_AES_256_GCM)
		return crypto_aead_aes256gcm_decrypt_detached_afternm(m, NULL, c, clen, tag, ad, 3,
		                                                      nonce, st);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(m, NULL, c, clen, tag, ad, 3,
	                                                          nonce, key);
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

static int bench_one(uint16_t aead, size_t len, int reps)
{
	size_t flen = len + TC_FRAME_OVERHEAD, nframes = BATCH_BYTES / flen, i, outlen, dlen;
	uint8_t *data = malloc(len + 1), *batch = malloc(nframes * flen), *pristine = malloc(nframes * flen);
	uint8_t key[32], nonce[12] = { 0 }, m1[TC_HANDSHAKE_MAX], m2[TC_HANDSHAKE_MAX], *d;
	double seal_e[MAX_REPS], seal_r[MAX_REPS], seal_p[MAX_REPS], open_e[MAX_REPS], open_r[MAX_REPS], t;
	double se, sr, sp, oe, orw, mb = (double)(nframes * len) / 1e6;
	crypto_aead_aes256gcm_state st;
	tc_session *a, *b, *bsnap;
	size_t l1, l2, c;
	unsigned fl;
	int rep;

	if (data == NULL || batch == NULL || pristine == NULL)
		abort();
	randombytes_buf(data, len + 1);
	data[0] = 0;   /* the flags byte of the raw plaintext */
	randombytes_buf(key, sizeof key);
	if (aead == TCPCRYPT_AEAD_AES_256_GCM)
		crypto_aead_aes256gcm_beforenm(&st, key);
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
		/* seal: engine (a batch of consecutive frames), then raw */
		t = now();
		for (i = 0; i < nframes; i++)
			if (tc_session_seal(a, data + 1, len, 0, batch + i * flen, flen, &outlen) != 0)
				abort();
		seal_e[rep] = now() - t;
		if (rep == 0)
			memcpy(pristine, batch, nframes * flen);
		t = now();
		for (i = 0; i < nframes; i++)
			raw_seal(aead, &st, key, batch + i * flen + 3, batch + i * flen + 4 + len,
			         data, len + 1, batch + i * flen, nonce);
		seal_r[rep] = now() - t;
		/* seal with the data already in the frame buffer (no copy) */
		for (i = 0; i < nframes; i++)
			memcpy(batch + i * flen + 4, data + 1, len);
		t = now();
		for (i = 0; i < nframes; i++)
			if (tc_session_seal(a, batch + i * flen + 4, len, 0, batch + i * flen, flen,
			                    &outlen) != 0)
				abort();
		seal_p[rep] = now() - t;

		/* open: the first batch A sealed, from B's state before it */
		if (rep == 0)
			memcpy(bsnap, b, tc_session_size());
		memcpy(b, bsnap, tc_session_size());
		memcpy(batch, pristine, nframes * flen);
		t = now();
		for (i = 0; i < nframes; i++)
			if (tc_session_open(b, batch + i * flen, flen, &d, &dlen, &fl) != 0 || dlen != len)
				abort();
		open_e[rep] = now() - t;
		/* raw: the same frames, sealed again raw with the fixed nonce */
		for (i = 0; i < nframes; i++)
			raw_seal(aead, &st, key, batch + i * flen + 3, batch + i * flen + 4 + len,
			         data, len + 1, batch + i * flen, nonce);
		t = now();
		for (i = 0; i < nframes; i++)
			if (raw_open(aead, &st, key, batch + i * flen + 3, batch + i * flen + 3, len + 1,
			             batch + i * flen + 4 + len, batch + i * flen, nonce) != 0)
				abort();
		open_r[rep] = now() - t;
	}
	se = mb / median(seal_e, reps);
	sr = mb / median(seal_r, reps);
	sp = mb / median(seal_p, reps);
	oe = mb / median(open_e, reps);
	orw = mb / median(open_r, reps);
	printf("%-16s %6zu | seal %7.1f raw %7.1f ratio %.3f | in-place seal %7.1f ratio %.3f |"
	       " open %7.1f raw %7.1f ratio %.3f\n",
	       tc_aead_name(aead), len, se, sr, se / sr, sp, sp / sr, oe, orw, oe / orw);
	tc_session_free(a);
	tc_session_free(b);
	tc_session_wipe(bsnap);
	free(bsnap);
	free(data);
	free(batch);
	free(pristine);
	return 0;
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
	printf("tcpcrypt engine vs raw libsodium AEAD (MB/s of application data),"
	       " median of %d alternating runs\n", reps);
	for (i = 0; i < n; i++)
		for (j = 0; j < sizeof sizes / sizeof sizes[0]; j++)
			bench_one(aeads[i], sizes[j], reps);
	return 0;
}
