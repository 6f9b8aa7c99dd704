/*
 * hkdf.h - HKDF-SHA256 (RFC 5869) on libsodium's streaming HMAC-SHA256,
 * which takes keys of any length (libsodium 1.0.18 has no HKDF API).
 */
#ifndef TC_HKDF_H
#define TC_HKDF_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#define TC_HKDF_HASHLEN 32

/* HKDF-Extract in pieces: init with the salt, feed the input keying
 * material in any number of updates, final gives the 32-byte PRK. */
typedef crypto_auth_hmacsha256_state tc_hkdf_extract_state;
void tc_hkdf_extract_init(tc_hkdf_extract_state *st, const uint8_t *salt, size_t saltlen);
void tc_hkdf_extract_update(tc_hkdf_extract_state *st, const uint8_t *in, size_t len);
void tc_hkdf_extract_final(tc_hkdf_extract_state *st, uint8_t prk[TC_HKDF_HASHLEN]);

/* One-shot HKDF-Extract(salt, ikm). */
void tc_hkdf_extract(uint8_t prk[TC_HKDF_HASHLEN], const uint8_t *salt, size_t saltlen,
                     const uint8_t *ikm, size_t ikmlen);

/* HKDF-Expand(prk, info, outlen). Returns 0, or -EINVAL if outlen > 255 * 32.
 * out may alias prk. */
int tc_hkdf_expand(uint8_t *out, size_t outlen, const uint8_t *prk, size_t prklen,
                   const uint8_t *info, size_t infolen);

#endif /* TC_HKDF_H */
