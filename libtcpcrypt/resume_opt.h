/*
 * resume_opt.h - the tcpcrypt resumption suboption of TCP-ENO (RFC 8548
 * 3.5), as pure functions: `TEP|0x80, 9 bytes of resume[i], 0-8 byte nonce`
 * (the host that was A in the original session sends resume[i][0..8], the
 * one that was B resume[i][9..17]). The negotiation of the TEP itself is
 * eno.c's; these functions read and write one suboption.
 */
#ifndef TC_RESUME_OPT_H
#define TC_RESUME_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "eno.h"
#include "session.h"   /* TC_RESUME_* */

/* Most bytes one resumption suboption takes: a length byte, the TEP
 * byte, the half and an 8-byte nonce. */
#define TC_RESUME_SUBOPT_MAX (2 + TC_RESUME_HALF_LEN + TC_RESUME_NONCE_MAX)

/* A parsed resumption suboption. */
struct tc_resume_offer {
	uint8_t tep;                          /* TEP id (glt, v bit cleared) */
	uint8_t half[TC_RESUME_HALF_LEN];     /* the sender's half of resume[i] */
	uint8_t nonce[TC_RESUME_NONCE_MAX];   /* the sender's nonce */
	uint8_t nonce_len;                    /* 0..8 */
};

/* Writes the resumption suboption of a host whose original role was
 * orig_role into out: when with_len, first the ENO length byte
 * (0x80 | (datalen - 1): needed unless the suboption is the option's
 * last), then tep|0x80, the half of resume for orig_role, and the nonce
 * (nonce_len <= 8). Returns the bytes written (10..19), -ENOSPC or -EINVAL. */
int tc_resume_subopt_build(uint8_t tep, uint8_t orig_role, const uint8_t resume[TC_RESUME_ID_LEN],
                           const uint8_t *nonce, size_t nonce_len, int with_len,
                           uint8_t *out, size_t cap);

/* Reads one TEP suboption of a parsed SYN-form option. Returns 1 for a
 * resumption offer (out has its half and nonce); 0 for an offer of fresh
 * key exchange: v=0, or v=1 with fewer than 9 data bytes (RFC 8548 3.5);
 * -EMSGSIZE for more than 9 + 8 data bytes (no valid tcpcrypt suboption:
 * the caller ignores it); -EINVAL for bad arguments. out->tep is set
 * whenever t is given. */
int tc_resume_subopt_parse(const struct tc_eno_tep *t, struct tc_resume_offer *out);

/* 1 if half is the peer's half of resume (the half of the original role
 * other than own_orig_role), 0 if not, -EINVAL for a bad role. The
 * comparison takes the same time whatever the bytes. */
int tc_resume_half_matches(const uint8_t resume[TC_RESUME_ID_LEN], uint8_t own_orig_role,
                           const uint8_t half[TC_RESUME_HALF_LEN]);

/* tc_resume_check_answer() outcomes */
#define TC_RESUME_ANSWER_FRESH    0   /* B offers fresh key exchange for the TEP: Init1/Init2 */
#define TC_RESUME_ANSWER_RESUMED  1   /* B resumes our ss[i]: *peer holds its nonce (nonce_b or nonce_a) */
#define TC_RESUME_ANSWER_IGNORED  2   /* B's resumption suboption for the TEP does not match: ignored
                                       * (RFC 8548 3.5); the TEP is not valid in B's option, and if
                                       * it was B's only TEP, ENO is off: plain TCP */

/*
 * A, having offered resumption of TEP tep with resume (resume[i] of a
 * secret whose original role was own_orig_role), reads B's SYN-form
 * option b: B's suboptions for tep are taken from the last (the last
 * valid one counts, RFC 8547 4.5); one offering fresh exchange gives
 * FRESH, a resumption suboption whose half matches gives RESUMED, one
 * whose half does not match (or malformed) is skipped. Returns the
 * outcome, -ENOENT when b has no suboption for tep, -EINVAL.
 */
int tc_resume_check_answer(const struct tc_eno_syn *b, uint8_t tep, uint8_t own_orig_role,
                           const uint8_t resume[TC_RESUME_ID_LEN], struct tc_resume_offer *peer);

#endif /* TC_RESUME_OPT_H */
