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

/* Expand with info = konst | sn (sn[i] of a resumed session, or empty). */
static void expand_sn(uint8_t *out, size_t len, const uint8_t *key, uint8_t konst,
                      const uint8_t *sn, size_t snlen)
{
	uint8_t info[1 + TC_KS_SN_MAX];

	info[0] = konst;
	if (snlen > 0)
		memcpy(info + 1, sn, snlen);
	(void)tc_hkdf_expand(out, len, key, TC_KS_SECRETLEN, info, 1 + snlen);
	sodium_memzero(info, sizeof info);
}

int tc_ks_from_ss(struct tc_ks_session *out, uint8_t tep_byte, const uint8_t ss[32],
                  const uint8_t *sn, size_t snlen)
{
	if (snlen > TC_KS_SN_MAX || (sn == NULL && snlen > 0))
		return -EINVAL;
	expand_sn(out->mk0, sizeof out->mk0, ss, TC_CONST_REKEY, sn, snlen);
	out->sessid[0] = tep_byte;
	expand_sn(out->sessid + 1, 32, ss, TC_CONST_SESSID, sn, snlen);
	tc_ks_resume(out->resume, ss);
	expand1(out->ss1, sizeof out->ss1, ss, TC_CONST_NEXTK);
	return 0;
}

void tc_ks_from_ss0(struct tc_ks_session *out, uint8_t tep_byte, const uint8_t ss0[32])
{
	(void)tc_ks_from_ss(out, tep_byte, ss0, NULL, 0);
}

void tc_ks_next_ss(uint8_t ss[32])
{
	expand1(ss, TC_KS_SECRETLEN, ss, TC_CONST_NEXTK);
}

void tc_ks_resume(uint8_t out[TC_KS_RESUMELEN], const uint8_t ss[32])
{
	expand1(out, TC_KS_RESUMELEN, ss, TC_CONST_RESUME);
}

void tc_ks_next_mk(uint8_t mk[32])
{
	expand1(mk, TC_KS_SECRETLEN, mk, TC_CONST_REKEY);
}

void tc_ks_traffic(uint8_t *out, size_t len, const uint8_t mk[32], uint8_t konst)
{
	expand1(out, len, mk, konst);
}
