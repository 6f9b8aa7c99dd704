/*
 * aead.h - the AEADs of tcpcrypt by their RFC 8548 ids, from OpenSSL's
 * libcrypto (EVP): AES-128-GCM (0x0001) and AES-256-GCM (0x0002), where the
 * CPU has AES-NI and PCLMULQDQ, and ChaCha20-Poly1305 (0x0010). 16- or
 * 32-byte keys, 12-byte nonces, 16-byte tags.
 *
 * A key (tc_aead_key) is flat bytes, safe in memory shared between
 * processes. The cipher state that OpenSSL builds from it (an
 * EVP_CIPHER_CTX, with the expanded key) is process-local: a tc_aead_ctx,
 * which the caller keeps next to the session (see session.h) and which
 * loads a key again whenever the key's tag differs from the one it holds.
 */
#ifndef TC_AEAD_H
#define TC_AEAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "session.h"   /* tc_aead_ctx */

#define TC_AEAD_KEYMAX   32
#define TC_AEAD_NONCELEN 12
#define TC_AEAD_TAGLEN   16

/* A traffic key (RFC 8548 3.3): the AEAD key and the 12-byte nonce
 * randomizer NR, with a tag that names this key among all the keys a
 * tc_aead_ctx may meet (never 0). */
typedef struct tc_aead_key {
	uint8_t key[TC_AEAD_KEYMAX];
	uint8_t nr[TC_AEAD_NONCELEN];
	uint8_t keylen;
	uint16_t id;
	uint64_t tag;
} tc_aead_key;

/* ae_key_len of an AEAD id, or 0 if this host cannot use it. */
size_t tc_aead_key_len(uint16_t id);

/* Sets k from keymat = K (ae_key_len bytes) || NR (12 bytes), naming it
 * tag (0 is replaced by 1). Returns 0 or -ENOTSUP. */
int tc_aead_key_set(tc_aead_key *k, uint16_t id, const uint8_t *keymat, uint64_t tag);

/* Wipes a key. */
void tc_aead_key_wipe(tc_aead_key *k);

/*
 * Seals the concatenation of the nin plaintext pieces in[] (their lengths
 * add up to mlen) into c (mlen bytes; a piece may be c itself at the same
 * position, never overlap otherwise) and writes the tag. x is the
 * caller's context (NULL: a temporary one). Returns 0, or -ENOMEM / -EIO
 * when libcrypto fails (nothing usable was written).
 */
int tc_aead_sealv(tc_aead_ctx *x, const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                  const uint8_t *ad, size_t adlen, const struct iovec *in, int nin,
                  uint8_t *c, uint8_t tag[TC_AEAD_TAGLEN]);

/* Opens clen bytes of c into the pieces out[] (lengths adding up to clen;
 * a piece may be c itself at the same position). Returns 0, -EBADMSG when
 * the tag does not verify (every output byte is then zeroed), -ENOMEM or
 * -EIO (likewise zeroed). */
int tc_aead_openv(tc_aead_ctx *x, const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                  const uint8_t *ad, size_t adlen, const uint8_t *c, size_t clen,
                  const uint8_t tag[TC_AEAD_TAGLEN], const struct iovec *out, int nout);

/* The same in steps, for callers that gather or scatter the message
 * themselves: begin (with the AD), any number of updates (out may equal
 * in; outputs of consecutive updates are consecutive), then seal_end or
 * open_end. x must not be NULL. An open_end other than 0 means the
 * caller must wipe what the updates wrote (tc_aead_wipe_iov). */
int tc_aead_begin(tc_aead_ctx *x, const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                  int enc, const uint8_t *ad, size_t adlen);
int tc_aead_update(tc_aead_ctx *x, uint8_t *out, const uint8_t *in, size_t len);
int tc_aead_seal_end(tc_aead_ctx *x, uint8_t tag[TC_AEAD_TAGLEN]);
int tc_aead_open_end(tc_aead_ctx *x, const uint8_t tag[TC_AEAD_TAGLEN]);
void tc_aead_wipe_iov(const struct iovec *out, int nout);

/* One-piece forms with a temporary context (tests, tools). */
int tc_aead_seal(const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                 uint8_t *c, uint8_t tag[TC_AEAD_TAGLEN], const uint8_t *m, size_t mlen,
                 const uint8_t *ad, size_t adlen);
int tc_aead_open(const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                 uint8_t *m, const uint8_t *c, size_t clen, const uint8_t tag[TC_AEAD_TAGLEN],
                 const uint8_t *ad, size_t adlen);

/* 1 when the CPU has the AES instructions (AES-NI and PCLMULQDQ) that the
 * AES-GCM AEADs need here; without them they are never offered. */
int tc_aead_cpu_has_aes(void);

#endif /* TC_AEAD_H */
