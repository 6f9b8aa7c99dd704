/*
 * eno.c - TCP-ENO (RFC 8547): the option codec and the negotiation rules.
 *
 * Everything here is pure: bytes in, bytes or a decision out. The parser
 * is attack surface (the bytes come straight from the peer's SYN), so
 * every index is checked against the option length before it is read.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "eno.h"
#include "session.h"   /* TC_RESUME_HALF_LEN */
#include "tcpcrypt/tcpcrypt.h"

/* Suboption byte ranges (RFC 8547 4.1, table 1). */
#define SUB_GLOBAL_END   0x20  /* 0x00-0x1f: global suboption */
#define SUB_TEP_END      0x80  /* 0x20-0x7f: TEP without data */
#define SUB_LEN_END      0xa0  /* 0x80-0x9f: length byte; 0xa0-0xff: TEP with data */
#define SUB_V            0x80
#define SUB_LEN_MASK     0x1f

/* tcpcrypt (RFC 8548 3.5): a v=1 suboption carrying at least this many data
 * bytes asks for session resumption, which this negotiation does not agree
 * to (resume_opt.c reads and writes that suboption). Less data means an
 * offer of fresh key agreement. */
#define RESUME_MIN_DATA  TC_RESUME_HALF_LEN

/* TCP option kinds that tc_eno_find treats specially. */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1

/* Appends one TEP to a parsed option; -EINVAL if the table is full (it
 * cannot be for a 40-byte option, but the bound is checked anyway). */
static int add_tep(struct tc_eno_syn *s, uint8_t byte, uint8_t dlen, const uint8_t *data)
{
	struct tc_eno_tep *t;

	if (s->ntep >= TC_ENO_MAX_SUBOPTS)
		return -EINVAL;
	t = &s->tep[s->ntep++];
	t->byte = byte;
	t->id = byte & 0x7f;
	t->v = (byte & SUB_V) ? 1 : 0;
	t->dlen = dlen;
	t->data = data;
	return 0;
}

int tc_eno_parse_syn(const uint8_t *opt, size_t len, struct tc_eno_syn *out)
{
	size_t i;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	if (!opt || len < 2 || len > TCPCRYPT_ENO_OPT_MAX)
		return -EINVAL;
	if (opt[0] != TCPCRYPT_ENO_KIND || opt[1] != len)
		return -EINVAL;

	i = 2;
	while (i < len) {
		uint8_t b = opt[i];

		if (b < SUB_GLOBAL_END) {
			/* Only the first global suboption counts. */
			if (!out->has_global) {
				out->global = b;
				out->has_global = 1;
			}
			i++;
		} else if (b < SUB_TEP_END) {
			rc = add_tep(out, b, 0, NULL);
			if (rc < 0)
				goto bad;
			i++;
		} else if (b < SUB_LEN_END) {
			/* Length byte: the next byte is a TEP with v=1 and
			 * exactly nnnnn+1 data bytes. */
			size_t n = (size_t)(b & SUB_LEN_MASK) + 1;

			if (len - i < 2 || opt[i + 1] < SUB_LEN_END)
				goto bad;
			if (n > len - i - 2)
				goto bad;
			rc = add_tep(out, opt[i + 1], (uint8_t)n, opt + i + 2);
			if (rc < 0)
				goto bad;
			i += 2 + n;
		} else {
			/* TEP with v=1: its data runs to the end of the option. */
			size_t n = len - i - 1;

			rc = add_tep(out, b, (uint8_t)n, n ? opt + i + 1 : NULL);
			if (rc < 0)
				goto bad;
			break;
		}
	}
	return 0;
bad:
	memset(out, 0, sizeof *out);
	return -EINVAL;
}

int tc_eno_find(const uint8_t *opts, size_t optslen, const uint8_t **opt, size_t *len)
{
	size_t i = 0;
	int count = 0;

	if (opt)
		*opt = NULL;
	if (len)
		*len = 0;
	if (!opts && optslen)
		return -EINVAL;

	while (i < optslen) {
		uint8_t kind = opts[i];
		size_t l;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (optslen - i < 2)
			goto bad;
		l = opts[i + 1];
		if (l < 2 || l > optslen - i)
			goto bad;
		if (kind == TCPCRYPT_ENO_KIND) {
			if (count == 0) {
				if (opt)
					*opt = opts + i;
				if (len)
					*len = l;
			}
			count++;
		}
		i += l;
	}
	return count;
bad:
	if (opt)
		*opt = NULL;
	if (len)
		*len = 0;
	return -EINVAL;
}

/* 1 if id is a TEP identifier (0x20-0x7f). */
static int tep_id_ok(uint8_t id)
{
	return id >= SUB_GLOBAL_END && id < SUB_TEP_END;
}

/* Checks a policy; 0 or -EINVAL. */
static int policy_ok(const struct tc_eno_policy *pol)
{
	if (!pol || pol->nteps > sizeof pol->teps || pol->app_aware > 2)
		return -EINVAL;
	return 0;
}

