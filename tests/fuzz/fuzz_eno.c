/*
 * fuzz_eno.c - libFuzzer harness for the TCP-ENO codec (libtcpcrypt/eno.c).
 *
 * The input is used three ways: as a TCP options area (tc_eno_find), as a
 * whole ENO option (tc_eno_parse_syn, tc_eno_answer_syn), and split in two
 * options, ours and the peer's (tc_eno_negotiate, both ways round). The
 * split point is the first option's own length byte when it fits, so a
 * seed `45 03 23 45 04 01 23` is a real SYN / SYN-ACK pair. Every call runs
 * under a set of policies, and invariants are checked with abort(). The
 * TEP suboptions of a parsed option also go through the tcpcrypt
 * resumption codec (resume_opt.c).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eno.h"
#include "resume_opt.h"
#include "tcpcrypt/tcpcrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* 1 if id is one of the policy's TEPs. */
static int in_policy(const struct tc_eno_policy *pol, uint8_t id)
{
	for (size_t i = 0; i < pol->nteps; i++)
		if (pol->teps[i] == id)
			return 1;
	return 0;
}

/* tc_eno_find: the result points at a well-delimited ENO option inside
 * the area. */
static void fuzz_find(const uint8_t *data, size_t size)
{
	const uint8_t *opt = NULL;
	size_t len = 0;
	int n = tc_eno_find(data, size, &opt, &len);

	CHECK(n == -EINVAL || n >= 0);
	if (n <= 0) {
		CHECK(opt == NULL && len == 0);
		return;
	}
	CHECK(opt >= data && len >= 2 && len <= size && (size_t)(opt - data) <= size - len);
	CHECK(opt[0] == TCPCRYPT_ENO_KIND && opt[1] == len);
	CHECK(tc_eno_nonsyn_present(data, size) == 1);
}

/* tc_eno_parse_syn: every field of an accepted option is consistent and
 * lies inside the option. */
static void fuzz_parse(const uint8_t *data, size_t size)
{
	struct tc_eno_syn s, s2;
	int rc = tc_eno_parse_syn(data, size, &s);

	if (rc < 0) {
		CHECK(s.ntep == 0);
		return;
	}
	CHECK(rc == 0);
	CHECK(size >= 2 && size <= TCPCRYPT_ENO_OPT_MAX);
	CHECK(data[0] == TCPCRYPT_ENO_KIND && data[1] == size);
	CHECK(s.ntep <= size - 2);
	CHECK(s.global < 0x20);
	CHECK(s.has_global || s.global == 0);
	for (size_t i = 0; i < s.ntep; i++) {
		const struct tc_eno_tep *t = &s.tep[i];

		CHECK(t->id == (t->byte & 0x7f));
		CHECK(t->id >= 0x20);
		CHECK(t->v == (t->byte >> 7));
		if (!t->v)
			CHECK(t->dlen == 0);
		if (t->dlen) {
			CHECK(t->data > data && t->data + t->dlen <= data + size);
			CHECK(t->data[-1] == t->byte);
		}
	}
	CHECK(tc_eno_parse_syn(data, size, &s2) == 0);
	CHECK(memcmp(&s, &s2, sizeof s) == 0);
}

/* The resumption codec on every TEP suboption of a parsed option: the
 * RFC 8548 3.5 classification by data length, a resumption offer built
 * back byte for byte, and A's reading of the option as B's answer. */
static void fuzz_resume(const uint8_t *data, size_t size)
{
	struct tc_eno_syn s;
	struct tc_resume_offer o;
	uint8_t res[18] = { 0 }, out[TC_RESUME_SUBOPT_MAX];
	int r, n, want, seen = 0;

	if (tc_eno_parse_syn(data, size, &s) < 0)
		return;
	for (size_t i = 0; i < s.ntep; i++) {
		const struct tc_eno_tep *t = &s.tep[i];

		r = tc_resume_subopt_parse(t, &o);
		CHECK(o.tep == t->id);
		if (!t->v || t->dlen < 9) {
			CHECK(r == 0);
			continue;
		}
		if (t->dlen > 17) {
			CHECK(r == -EMSGSIZE);
			continue;
		}
		CHECK(r == 1 && o.nonce_len == t->dlen - 9);
		CHECK(memcmp(o.half, t->data, 9) == 0);
		/* as the original B's suboption: B's half is resume[9..17] */
		memcpy(res + 9, o.half, 9);
		n = tc_resume_subopt_build(t->id, TCPCRYPT_ROLE_B, res, o.nonce, o.nonce_len, 0, out,
		                           sizeof out);
		CHECK(n == 1 + t->dlen && out[0] == t->byte);
		CHECK(memcmp(out + 1, t->data, t->dlen) == 0);
		CHECK(tc_resume_half_matches(res, TCPCRYPT_ROLE_A, o.half) == 1);
	}
	/* A's reading with the last resumption half seen (or zeros): the last
	 * suboption for 0x23 that offers fresh or carries that half decides */
	want = -ENOENT;
	for (size_t i = s.ntep; i-- > 0 && want == -ENOENT;) {
		const struct tc_eno_tep *t = &s.tep[i];

		if (t->id != 0x23)
			continue;
		seen = 1;
		if (!t->v || t->dlen < 9)
			want = TC_RESUME_ANSWER_FRESH;
		else if (t->dlen <= 17 && memcmp(t->data, res + 9, 9) == 0)
			want = TC_RESUME_ANSWER_RESUMED;
	}
	if (want == -ENOENT && seen)
		want = TC_RESUME_ANSWER_IGNORED;
	CHECK(tc_resume_check_answer(&s, 0x23, TCPCRYPT_ROLE_A, res, &o) == want);
}

