/*
 * traffic_key.c - see traffic_key.h.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>

#include "keysched.h"
#include "traffic_key.h"

int tc_traffic_key_tagged(tc_aead_key *k, uint16_t aead, const uint8_t mk[32], int a_to_b,
                          uint64_t tag)
{
	uint8_t km[TC_KS_TRAFFIC_MAX];
	size_t klen = tc_aead_key_len(aead);
	int r;

	if (klen == 0 || klen + TC_AEAD_NONCELEN > sizeof km)
		return -ENOTSUP;
	tc_ks_traffic(km, klen + TC_AEAD_NONCELEN, mk, a_to_b ? TC_CONST_KEY_A : TC_CONST_KEY_B);
	r = tc_aead_key_set(k, aead, km, tag);
	sodium_memzero(km, sizeof km);
	return r;
}

int tc_traffic_key(tc_aead_key *k, uint16_t aead, const uint8_t mk[32], int a_to_b)
{
	static uint64_t serial;    /* each key its own tag (aead.h) */

	return tc_traffic_key_tagged(k, aead, mk, a_to_b,
				     __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED) | (1ull << 63));
}
