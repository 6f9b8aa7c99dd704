/*
 * keysched.h - the tcpcrypt key schedule (RFC 8548 3.3-3.5), HKDF-SHA256:
 *   ES     = X25519(sk, peer_pub)
 *   ss[0]  = PRK = HKDF-Extract(salt N_A, eno_transcript | Init1 | Init2 | ES)
 *   mk[0]  = Expand(ss[0], CONST_REKEY, 32)   mk[j] = Expand(mk[j-1], CONST_REKEY, 32)
 *   k_ab/k_ba[j] = Expand(mk[j], CONST_KEY_A/B, ae_key_len + 12)
 *   sessid = tep | Expand(ss[0], CONST_SESSID, 32)   resume = Expand(ss[0], CONST_RESUME, 18)
 *   ss[1]  = Expand(ss[0], CONST_NEXTK, 32)
 * and the resumption chain (RFC 8548 3.5), for every i:
 *   ss[i+1]   = Expand(ss[i], CONST_NEXTK, 32)
 *   resume[i] = Expand(ss[i], CONST_RESUME, 18)
 *   sn[i] = nonce_a | nonce_b (empty for the fresh session, i = 0)
 *   mk[0] = Expand(ss[i], CONST_REKEY | sn[i], 32)
 *   sessid = tep | Expand(ss[i], CONST_SESSID | sn[i], 32)   (tep = 0xa3 resumed)
 */
#ifndef TC_KEYSCHED_H
#define TC_KEYSCHED_H

#include <stddef.h>
#include <stdint.h>

#define TC_CONST_NEXTK   0x01
#define TC_CONST_SESSID  0x02
#define TC_CONST_REKEY   0x03
#define TC_CONST_KEY_A   0x04
#define TC_CONST_KEY_B   0x05
#define TC_CONST_RESUME  0x06

#define TC_KS_SECRETLEN  32
#define TC_KS_RESUMELEN  18
#define TC_KS_TRAFFIC_MAX 64
#define TC_KS_SN_MAX     16      /* sn[i] = nonce_a | nonce_b, 0-8 bytes each */

/* ES = X25519(sk, pub); -EKEYREJECTED for an all-zero result. */
int tc_ks_ecdh(uint8_t es[32], const uint8_t sk[32], const uint8_t pub[32]);

/* ss[0] = HKDF-Extract(N_A, transcript | init1 | init2 | es). */
void tc_ks_ss0(uint8_t ss0[32], const uint8_t n_a[32], const uint8_t *transcript, size_t tlen,
               const uint8_t *init1, size_t l1, const uint8_t *init2, size_t l2,
               const uint8_t es[32]);

/* What a session derives from ss[i] and sn[i]: a fresh session from ss[0]
 * (sn empty), a resumed one from ss[i], i >= 1. */
struct tc_ks_session {
	uint8_t mk0[TC_KS_SECRETLEN];
	uint8_t sessid[33];
	uint8_t resume[TC_KS_RESUMELEN];      /* resume[i] */
	uint8_t ss1[TC_KS_SECRETLEN];         /* ss[i+1] */
};
void tc_ks_from_ss0(struct tc_ks_session *out, uint8_t tep_byte, const uint8_t ss0[32]);

/* What a session derives from ss[i] and sn[i] (snlen <= TC_KS_SN_MAX;
 * sn may be NULL when snlen is 0): mk[0], the session ID (byte 0 is
 * tep_byte), resume[i] and ss[i+1]. tc_ks_from_ss0 is this with sn empty.
 * Returns 0, or -EINVAL for an sn longer than TC_KS_SN_MAX. */
int tc_ks_from_ss(struct tc_ks_session *out, uint8_t tep_byte, const uint8_t ss[32],
                  const uint8_t *sn, size_t snlen);

/* Steps the chain in place: ss[i] becomes ss[i+1]; ss[i] is gone (the
 * HKDF state that held it is wiped by tc_hkdf_expand). */
void tc_ks_next_ss(uint8_t ss[32]);

/* resume[i] = Expand(ss[i], CONST_RESUME, 18). */
void tc_ks_resume(uint8_t out[TC_KS_RESUMELEN], const uint8_t ss[32]);

/* mk[j] = Expand(mk[j-1], CONST_REKEY, 32), in place. */
void tc_ks_next_mk(uint8_t mk[32]);

/* k_ab[j] (konst CONST_KEY_A) or k_ba[j] (CONST_KEY_B), len bytes (<= 64). */
void tc_ks_traffic(uint8_t *out, size_t len, const uint8_t mk[32], uint8_t konst);

#endif /* TC_KEYSCHED_H */
