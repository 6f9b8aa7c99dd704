/* keysched.c - the tcpcrypt key schedule (RFC 8548 3.3-3.5). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "hkdf.h"
#include "keysched.h"

int tc_ks_ecdh(uint8_t es[32], const uint8_t sk[32], const uint8_t pub[32])
{
	/* libsodium returns -1 when the result is all zeros (small-order pub). */
	if (crypto_scalarmult(es, sk, pub) != 0) {
		sodium_memzero(es, 32);
		return -EKEYREJECTED;
	}
	return 0;
}

void tc_ks_ss0(uint8_t ss0[32], const uint8_t n_a[32], const uint8_t *transcript, size_t tlen,
               const uint8_t *init1, size_t l1, const uint8_t *init2, size_t l2,
               const uint8_t es[32])
{
	tc_hkdf_extract_state st;

	tc_hkdf_extract_init(&st, n_a, 32);
	tc_hkdf_extract_update(&st, transcript, tlen);
	tc_hkdf_extract_update(&st, init1, l1);
	tc_hkdf_extract_update(&st, init2, l2);
	tc_hkdf_extract_update(&st, es, 32);
	tc_hkdf_extract_final(&st, ss0);
}

/* Expand with a one-byte info; the lengths used here are always valid. */
static void expand1(uint8_t *out, size_t len, const uint8_t *key, uint8_t konst)
{
	(void)tc_hkdf_expand(out, len, key, TC_KS_SECRETLEN, &konst, 1);
}

void tc_ks_from_ss0(struct tc_ks_session *out, uint8_t tep_byte, const uint8_t ss0[32])
{
	expand1(out->mk0, sizeof out->mk0, ss0, TC_CONST_REKEY);
	out->sessid[0] = tep_byte;
	expand1(out->sessid + 1, 32, ss0, TC_CONST_SESSID);
	expand1(out->resume, sizeof out->resume, ss0, TC_CONST_RESUME);
	expand1(out->ss1, sizeof out->ss1, ss0, TC_CONST_NEXTK);
}

void tc_ks_next_mk(uint8_t mk[32])
{
	expand1(mk, TC_KS_SECRETLEN, mk, TC_CONST_REKEY);
}

void tc_ks_traffic(uint8_t *out, size_t len, const uint8_t mk[32], uint8_t konst)
{
	expand1(out, len, mk, konst);
}