/* Reference rule, written independently of eno.c: the last TEP in B's
 * option that our policy accepts, A offered in any form, and that is not
 * a resumption request (v=1 with 9 or more data bytes). -1 if none. */
static int ref_choice(const struct tc_eno_policy *pol, const struct tc_eno_syn *as,
                      const struct tc_eno_syn *bs)
{
	int choice = -1;

	for (size_t i = 0; i < bs->ntep; i++) {
		const struct tc_eno_tep *t = &bs->tep[i];
		int offered = 0;

		for (size_t j = 0; j < as->ntep; j++)
			offered |= as->tep[j].id == t->id;
		if (offered && in_policy(pol, t->id) && !(t->v && t->dlen >= 9))
			choice = t->byte;
	}
	return choice;
}

/* One negotiation from our side: a success names a TEP of the policy that
 * both options carry, and the transcript is the two options in role order. */
static void check_outcome(const struct tc_eno_policy *pol, const uint8_t *l, size_t llen,
                          const uint8_t *p, size_t plen, const struct tc_eno_outcome *o)
{
	struct tc_eno_syn ls, ps;

	CHECK(o->reason < TCPCRYPT_ENO_R_MAX);
	CHECK(tc_eno_reason_str(o->reason) != NULL);
	CHECK(o->transcript_len <= 2 * TCPCRYPT_ENO_OPT_MAX);
	if (!o->negotiated) {
		CHECK(o->reason != TCPCRYPT_ENO_R_OK);
		CHECK(o->transcript_len == 0);
		if (o->reason == TCPCRYPT_ENO_R_NO_COMMON_TEP) {
			CHECK(tc_eno_parse_syn(l, llen, &ls) == 0 && tc_eno_parse_syn(p, plen, &ps) == 0);
			if (ls.global & TC_ENO_GLOBAL_B)
				CHECK(ref_choice(pol, &ps, &ls) == -1);
			else
				CHECK(ref_choice(pol, &ls, &ps) == -1);
		}
		return;
	}
	CHECK(o->negotiated == 1 && o->reason == TCPCRYPT_ENO_R_OK);
	CHECK(tc_eno_parse_syn(l, llen, &ls) == 0 && tc_eno_parse_syn(p, plen, &ps) == 0);
	CHECK(ls.ntep > 0 && ps.ntep > 0);
	CHECK((ls.global & TC_ENO_GLOBAL_B) != (ps.global & TC_ENO_GLOBAL_B));
	CHECK(o->role == ((ls.global & TC_ENO_GLOBAL_B) ? TCPCRYPT_ROLE_B : TCPCRYPT_ROLE_A));
	CHECK(o->peer_a == !!(ps.global & TC_ENO_GLOBAL_A));
	if (o->role == TCPCRYPT_ROLE_A)
		CHECK(ref_choice(pol, &ls, &ps) == o->tep_byte);
	else
		CHECK(ref_choice(pol, &ps, &ls) == o->tep_byte);
	CHECK(in_policy(pol, o->tep) && o->tep == (o->tep_byte & 0x7f));
	CHECK(o->role == TCPCRYPT_ROLE_A || o->role == TCPCRYPT_ROLE_B);
	CHECK(o->transcript_len == llen + plen);
	if (o->role == TCPCRYPT_ROLE_A) {
		CHECK(memcmp(o->transcript, l, llen) == 0);
		CHECK(memcmp(o->transcript + llen, p, plen) == 0);
	} else {
		CHECK(memcmp(o->transcript, p, plen) == 0);
		CHECK(memcmp(o->transcript + plen, l, llen) == 0);
	}
	if (pol->app_aware == 2)
		CHECK(o->peer_a == 1);
}

