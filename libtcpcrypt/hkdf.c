/* hkdf.c - HKDF-SHA256 (RFC 5869) on the streaming HMAC-SHA256 of libsodium. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "hkdf.h"

void tc_hkdf_extract_init(tc_hkdf_extract_state *st, const uint8_t *salt, size_t saltlen)
{
	static const uint8_t zeros[TC_HKDF_HASHLEN];

	/* RFC 5869 2.2: an absent salt is HashLen zero bytes. */
	if (saltlen == 0)
		crypto_auth_hmacsha256_init(st, zeros, sizeof zeros);
	else
		crypto_auth_hmacsha256_init(st, salt, saltlen);
}

void tc_hkdf_extract_update(tc_hkdf_extract_state *st, const uint8_t *in, size_t len)
{
	if (len > 0)
		crypto_auth_hmacsha256_update(st, in, len);
}

void tc_hkdf_extract_final(tc_hkdf_extract_state *st, uint8_t prk[TC_HKDF_HASHLEN])
{
	crypto_auth_hmacsha256_final(st, prk);
	sodium_memzero(st, sizeof *st);
}

void tc_hkdf_extract(uint8_t prk[TC_HKDF_HASHLEN], const uint8_t *salt, size_t saltlen,
                     const uint8_t *ikm, size_t ikmlen)
{
	tc_hkdf_extract_state st;

	tc_hkdf_extract_init(&st, salt, saltlen);
	tc_hkdf_extract_update(&st, ikm, ikmlen);
	tc_hkdf_extract_final(&st, prk);
}

/* T(n) = HMAC(prk, T(n-1) | info | n), out = T(1) | T(2) | ... truncated.
 * The PRK is keyed into a state once and copied per block, so out may
 * overwrite prk. */
int tc_hkdf_expand(uint8_t *out, size_t outlen, const uint8_t *prk, size_t prklen,
                   const uint8_t *info, size_t infolen)
{
	crypto_auth_hmacsha256_state keyed, st;
	uint8_t t[TC_HKDF_HASHLEN];
	size_t done = 0, n;
	uint8_t ctr = 0;

	if (outlen > 255 * TC_HKDF_HASHLEN)
		return -EINVAL;
	crypto_auth_hmacsha256_init(&keyed, prk, prklen);
	while (done < outlen) {
		st = keyed;
		if (ctr > 0)
			crypto_auth_hmacsha256_update(&st, t, sizeof t);
		if (infolen > 0)
			crypto_auth_hmacsha256_update(&st, info, infolen);
		ctr++;
		crypto_auth_hmacsha256_update(&st, &ctr, 1);
		crypto_auth_hmacsha256_final(&st, t);
		n = outlen - done < sizeof t ? outlen - done : sizeof t;
		memcpy(out + done, t, n);
		done += n;
	}
	sodium_memzero(&keyed, sizeof keyed);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(t, sizeof t);
	return 0;
}