/* 1 if our policy accepts TEP id. */
static int policy_has(const struct tc_eno_policy *pol, uint8_t id)
{
	for (size_t i = 0; i < pol->nteps; i++)
		if (pol->teps[i] == id && tep_id_ok(id))
			return 1;
	return 0;
}

/* 1 if the parsed option offers TEP id, in any form: a v=1 suboption
 * (resumption offer) also offers fresh key agreement with the same TEP. */
static int syn_offers(const struct tc_eno_syn *s, uint8_t id)
{
	for (size_t i = 0; i < s->ntep; i++)
		if (s->tep[i].id == id)
			return 1;
	return 0;
}

/* Our global suboption byte (a and b bits). */
static uint8_t global_byte(const struct tc_eno_policy *pol, int b)
{
	return (uint8_t)((pol->app_aware ? TC_ENO_GLOBAL_A : 0) | (b ? TC_ENO_GLOBAL_B : 0));
}

/* Writes the suboptions of our offer into out: the global byte when a or
 * b is set (always, with b=1, for a listener), then the TEP ids. */
static int build_content(const struct tc_eno_policy *pol, int listener, uint8_t *out, size_t cap)
{
	uint8_t g;
	size_t n = 0;

	if (policy_ok(pol) < 0 || (!out && cap))
		return -EINVAL;
	for (size_t i = 0; i < pol->nteps; i++)
		if (!tep_id_ok(pol->teps[i]))
			return -EINVAL;

	g = global_byte(pol, listener || pol->passive);
	if (g || listener) {
		if (n >= cap)
			return -ENOSPC;
		out[n++] = g;
	}
	for (size_t i = 0; i < pol->nteps; i++) {
		if (n >= cap)
			return -ENOSPC;
		out[n++] = pol->teps[i];
	}
	if (n > TCPCRYPT_ENO_CONTENT_MAX)
		return -ENOSPC;
	return (int)n;
}

int tc_eno_build_syn(const struct tc_eno_policy *pol, uint8_t *out, size_t cap)
{
	int n;

	if (!out || policy_ok(pol) < 0)
		return -EINVAL;
	if (cap < 2)
		return -ENOSPC;
	n = build_content(pol, 0, out + 2, cap - 2);
	if (n < 0)
		return n;
	out[0] = TCPCRYPT_ENO_KIND;
	out[1] = (uint8_t)(n + 2);
	return n + 2;
}

int tc_eno_build_offer(const struct tc_eno_policy *pol, int listener, uint8_t *out, size_t cap)
{
	if (!out)
		return -EINVAL;
	return build_content(pol, listener, out, cap);
}

int tc_eno_build_nonsyn(uint8_t *out, size_t cap)
{
	if (!out)
		return -EINVAL;
	if (cap < 2)
		return -ENOSPC;
	out[0] = TCPCRYPT_ENO_KIND;
	out[1] = 2;
	return 2;
}

int tc_eno_nonsyn_present(const uint8_t *opts, size_t optslen)
{
	int n = tc_eno_find(opts, optslen, NULL, NULL);

	if (n < 0)
		return n;
	return n > 0;
}

/* Sets *reason (when asked for) and returns 0: "send no ENO". */
static int no_answer(int *reason, int r)
{
	if (reason)
		*reason = r;
	return 0;
}

int tc_eno_answer_syn(const struct tc_eno_policy *pol, const uint8_t *a_opt, size_t a_len,
                      int a_count, uint8_t *out, size_t cap, int *reason)
{
	struct tc_eno_syn a;
	uint8_t chosen = 0;
	int found = 0;

	if (policy_ok(pol) < 0 || !out)
		return -EINVAL;
	if (a_count < 0)
		return no_answer(reason, TCPCRYPT_ENO_R_MALFORMED);
	if (a_count == 0 || !a_opt || a_len == 0)
		return no_answer(reason, TCPCRYPT_ENO_R_PEER_NO_ENO);
	if (a_count > 1)
		return no_answer(reason, TCPCRYPT_ENO_R_TWO_OPTIONS);
	if (tc_eno_parse_syn(a_opt, a_len, &a) < 0)
		return no_answer(reason, TCPCRYPT_ENO_R_MALFORMED);
	if (a.ntep == 0)
		return no_answer(reason, TCPCRYPT_ENO_R_VACUOUS);
	if (a.global & TC_ENO_GLOBAL_B)
		return no_answer(reason, TCPCRYPT_ENO_R_ROLE_CLASH);
	if (pol->app_aware == 2 && !(a.global & TC_ENO_GLOBAL_A))
		return no_answer(reason, TCPCRYPT_ENO_R_APP_AWARE);

	/* Our most preferred TEP (last in the policy) that A offered. */
	for (size_t i = pol->nteps; i-- > 0;) {
		if (tep_id_ok(pol->teps[i]) && syn_offers(&a, pol->teps[i])) {
			chosen = pol->teps[i];
			found = 1;
			break;
		}
	}
	if (!found)
		return no_answer(reason, TCPCRYPT_ENO_R_NO_COMMON_TEP);

	if (cap < 4) {
		if (reason)
			*reason = TCPCRYPT_ENO_R_NO_SPACE;
		return -ENOSPC;
	}
	out[0] = TCPCRYPT_ENO_KIND;
	out[1] = 4;
	out[2] = global_byte(pol, 1);
	out[3] = chosen;
	if (reason)
		*reason = TCPCRYPT_ENO_R_OK;
	return 4;
}

