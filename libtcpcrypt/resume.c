/*
 * resume.c - the secret chain of session resumption (RFC 8548 3.5) and
 * its use rules: each ss[i] is handed out for one connection, ever; an
 * active opener takes the lowest i not yet tried; a passive opener finds
 * the index the peer's half-identifier names. See session.h.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
#include "keysched.h"
#include "session.h"

#define MATCH_WINDOW_MAX 64

/* 1 if role is TCPCRYPT_ROLE_A or TCPCRYPT_ROLE_B. */
static int role_ok(uint8_t role)
{
	return role == TCPCRYPT_ROLE_A || role == TCPCRYPT_ROLE_B;
}

int tc_resume_chain_init(struct tc_resume_chain *c, const uint8_t ss[TC_RESUME_SS_LEN],
                         uint64_t index, uint8_t orig_role, uint8_t tep, uint16_t aead)
{
	if (c == NULL || ss == NULL || index == 0 || !role_ok(orig_role))
		return -EINVAL;
	if (tep != TCPCRYPT_TEP_ECDHE_CURVE25519 || !tc_aead_supported(aead))
		return -ENOTSUP;
	memset(c, 0, sizeof *c);
	memcpy(c->ss, ss, sizeof c->ss);
	c->next = index;
	c->orig_role = orig_role;
	c->tep = tep;
	c->aead = aead;
	c->use = TC_RESUME_USE_ANY;
	return 0;
}

/* A chain that tc_resume_chain_init made (a cache may hold it in memory
 * others can write: every field is checked before use). */
static int chain_ok(const struct tc_resume_chain *c)
{
	return c->next != 0 && role_ok(c->orig_role) && c->use <= TC_RESUME_USE_PASSIVE;
}

/* Hands ss[next] out, with resume[next] and a fresh nonce, and steps the
 * chain to ss[next + 1]: the secret handed out is gone from the chain. */
static void hand_out(struct tc_resume_chain *c, struct tc_resume_secret *out, uint8_t use)
{
	memset(out, 0, sizeof *out);
	memcpy(out->ss, c->ss, sizeof out->ss);
	tc_ks_resume(out->resume, c->ss);
	randombytes_buf(out->nonce, sizeof out->nonce);
	out->index = c->next;
	out->orig_role = c->orig_role;
	out->tep = c->tep;
	out->aead = c->aead;
	tc_ks_next_ss(c->ss);
	c->next++;
	c->use = use;
}

int tc_resume_chain_take(struct tc_resume_chain *c, struct tc_resume_secret *out)
{
	if (c == NULL || out == NULL || !chain_ok(c))
		return -EINVAL;
	if (c->use == TC_RESUME_USE_PASSIVE)
		return -EPERM;
	if (c->next == UINT64_MAX)
		return -EOVERFLOW;
	if (sodium_init() < 0)
		return -EIO;
	hand_out(c, out, TC_RESUME_USE_ACTIVE);
	return 0;
}

/* The offset in resume[i] of the half the peer sends: the half of the
 * other original role (A sends resume[0..8], B resume[9..17]). */
static size_t peer_half_off(uint8_t own_orig_role)
{
	return own_orig_role == TCPCRYPT_ROLE_A ? TC_RESUME_HALF_LEN : 0;
}

int tc_resume_chain_match(struct tc_resume_chain *c, const uint8_t half[TC_RESUME_HALF_LEN],
                          unsigned window, struct tc_resume_secret *out)
{
	uint8_t ss[TC_RESUME_SS_LEN], res[TC_RESUME_ID_LEN];
	size_t off;
	unsigned k;
	int found = 0;

	if (c == NULL || half == NULL || out == NULL || window == 0 || window > MATCH_WINDOW_MAX ||
	    !chain_ok(c))
		return -EINVAL;
	if (c->use == TC_RESUME_USE_ACTIVE)
		return -EPERM;
	if (c->next > UINT64_MAX - window)
		return -EOVERFLOW;
	if (sodium_init() < 0)
		return -EIO;
	off = peer_half_off(c->orig_role);
	memcpy(ss, c->ss, sizeof ss);
	for (k = 0; k < window; k++) {
		tc_ks_resume(res, ss);
		if (sodium_memcmp(res + off, half, TC_RESUME_HALF_LEN) == 0) {
			found = 1;
			break;
		}
		tc_ks_next_ss(ss);
	}
	if (found) {
		/* ss[next + k]: the ones before it are never used */
		memcpy(c->ss, ss, sizeof c->ss);
		c->next += k;
		hand_out(c, out, TC_RESUME_USE_PASSIVE);
	}
	sodium_memzero(ss, sizeof ss);
	sodium_memzero(res, sizeof res);
	return found;
}

void tc_resume_chain_wipe(struct tc_resume_chain *c)
{
	if (c != NULL)
		sodium_memzero(c, sizeof *c);
}

void tc_resume_secret_wipe(struct tc_resume_secret *sec)
{
	if (sec != NULL)
		sodium_memzero(sec, sizeof *sec);
}