static void fuzz_negotiate(const struct tc_eno_policy *pol, const uint8_t *data, size_t size)
{
	struct tc_eno_outcome o1, o2;
	size_t split = (size >= 2 && data[1] <= size) ? data[1] : size / 2;
	const uint8_t *l = data, *p = data + split;
	size_t llen = split, plen = size - split;

	CHECK(tc_eno_negotiate(pol, llen ? l : NULL, llen, plen ? p : NULL, plen, &o1) == 0);
	check_outcome(pol, l, llen, p, plen, &o1);
	CHECK(tc_eno_negotiate(pol, plen ? p : NULL, plen, llen ? l : NULL, llen, &o2) == 0);
	check_outcome(pol, p, plen, l, llen, &o2);
	/* With one policy on both sides, both sides agree (mandatory
	 * app-aware mode depends on which side's a bit is read). */
	if (pol->app_aware != 2)
		CHECK(o1.negotiated == o2.negotiated);
	if (o1.negotiated && o2.negotiated) {
		CHECK(o1.role != o2.role);
		CHECK(o1.tep_byte == o2.tep_byte);
		CHECK(o1.transcript_len == o2.transcript_len);
		CHECK(memcmp(o1.transcript, o2.transcript, o1.transcript_len) == 0);
	}
}

/* B's answer to a SYN whose options area is the input, then to the input
 * as one option: an answer is `45 04 global(b=1) TEP` and negotiates on
 * both sides. */
static void check_answer(const struct tc_eno_policy *pol, const uint8_t *opt, size_t len, int cnt)
{
	uint8_t out[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_policy apol = *pol;
	struct tc_eno_outcome oa, ob;
	int reason = -1;
	int n = tc_eno_answer_syn(pol, opt, len, cnt, out, sizeof out, &reason);

	CHECK(reason >= 0 && reason < TCPCRYPT_ENO_R_MAX);
	if (n == 0) {
		CHECK(reason != TCPCRYPT_ENO_R_OK);
		return;
	}
	CHECK(n == 4 && reason == TCPCRYPT_ENO_R_OK && cnt == 1);
	CHECK(out[0] == TCPCRYPT_ENO_KIND && out[1] == 4);
	CHECK(out[2] == (TC_ENO_GLOBAL_B | (pol->app_aware ? TC_ENO_GLOBAL_A : 0)));
	CHECK(in_policy(pol, out[3]) && out[3] >= 0x20 && out[3] < 0x80);

	CHECK(tc_eno_negotiate(pol, out, 4, opt, len, &ob) == 0);
	CHECK(ob.negotiated && ob.role == TCPCRYPT_ROLE_B && ob.tep_byte == out[3]);
	apol.app_aware = 0;
	apol.passive = 0;
	CHECK(tc_eno_negotiate(&apol, opt, len, out, 4, &oa) == 0);
	CHECK(oa.negotiated && oa.role == TCPCRYPT_ROLE_A && oa.tep_byte == out[3]);
	CHECK(oa.transcript_len == ob.transcript_len);
	CHECK(memcmp(oa.transcript, ob.transcript, ob.transcript_len) == 0);
}

static void fuzz_answer(const struct tc_eno_policy *pol, const uint8_t *data, size_t size)
{
	const uint8_t *opt;
	size_t len;
	int cnt = tc_eno_find(data, size, &opt, &len);

	check_answer(pol, opt, len, cnt);
	check_answer(pol, size ? data : NULL, size, size ? 1 : 0);
}

/* Our own options always parse back. */
static void check_build(const struct tc_eno_policy *pol)
{
	uint8_t out[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_syn s;
	int n = tc_eno_build_syn(pol, out, sizeof out);

	CHECK(n >= 2);
	CHECK(tc_eno_parse_syn(out, (size_t)n, &s) == 0);
	CHECK(s.ntep == pol->nteps);
	CHECK((s.global & TC_ENO_GLOBAL_B) == (pol->passive ? TC_ENO_GLOBAL_B : 0));
	n = tc_eno_build_offer(pol, 1, out, sizeof out);
	CHECK(n == pol->nteps + 1 && (out[0] & TC_ENO_GLOBAL_B));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t lists[][4] = {
		{ 0x23 }, { 0x21, 0x23 }, { 0x23, 0x21, 0x24 }, { 0x20, 0x22, 0x7f, 0x23 },
	};
	static const uint8_t counts[] = { 1, 2, 3, 4 };

	if (size > 4096)
		return 0;
	fuzz_find(data, size);
	fuzz_parse(data, size);
	fuzz_resume(data, size);
	for (size_t k = 0; k < sizeof counts; k++) {
		for (uint8_t app = 0; app <= 2; app++) {
			for (uint8_t pas = 0; pas <= 1; pas++) {
				struct tc_eno_policy pol;

				memset(&pol, 0, sizeof pol);
				memcpy(pol.teps, lists[k], counts[k]);
				pol.nteps = counts[k];
				pol.app_aware = app;
				pol.passive = pas;
				check_build(&pol);
				fuzz_negotiate(&pol, data, size);
				fuzz_answer(&pol, data, size);
			}
		}
	}
	return 0;
}