/* 1 if B's suboption t can be the negotiated TEP for us: in our policy,
 * offered by A, and with data we accept (no resumption request). */
static int tep_valid(const struct tc_eno_policy *pol, const struct tc_eno_syn *a,
                     const struct tc_eno_tep *t)
{
	if (!policy_has(pol, t->id) || !syn_offers(a, t->id))
		return 0;
	if (t->v && t->dlen >= RESUME_MIN_DATA)
		return 0;
	return 1;
}

/* Records a failed negotiation. */
static int fail(struct tc_eno_outcome *out, int reason)
{
	out->negotiated = 0;
	out->reason = (uint8_t)reason;
	return 0;
}

int tc_eno_negotiate(const struct tc_eno_policy *pol, const uint8_t *local, size_t llen,
                     const uint8_t *peer, size_t plen, struct tc_eno_outcome *out)
{
	struct tc_eno_syn l, p;
	const struct tc_eno_syn *as, *bs;
	const uint8_t *aopt, *bopt;
	size_t alen, blen;
	int lb, pb;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	if (policy_ok(pol) < 0 || (!local && llen) || (!peer && plen))
		return -EINVAL;

	if (llen == 0)
		return fail(out, TCPCRYPT_ENO_R_NOT_OPTED_IN);
	if (plen == 0)
		return fail(out, TCPCRYPT_ENO_R_PEER_NO_ENO);
	if (tc_eno_parse_syn(local, llen, &l) < 0 || tc_eno_parse_syn(peer, plen, &p) < 0)
		return fail(out, TCPCRYPT_ENO_R_MALFORMED);

	out->peer_a = (p.global & TC_ENO_GLOBAL_A) ? 1 : 0;
	lb = l.global & TC_ENO_GLOBAL_B;
	pb = p.global & TC_ENO_GLOBAL_B;
	out->role = lb ? TCPCRYPT_ROLE_B : TCPCRYPT_ROLE_A;

	if (p.ntep == 0 || l.ntep == 0)
		return fail(out, TCPCRYPT_ENO_R_VACUOUS);
	if (lb == pb)
		return fail(out, TCPCRYPT_ENO_R_ROLE_CLASH);
	if (pol->app_aware == 2 && !out->peer_a)
		return fail(out, TCPCRYPT_ENO_R_APP_AWARE);

	if (lb) {
		as = &p, aopt = peer, alen = plen;
		bs = &l, bopt = local, blen = llen;
	} else {
		as = &l, aopt = local, alen = llen;
		bs = &p, bopt = peer, blen = plen;
	}

	/* The negotiated TEP is the last valid TEP in B's option. */
	for (size_t i = bs->ntep; i-- > 0;) {
		const struct tc_eno_tep *t = &bs->tep[i];

		if (!tep_valid(pol, as, t))
			continue;
		out->negotiated = 1;
		out->tep_byte = t->byte;
		out->tep = t->id;
		out->reason = TCPCRYPT_ENO_R_OK;
		memcpy(out->transcript, aopt, alen);
		memcpy(out->transcript + alen, bopt, blen);
		out->transcript_len = (uint8_t)(alen + blen);
		return 0;
	}
	return fail(out, TCPCRYPT_ENO_R_NO_COMMON_TEP);
}

const char *tc_eno_reason_str(int reason)
{
	switch (reason) {
	case TCPCRYPT_ENO_R_OK:            return "negotiated";
	case TCPCRYPT_ENO_R_PENDING:       return "handshake not finished";
	case TCPCRYPT_ENO_R_NOT_OPTED_IN:  return "socket not opted in";
	case TCPCRYPT_ENO_R_PEER_NO_ENO:   return "peer sent no ENO option";
	case TCPCRYPT_ENO_R_MALFORMED:     return "malformed ENO option";
	case TCPCRYPT_ENO_R_TWO_OPTIONS:   return "more than one ENO option in SYN";
	case TCPCRYPT_ENO_R_VACUOUS:       return "vacuous ENO option (no TEP)";
	case TCPCRYPT_ENO_R_NO_COMMON_TEP: return "no common TEP";
	case TCPCRYPT_ENO_R_ROLE_CLASH:    return "role clash (same b bit on both sides)";
	case TCPCRYPT_ENO_R_APP_AWARE:     return "peer not application-aware (mandatory mode)";
	case TCPCRYPT_ENO_R_ACK_NO_ENO:    return "first ACK carried no ENO";
	case TCPCRYPT_ENO_R_NO_SPACE:      return "no option space for ENO";
	case TCPCRYPT_ENO_R_SYN_DATA:      return "SYN data with ENO";
	case TCPCRYPT_ENO_R_STATE_LOST:    return "ENO in the first ACK but the SYN-ACK's state was lost";
	case TCPCRYPT_ENO_R_SIMOPEN:       return "simultaneous open this end cannot negotiate";
	default:                           return "unknown reason";
	}
}
