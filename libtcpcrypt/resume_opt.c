/*
 * resume_opt.c - the tcpcrypt resumption suboption (RFC 8548 3.5); see
 * resume_opt.h. Pure: bytes in, bytes or a decision out. The suboption
 * comes from the peer's SYN: every length is checked before a read.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
#include "resume_opt.h"

#define SUB_V        0x80
#define SUB_LEN      0x80     /* ENO length byte: 100nnnnn, nnnnn = data length - 1 */

/* 1 if id is a TEP identifier (0x20-0x7f). */
static int tep_id_ok(uint8_t id)
{
	return id >= 0x20 && id < 0x80;
}

/* The offset in resume[i] of the half that a host of this original role
 * sends: A resume[0..8], B resume[9..17]. */
static size_t half_off(uint8_t orig_role)
{
	return orig_role == TCPCRYPT_ROLE_A ? 0 : TC_RESUME_HALF_LEN;
}

int tc_resume_subopt_build(uint8_t tep, uint8_t orig_role, const uint8_t resume[TC_RESUME_ID_LEN],
                           const uint8_t *nonce, size_t nonce_len, int with_len,
                           uint8_t *out, size_t cap)
{
	size_t dlen = TC_RESUME_HALF_LEN + nonce_len, n = 0;

	if (resume == NULL || out == NULL || (nonce == NULL && nonce_len > 0) ||
	    nonce_len > TC_RESUME_NONCE_MAX || !tep_id_ok(tep) ||
	    (orig_role != TCPCRYPT_ROLE_A && orig_role != TCPCRYPT_ROLE_B))
		return -EINVAL;
	if (cap < (with_len ? 1u : 0u) + 1 + dlen)
		return -ENOSPC;
	if (with_len)
		out[n++] = (uint8_t)(SUB_LEN | (dlen - 1));
	out[n++] = (uint8_t)(tep | SUB_V);
	memcpy(out + n, resume + half_off(orig_role), TC_RESUME_HALF_LEN);
	n += TC_RESUME_HALF_LEN;
	if (nonce_len > 0)
		memcpy(out + n, nonce, nonce_len);
	return (int)(n + nonce_len);
}

int tc_resume_subopt_parse(const struct tc_eno_tep *t, struct tc_resume_offer *out)
{
	size_t dlen;

	if (out != NULL)
		memset(out, 0, sizeof *out);
	if (t == NULL || out == NULL || (t->dlen > 0 && t->data == NULL))
		return -EINVAL;
	out->tep = t->byte & 0x7f;
	dlen = t->dlen;
	/* RFC 8548 3.5: fewer than 9 data bytes is an offer of fresh exchange */
	if (!(t->byte & SUB_V) || dlen < TC_RESUME_HALF_LEN)
		return 0;
	if (dlen > TC_RESUME_HALF_LEN + TC_RESUME_NONCE_MAX)
		return -EMSGSIZE;
	memcpy(out->half, t->data, TC_RESUME_HALF_LEN);
	out->nonce_len = (uint8_t)(dlen - TC_RESUME_HALF_LEN);
	if (out->nonce_len > 0)
		memcpy(out->nonce, t->data + TC_RESUME_HALF_LEN, out->nonce_len);
	return 1;
}

int tc_resume_half_matches(const uint8_t resume[TC_RESUME_ID_LEN], uint8_t own_orig_role,
                           const uint8_t half[TC_RESUME_HALF_LEN])
{
	if (resume == NULL || half == NULL ||
	    (own_orig_role != TCPCRYPT_ROLE_A && own_orig_role != TCPCRYPT_ROLE_B))
		return -EINVAL;
	/* the peer had the other original role */
	return sodium_memcmp(resume + half_off((uint8_t)!own_orig_role), half,
	                     TC_RESUME_HALF_LEN) == 0;
}

int tc_resume_check_answer(const struct tc_eno_syn *b, uint8_t tep, uint8_t own_orig_role,
                           const uint8_t resume[TC_RESUME_ID_LEN], struct tc_resume_offer *peer)
{
	struct tc_resume_offer o;
	size_t i, n;
	int r, seen = 0;

	if (peer != NULL)
		memset(peer, 0, sizeof *peer);
	if (b == NULL || resume == NULL || peer == NULL || !tep_id_ok(tep) ||
	    (own_orig_role != TCPCRYPT_ROLE_A && own_orig_role != TCPCRYPT_ROLE_B))
		return -EINVAL;
	n = b->ntep < TC_ENO_MAX_SUBOPTS ? b->ntep : TC_ENO_MAX_SUBOPTS;
	for (i = n; i-- > 0;) {
		if ((b->tep[i].byte & 0x7f) != tep)
			continue;
		seen = 1;
		r = tc_resume_subopt_parse(&b->tep[i], &o);
		if (r == 0) {
			*peer = o;
			return TC_RESUME_ANSWER_FRESH;
		}
		if (r == 1 && tc_resume_half_matches(resume, own_orig_role, o.half) == 1) {
			*peer = o;
			return TC_RESUME_ANSWER_RESUMED;
		}
		/* a half that does not match, or malformed: A ignores it */
	}
	sodium_memzero(&o, sizeof o);
	return seen ? TC_RESUME_ANSWER_IGNORED : -ENOENT;
}
