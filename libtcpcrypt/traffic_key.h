/*
 * traffic_key.h - the traffic key of one direction for one key generation
 * (RFC 8548 3.3): k_ab[j] or k_ba[j] = Expand(mk[j], CONST_KEY_A/B,
 * ae_key_len + 12), set as an AEAD key. Used by session.c when keys
 * change, and by readers of a key log (tcpcrypt-decrypt) that start from ss[0].
 */
#ifndef TC_TRAFFIC_KEY_H
#define TC_TRAFFIC_KEY_H

#include <stdint.h>

#include "aead.h"

/* Sets k to A's sending key (a_to_b != 0) or B's, of the generation
 * whose mk is given, for AEAD id aead. 0, or -ENOTSUP for an AEAD this
 * host cannot use. */
int tc_traffic_key(tc_aead_key *k, uint16_t aead, const uint8_t mk[32], int a_to_b);

/* The same with the key's tag given (the session engine's epoch and
 * serial, so that a context shared across processes knows when to
 * reload); tc_traffic_key() takes a fresh process-local tag. */
int tc_traffic_key_tagged(tc_aead_key *k, uint16_t aead, const uint8_t mk[32], int a_to_b,
                          uint64_t tag);

#endif /* TC_TRAFFIC_KEY_H */
