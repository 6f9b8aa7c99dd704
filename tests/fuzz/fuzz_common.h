/*
 * fuzz_common.h - fixed sessions for the engine's fuzz harnesses: the
 * inputs of tests/unit/kat/gen_kat.py (RFC 7748 6.1 keys, N_A = 0x40..,
 * N_B = 0x60.., transcript 45 03 23 45 04 01 23, ChaCha20-Poly1305), so the
 * KAT messages and frames are valid seeds.
 */
#ifndef TC_FUZZ_COMMON_H
#define TC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpcrypt/tcpcrypt.h"
#include "session.h"
#include "session_internal.h"

static const uint8_t fz_sk_a[32] = {
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
	0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
};
static const uint8_t fz_sk_b[32] = {
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
	0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb,
};
static const uint8_t fz_transcript[7] = { 0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0x23 };
static const uint16_t fz_chacha[1] = { TCPCRYPT_AEAD_CHACHA20_POLY1305 };

/* An aligned, zeroed block for one session. */
static tc_session *fz_alloc(void)
{
	size_t sz = (tc_session_size() + 15) & ~(size_t)15;
	tc_session *s = aligned_alloc(16, sz);

	if (s == NULL)
		abort();
	memset(s, 0, sz);
	return s;
}

/* Initialises s as the fixed A or B of the KAT. */
static void fz_init(tc_session *s, int role)
{
	uint8_t nonce[32];
	struct tc_session_params p = {
		.role = (uint8_t)role,
		.tep_byte = TCPCRYPT_TEP_ECDHE_CURVE25519,
		.transcript = fz_transcript,
		.transcript_len = sizeof fz_transcript,
		.aeads = fz_chacha,
		.naeads = 1,
	};
	int i;

	for (i = 0; i < 32; i++)
		nonce[i] = (uint8_t)((role == TCPCRYPT_ROLE_A ? 0x40 : 0x60) + i);
	if (tc_session_init_fixed(s, &p, role == TCPCRYPT_ROLE_A ? fz_sk_a : fz_sk_b, nonce) != 0)
		abort();
}

#endif /* TC_FUZZ_COMMON_H */
