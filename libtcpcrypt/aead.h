/*
 * aead.h - the AEADs of tcpcrypt by their RFC 8548 ids: AES-256-GCM
 * (0x0002, only where libsodium has the AES-NI code) and ChaCha20-Poly1305
 * (0x0010). 32-byte keys, 12-byte nonces, 16-byte tags.
 */
#ifndef TC_AEAD_H
#define TC_AEAD_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#define TC_AEAD_KEYLEN   32
#define TC_AEAD_NONCELEN 12
#define TC_AEAD_TAGLEN   16

/* A traffic key (RFC 8548 3.3): the AEAD key, expanded for AES-GCM, and
 * the 12-byte nonce randomizer NR. Flat, 16-byte aligned. */
typedef struct tc_aead_key {
	union {
		crypto_aead_aes256gcm_state aes;
		uint8_t chacha[TC_AEAD_KEYLEN];
	} u;
	uint8_t nr[TC_AEAD_NONCELEN];
	uint16_t id;
} tc_aead_key;

/* ae_key_len of an AEAD id, or 0 if this host cannot use it. */
size_t tc_aead_key_len(uint16_t id);

/* Sets k from keymat = K (ae_key_len bytes) || NR (12 bytes).
 * Returns 0 or -ENOTSUP. */
int tc_aead_key_set(tc_aead_key *k, uint16_t id, const uint8_t *keymat);

/* Wipes a key. */
void tc_aead_key_wipe(tc_aead_key *k);

/* Encrypts mlen bytes of m into c (c may equal m) and writes the tag. */
void tc_aead_seal(const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                  uint8_t *c, uint8_t tag[TC_AEAD_TAGLEN], const uint8_t *m, size_t mlen,
                  const uint8_t *ad, size_t adlen);

/* Decrypts clen bytes of c into m (m may equal c). Returns 0, or -EBADMSG
 * if the tag does not verify (m is then zeroed by libsodium or untouched). */
int tc_aead_open(const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                 uint8_t *m, const uint8_t *c, size_t clen, const uint8_t tag[TC_AEAD_TAGLEN],
                 const uint8_t *ad, size_t adlen);

#endif /* TC_AEAD_H */
