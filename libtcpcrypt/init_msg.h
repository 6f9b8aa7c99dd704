/*
 * init_msg.h - the tcpcrypt key-exchange messages Init1 and Init2
 * (RFC 8548 4.1), TEP TCPCRYPT_ECDHE_Curve25519. Big-endian integers.
 *
 *   Init1: magic 0x15101a0e | u32 M | u8 K | K x u16 AEAD | N_A(32) | Pub_A(32)
 *   Init2: magic 0x097105e0 | u32 M | u16 AEAD | N_B(32) | Pub_B(32)
 *
 * Receivers accept and keep bytes between the end of Pub and M.
 */
#ifndef TC_INIT_MSG_H
#define TC_INIT_MSG_H

#include <stddef.h>
#include <stdint.h>

#define TC_INIT1_MAGIC    0x15101a0eu
#define TC_INIT2_MAGIC    0x097105e0u
#define TC_INIT_NONCELEN  32
#define TC_INIT_PUBLEN    32
#define TC_INIT2_LEN      (10 + TC_INIT_NONCELEN + TC_INIT_PUBLEN)   /* 74 */
#define TC_INIT1_LEN(k)   (9 + 2 * (size_t)(k) + TC_INIT_NONCELEN + TC_INIT_PUBLEN)

/* A parsed Init1; the pointers point into the parsed message. */
struct tc_init1 {
	uint8_t naeads;
	const uint8_t *aeads;  /* naeads x u16 BE */
	const uint8_t *nonce;  /* N_A */
	const uint8_t *pub;    /* Pub_A */
};

/* A parsed Init2. */
struct tc_init2 {
	uint16_t aead;
	const uint8_t *nonce;  /* N_B */
	const uint8_t *pub;    /* Pub_B */
};

/* Builds an Init message into out. Return the length, or -ENOSPC/-EINVAL. */
int tc_init1_build(uint8_t *out, size_t cap, const uint16_t *aeads, size_t naeads,
                   const uint8_t nonce[TC_INIT_NONCELEN], const uint8_t pub[TC_INIT_PUBLEN]);
int tc_init2_build(uint8_t *out, size_t cap, uint16_t aead,
                   const uint8_t nonce[TC_INIT_NONCELEN], const uint8_t pub[TC_INIT_PUBLEN]);

/* How long the Init message whose first have bytes are in buf is:
 * returns the total length M once the header tells it (and M is valid),
 * a smaller number of bytes still needed to decide (> have), or -EPROTO
 * for a wrong magic, an M shorter than the fixed part or above maxlen. */
long tc_init_msg_len(uint32_t magic, const uint8_t *buf, size_t have, size_t maxlen);

/* Parses a whole message of len == M bytes. 0 or -EPROTO. */
int tc_init1_parse(const uint8_t *buf, size_t len, struct tc_init1 *out);
int tc_init2_parse(const uint8_t *buf, size_t len, struct tc_init2 *out);

/* 1 if the parsed Init1 offers the AEAD id. */
int tc_init1_offers(const struct tc_init1 *m, uint16_t id);

#endif /* TC_INIT_MSG_H */
