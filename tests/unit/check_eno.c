/*
 * check_eno.c - unit tests of the TCP-ENO codec and negotiation
 * (libtcpcrypt/eno.c, RFC 8547).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eno.h"
#include "tcpcrypt/tcpcrypt.h"
#include "eno_cases.h"   /* the tables, shared with check_eno_diff.c */

static const struct tc_eno_policy pol23 = POL(0, 0, 0x23);

/* ------------------------------------------------------------------ */
/* tc_eno_parse_syn: well-formed options                               */

START_TEST(parse_plain_tep)
{
	static const uint8_t o[] = { 0x45, 0x03, 0x23 };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.global, 0);
	ck_assert_int_eq(s.has_global, 0);
	ck_assert_int_eq(s.ntep, 1);
	ck_assert_int_eq(s.tep[0].byte, 0x23);
	ck_assert_int_eq(s.tep[0].id, 0x23);
	ck_assert_int_eq(s.tep[0].v, 0);
	ck_assert_int_eq(s.tep[0].dlen, 0);
}
END_TEST

START_TEST(parse_global_and_tep)
{
	static const uint8_t o[] = { 0x45, 0x04, 0x01, 0x23 };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.global, 0x01);
	ck_assert_int_eq(s.has_global, 1);
	ck_assert_int_eq(s.ntep, 1);
	ck_assert_int_eq(s.tep[0].id, 0x23);
}
END_TEST

START_TEST(parse_vacuous)
{
	static const uint8_t o[] = { 0x45, 0x02 };
	static const uint8_t og[] = { 0x45, 0x03, 0x01 };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.ntep, 0);
	ck_assert_int_eq(s.has_global, 0);
	ck_assert_int_eq(tc_eno_parse_syn(og, sizeof og, &s), 0);
	ck_assert_int_eq(s.ntep, 0);
	ck_assert_int_eq(s.has_global, 1);
	ck_assert_int_eq(s.global, 1);
}
END_TEST

/* Every global value 0x00-0x1f; only the first global suboption counts,
 * wherever it stands. */
START_TEST(parse_global_all_values)
{
	uint8_t o[] = { 0x45, 0x05, (uint8_t)_i, 0x23, (uint8_t)(_i ^ 0x1f) };
	uint8_t o2[] = { 0x45, 0x05, 0x23, (uint8_t)_i, 0x00 };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.has_global, 1);
	ck_assert_int_eq(s.global, _i);
	ck_assert_int_eq(s.ntep, 1);
	ck_assert_int_eq(s.tep[0].byte, 0x23);
	ck_assert_int_eq(tc_eno_parse_syn(o2, sizeof o2, &s), 0);
	ck_assert_int_eq(s.global, _i);
	ck_assert_int_eq(s.ntep, 1);
}
END_TEST

/* Every TEP byte without data, 0x20-0x7f. */
START_TEST(parse_tep_no_data_all)
{
	uint8_t o[] = { 0x45, 0x04, (uint8_t)_i, 0x21 };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.has_global, 0);
	ck_assert_int_eq(s.ntep, 2);
	ck_assert_int_eq(s.tep[0].byte, _i);
	ck_assert_int_eq(s.tep[0].id, _i);
	ck_assert_int_eq(s.tep[0].v, 0);
	ck_assert_int_eq(s.tep[0].dlen, 0);
	ck_assert_int_eq(s.tep[1].id, 0x21);
}
END_TEST

/* Every v=1 TEP byte 0xa0-0xff: data runs to the end of the option, so
 * bytes that look like TEPs after it are data. */
START_TEST(parse_tep_v_to_end_all)
{
	uint8_t o[] = { 0x45, 0x07, 0x01, (uint8_t)_i, 0x23, 0x80, 0x00 };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.global, 1);
	ck_assert_int_eq(s.ntep, 1);
	ck_assert_int_eq(s.tep[0].byte, _i);
	ck_assert_int_eq(s.tep[0].id, _i & 0x7f);
	ck_assert_int_eq(s.tep[0].v, 1);
	ck_assert_int_eq(s.tep[0].dlen, 3);
	ck_assert_ptr_eq(s.tep[0].data, o + 4);
}
END_TEST

START_TEST(parse_tep_v_no_data)
{
	static const uint8_t o[] = { 0x45, 0x04, 0x21, 0xa3 };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.ntep, 2);
	ck_assert_int_eq(s.tep[1].byte, 0xa3);
	ck_assert_int_eq(s.tep[1].v, 1);
	ck_assert_int_eq(s.tep[1].dlen, 0);
}
END_TEST

/* Length byte 100nnnnn: every nnnnn, then a further TEP after the data. */
START_TEST(parse_length_byte_all)
{
	uint8_t o[TCPCRYPT_ENO_OPT_MAX];
	size_t n = (size_t)_i + 1, len = 2 + 2 + n + 1;
	struct tc_eno_syn s;

	o[0] = 0x45;
	o[1] = (uint8_t)len;
	o[2] = (uint8_t)(0x80 | _i);
	o[3] = 0xa3;
	for (size_t k = 0; k < n; k++)
		o[4 + k] = (uint8_t)(0x80 + k); /* data that would be misparsed as suboptions */
	o[4 + n] = 0x22;
	ck_assert_int_eq(tc_eno_parse_syn(o, len, &s), 0);
	ck_assert_int_eq(s.ntep, 2);
	ck_assert_int_eq(s.tep[0].byte, 0xa3);
	ck_assert_int_eq(s.tep[0].id, 0x23);
	ck_assert_int_eq(s.tep[0].v, 1);
	ck_assert_int_eq(s.tep[0].dlen, n);
	ck_assert_ptr_eq(s.tep[0].data, o + 4);
	ck_assert_int_eq(s.tep[1].byte, 0x22);
	ck_assert_int_eq(s.tep[1].v, 0);
}
END_TEST

START_TEST(parse_mixed)
{
	/* global, TEP, length-byte TEP with 2 bytes, TEP, v TEP with data to end */
	static const uint8_t o[] = { 0x45, 0x0c, 0x02, 0x21, 0x81, 0xa4, 0xaa, 0xbb,
	                             0x22, 0xa3, 0x01, 0x02 };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.global, 0x02);
	ck_assert_int_eq(s.ntep, 4);
	ck_assert_int_eq(s.tep[0].byte, 0x21);
	ck_assert_int_eq(s.tep[1].byte, 0xa4);
	ck_assert_int_eq(s.tep[1].dlen, 2);
	ck_assert_int_eq(s.tep[1].data[0], 0xaa);
	ck_assert_int_eq(s.tep[1].data[1], 0xbb);
	ck_assert_int_eq(s.tep[2].byte, 0x22);
	ck_assert_int_eq(s.tep[3].byte, 0xa3);
	ck_assert_int_eq(s.tep[3].dlen, 2);
	ck_assert_int_eq(s.tep[3].data[0], 0x01);
}
END_TEST

START_TEST(parse_longest)
{
	/* 40 bytes: 38 TEPs without data */
	uint8_t o[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_syn s;

	o[0] = 0x45;
	o[1] = sizeof o;
	for (size_t k = 2; k < sizeof o; k++)
		o[k] = (uint8_t)(0x20 + k);
	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), 0);
	ck_assert_int_eq(s.ntep, 38);
	ck_assert_int_eq(s.tep[37].byte, 0x20 + 39);
}
END_TEST

/* ------------------------------------------------------------------ */
/* tc_eno_parse_syn: ill-formed options                                */

START_TEST(parse_malformed_table)
{
	const struct bytes *m = &malformed[_i];
	struct tc_eno_syn s;

	memset(&s, 0xee, sizeof s);
	ck_assert_msg(tc_eno_parse_syn(m->b, m->n, &s) == -EINVAL, "case %d accepted", _i);
	ck_assert_int_eq(s.ntep, 0);
}
END_TEST

/* A length byte followed by any byte in 0x00-0x9f is ill-formed. */
START_TEST(parse_length_byte_bad_next)
{
	uint8_t o[] = { 0x45, 0x06, 0x81, (uint8_t)_i, 0xaa, 0xbb };
	struct tc_eno_syn s;

	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, &s), -EINVAL);
}
END_TEST

START_TEST(parse_bad_args)
{
	static const uint8_t o[] = { 0x45, 0x03, 0x23 };
	uint8_t big[44] = { 0x45, 44 };
	struct tc_eno_syn s;

	memset(big + 2, 0x23, sizeof big - 2);
	ck_assert_int_eq(tc_eno_parse_syn(NULL, 3, &s), -EINVAL);
	ck_assert_int_eq(tc_eno_parse_syn(o, sizeof o, NULL), -EINVAL);
	/* longer than any TCP option area can hold */
	ck_assert_int_eq(tc_eno_parse_syn(big, sizeof big, &s), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* tc_eno_find over TCP option areas                                   */

/* A Linux SYN's options (MSS, SACK-perm, timestamps, NOP, wscale) with ENO
 * appended in the places a stack may put it. */
START_TEST(find_linux_syn)
{
	const uint8_t *opt = NULL;
	size_t len = 0;

	ck_assert_int_eq(tc_eno_find(area_linux_syn, sizeof area_linux_syn, &opt, &len), 1);
	ck_assert_ptr_eq(opt, area_linux_syn + 20);
	ck_assert_int_eq(len, 3);
	/* the same area without the ENO option */
	ck_assert_int_eq(tc_eno_find(area_linux_syn, 20, &opt, &len), 0);
	ck_assert_ptr_null(opt);
	ck_assert_int_eq(len, 0);
}
END_TEST

START_TEST(find_synack_with_nops)
{
	const uint8_t *opt;
	size_t len;

	ck_assert_int_eq(tc_eno_find(area_synack_nops, sizeof area_synack_nops, &opt, &len), 1);
	ck_assert_ptr_eq(opt, area_synack_nops + 12);
	ck_assert_int_eq(len, 4);
}
END_TEST

START_TEST(find_twice)
{
	const uint8_t *opt;
	size_t len;

	ck_assert_int_eq(tc_eno_find(area_twice, sizeof area_twice, &opt, &len), 2);
	ck_assert_ptr_eq(opt, area_twice + 4);
	ck_assert_int_eq(len, 3);
}
END_TEST

START_TEST(find_after_eol_ignored)
{
	const uint8_t *opt;
	size_t len;

	ck_assert_int_eq(tc_eno_find(area_after_eol, sizeof area_after_eol, &opt, &len), 0);
	ck_assert_ptr_null(opt);
}
END_TEST

START_TEST(find_empty_and_nops)
{
	static const uint8_t nops[] = { 1, 1, 1, 1 };
	const uint8_t *opt;
	size_t len;

	ck_assert_int_eq(tc_eno_find(NULL, 0, &opt, &len), 0);
	ck_assert_int_eq(tc_eno_find(nops, sizeof nops, &opt, &len), 0);
	ck_assert_int_eq(tc_eno_find(nops, sizeof nops, NULL, NULL), 0);
}
END_TEST

START_TEST(find_malformed)
{
	const struct bytes *m = &bad_areas[_i];
	const uint8_t *opt = (const uint8_t *)1;
	size_t len = 99;

	ck_assert_int_eq(tc_eno_find(m->b, m->n, &opt, &len), -EINVAL);
	ck_assert_ptr_null(opt);
	ck_assert_int_eq(len, 0);
}
END_TEST

START_TEST(nonsyn_form)
{
	static const uint8_t ack[] = { 0x01, 0x01, 0x08, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 0x45, 0x02 };
	static const uint8_t ackdata[] = { 0x45, 0x05, 0xde, 0xad, 0x00, 0x01, 0x00 };
	static const uint8_t plain[] = { 0x01, 0x01, 0x08, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t bad[] = { 0x01, 0x45 };
	uint8_t out[4] = { 0 };

	ck_assert_int_eq(tc_eno_nonsyn_present(ack, sizeof ack), 1);
	ck_assert_int_eq(tc_eno_nonsyn_present(ackdata, sizeof ackdata), 1); /* content ignored */
	ck_assert_int_eq(tc_eno_nonsyn_present(plain, sizeof plain), 0);
	ck_assert_int_eq(tc_eno_nonsyn_present(bad, sizeof bad), -EINVAL);
	ck_assert_int_eq(tc_eno_build_nonsyn(out, sizeof out), 2);
	ck_assert_int_eq(out[0], 0x45);
	ck_assert_int_eq(out[1], 0x02);
	ck_assert_int_eq(tc_eno_build_nonsyn(out, 1), -ENOSPC);
}
END_TEST

/* ------------------------------------------------------------------ */
/* tc_eno_build_syn / tc_eno_build_offer                               */

START_TEST(build_syn_forms)
{
	static const struct {
		struct tc_eno_policy pol;
		struct bytes want;
	} t[] = {
		{ POL(0, 0, 0x23), O(0x45, 0x03, 0x23) },             /* no global byte */
		{ POL(1, 0, 0x23), O(0x45, 0x04, 0x02, 0x23) },       /* a=1 */
		{ POL(2, 0, 0x23), O(0x45, 0x04, 0x02, 0x23) },       /* mandatory sends a=1 */
		{ POL(0, 1, 0x23), O(0x45, 0x04, 0x01, 0x23) },       /* b=1 */
		{ POL(1, 1, 0x23), O(0x45, 0x04, 0x03, 0x23) },
		{ POL(0, 0, 0x21, 0x23), O(0x45, 0x04, 0x21, 0x23) },
	};
	uint8_t out[TCPCRYPT_ENO_OPT_MAX];

	for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
		int n = tc_eno_build_syn(&t[k].pol, out, sizeof out);
		struct tc_eno_syn s;

		ck_assert_int_eq(n, t[k].want.n);
		ck_assert_mem_eq(out, t[k].want.b, t[k].want.n);
		/* and it parses back */
		ck_assert_int_eq(tc_eno_parse_syn(out, (size_t)n, &s), 0);
		ck_assert_int_eq(s.ntep, t[k].pol.nteps);
		/* one byte too small */
		ck_assert_int_eq(tc_eno_build_syn(&t[k].pol, out, t[k].want.n - 1), -ENOSPC);
	}
}
END_TEST

START_TEST(build_bad_policy)
{
	struct tc_eno_policy p = POL(0, 0, 0x10);
	uint8_t out[TCPCRYPT_ENO_OPT_MAX];

	ck_assert_int_eq(tc_eno_build_syn(&p, out, sizeof out), -EINVAL);   /* 0x10 is no TEP id */
	p.teps[0] = 0xa3;
	ck_assert_int_eq(tc_eno_build_syn(&p, out, sizeof out), -EINVAL);   /* nor is 0xa3 */
	p.teps[0] = 0x23;
	p.nteps = 9;
	ck_assert_int_eq(tc_eno_build_syn(&p, out, sizeof out), -EINVAL);
	p.nteps = 1;
	p.app_aware = 3;
	ck_assert_int_eq(tc_eno_build_offer(&p, 0, out, sizeof out), -EINVAL);
	ck_assert_int_eq(tc_eno_build_syn(NULL, out, sizeof out), -EINVAL);
	ck_assert_int_eq(tc_eno_build_syn(&pol23, NULL, 40), -EINVAL);
}
END_TEST

START_TEST(build_offer_forms)
{
	struct tc_eno_policy p = POL(0, 0, 0x21, 0x23);
	uint8_t out[TCPCRYPT_ENO_CONTENT_MAX];

	ck_assert_int_eq(tc_eno_build_offer(&p, 0, out, sizeof out), 2);
	ck_assert_int_eq(out[0], 0x21);
	ck_assert_int_eq(out[1], 0x23);
	ck_assert_int_eq(tc_eno_build_offer(&p, 1, out, sizeof out), 3);
	ck_assert_int_eq(out[0], 0x01);
	ck_assert_int_eq(out[1], 0x21);
	ck_assert_int_eq(out[2], 0x23);
	p.app_aware = 1;
	ck_assert_int_eq(tc_eno_build_offer(&p, 1, out, sizeof out), 3);
	ck_assert_int_eq(out[0], 0x03);
	ck_assert_int_eq(tc_eno_build_offer(&p, 0, out, sizeof out), 3);
	ck_assert_int_eq(out[0], 0x02);
	ck_assert_int_eq(tc_eno_build_offer(&p, 1, out, 2), -ENOSPC);
}
END_TEST

/* ------------------------------------------------------------------ */
/* tc_eno_negotiate: the table                                         */

/* Checks one view of a case. */
static void check_view(const struct neg_case *c, int swapped)
{
	const struct tc_eno_policy *pol = swapped ? &c->ppol : &c->lpol;
	const struct bytes *me = swapped ? &c->p : &c->l, *peer = swapped ? &c->l : &c->p;
	int neg = swapped ? c->pneg : c->lneg;
	int reason = swapped ? c->preason : c->lreason;
	int peer_a = swapped ? c->ppeer_a : c->lpeer_a;
	int role = swapped ? !c->role : c->role;
	struct tc_eno_outcome o;

	memset(&o, 0xee, sizeof o);
	ck_assert_int_eq(tc_eno_negotiate(pol, me->n ? me->b : NULL, me->n,
	                                  peer->n ? peer->b : NULL, peer->n, &o), 0);
	ck_assert_msg(o.negotiated == neg, "%s (%s view): negotiated %d, want %d",
	              c->name, swapped ? "peer" : "local", o.negotiated, neg);
	ck_assert_msg(o.reason == reason, "%s (%s view): reason %d (%s), want %d", c->name,
	              swapped ? "peer" : "local", o.reason, tc_eno_reason_str(o.reason), reason);
	if (!neg) {
		ck_assert_int_eq(o.transcript_len, 0);
		return;
	}
	ck_assert_msg(o.role == role, "%s: role %d, want %d", c->name, o.role, role);
	ck_assert_int_eq(o.peer_a, peer_a);
	ck_assert_int_eq(o.tep_byte, c->tep_byte);
	ck_assert_int_eq(o.tep, c->tep_byte & 0x7f);
	ck_assert_int_eq(o.transcript_len, c->transcript.n);
	ck_assert_mem_eq(o.transcript, c->transcript.b, c->transcript.n);
}

START_TEST(negotiate_table)
{
	check_view(&cases[_i], 0);
	check_view(&cases[_i], 1);
}
END_TEST

START_TEST(negotiate_bad_args)
{
	static const uint8_t a[] = { 0x45, 0x03, 0x23 }, b[] = { 0x45, 0x04, 0x01, 0x23 };
	struct tc_eno_policy bad = POL(0, 0, 0x23);
	struct tc_eno_outcome o;

	ck_assert_int_eq(tc_eno_negotiate(&pol23, a, sizeof a, b, sizeof b, NULL), -EINVAL);
	ck_assert_int_eq(tc_eno_negotiate(NULL, a, sizeof a, b, sizeof b, &o), -EINVAL);
	ck_assert_int_eq(tc_eno_negotiate(&pol23, NULL, 3, b, sizeof b, &o), -EINVAL);
	ck_assert_int_eq(tc_eno_negotiate(&pol23, a, sizeof a, NULL, 4, &o), -EINVAL);
	bad.nteps = 9;
	ck_assert_int_eq(tc_eno_negotiate(&bad, a, sizeof a, b, sizeof b, &o), -EINVAL);
	/* and the good call, for contrast */
	ck_assert_int_eq(tc_eno_negotiate(&pol23, a, sizeof a, b, sizeof b, &o), 0);
	ck_assert_int_eq(o.negotiated, 1);
}
END_TEST

/* The transcript is exactly A's then B's wire bytes at the maximum size. */
START_TEST(negotiate_max_transcript)
{
	uint8_t a[TCPCRYPT_ENO_OPT_MAX], b[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_outcome o;

	a[0] = b[0] = 0x45;
	a[1] = b[1] = TCPCRYPT_ENO_OPT_MAX;
	a[2] = 0x23;
	a[3] = 0xa4;                       /* v TEP whose data fills the option */
	for (size_t k = 4; k < sizeof a; k++)
		a[k] = (uint8_t)k;
	b[2] = 0x01;
	for (size_t k = 3; k < sizeof b; k++)
		b[k] = 0x23;               /* repeated TEP id */
	ck_assert_int_eq(tc_eno_negotiate(&pol23, b, sizeof b, a, sizeof a, &o), 0);
	ck_assert_int_eq(o.negotiated, 1);
	ck_assert_int_eq(o.role, TCPCRYPT_ROLE_B);
	ck_assert_int_eq(o.transcript_len, 2 * TCPCRYPT_ENO_OPT_MAX);
	ck_assert_mem_eq(o.transcript, a, sizeof a);
	ck_assert_mem_eq(o.transcript + sizeof a, b, sizeof b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* tc_eno_answer_syn                                                   */

START_TEST(answer_table)
{
	const struct answer_case *c = &answers[_i];
	uint8_t out[TCPCRYPT_ENO_OPT_MAX];
	int reason = -1, n;

	memset(out, 0xee, sizeof out);
	n = tc_eno_answer_syn(&c->pol, c->a.n ? c->a.b : NULL, c->a.n, c->a_count,
	                      out, sizeof out, &reason);
	ck_assert_msg(n == (int)c->want.n, "%s: length %d, want %zu", c->name, n, c->want.n);
	ck_assert_msg(reason == c->reason, "%s: reason %d, want %d", c->name, reason, c->reason);
	if (n > 0) {
		struct tc_eno_outcome oa, ob;
		struct tc_eno_policy apol = POL(0, 0, 0x21, 0x22, 0x23, 0x24);

		ck_assert_mem_eq(out, c->want.b, c->want.n);
		/* Both sides then agree on the result. */
		ck_assert_int_eq(tc_eno_negotiate(&c->pol, out, (size_t)n, c->a.b, c->a.n, &ob), 0);
		ck_assert_int_eq(tc_eno_negotiate(&apol, c->a.b, c->a.n, out, (size_t)n, &oa), 0);
		ck_assert_int_eq(ob.negotiated, 1);
		ck_assert_int_eq(oa.negotiated, 1);
		ck_assert_int_eq(ob.role, TCPCRYPT_ROLE_B);
		ck_assert_int_eq(oa.role, TCPCRYPT_ROLE_A);
		ck_assert_int_eq(oa.tep_byte, out[3]);
		ck_assert_int_eq(ob.tep_byte, out[3]);
		ck_assert_int_eq(oa.transcript_len, ob.transcript_len);
		ck_assert_mem_eq(oa.transcript, ob.transcript, ob.transcript_len);
	} else {
		ck_assert_int_eq(out[0], 0xee);
	}
}
END_TEST

START_TEST(answer_from_options_area)
{
	/* A SYN with two ENO options: find counts them and answer_syn refuses. */
	static const uint8_t want[] = { 0x45, 0x04, 0x01, 0x23 };
	const uint8_t *opt;
	size_t len;
	uint8_t out[8];
	int reason, cnt;

	cnt = tc_eno_find(area_syn2, sizeof area_syn2, &opt, &len);
	ck_assert_int_eq(cnt, 2);
	ck_assert_int_eq(tc_eno_answer_syn(&pol23, opt, len, cnt, out, sizeof out, &reason), 0);
	ck_assert_int_eq(reason, TCPCRYPT_ENO_R_TWO_OPTIONS);

	cnt = tc_eno_find(area_syn1, sizeof area_syn1, &opt, &len);
	ck_assert_int_eq(cnt, 1);
	ck_assert_int_eq(tc_eno_answer_syn(&pol23, opt, len, cnt, out, sizeof out, &reason), 4);
	ck_assert_int_eq(reason, TCPCRYPT_ENO_R_OK);
	ck_assert_mem_eq(out, want, sizeof want);

	/* too little room */
	ck_assert_int_eq(tc_eno_answer_syn(&pol23, opt, len, cnt, out, 3, &reason), -ENOSPC);
	ck_assert_int_eq(reason, TCPCRYPT_ENO_R_NO_SPACE);
	/* a malformed area (find's -EINVAL passed on) */
	ck_assert_int_eq(tc_eno_answer_syn(&pol23, NULL, 0, -EINVAL, out, sizeof out, &reason), 0);
	ck_assert_int_eq(reason, TCPCRYPT_ENO_R_MALFORMED);
	ck_assert_int_eq(tc_eno_answer_syn(NULL, opt, len, cnt, out, sizeof out, &reason), -EINVAL);
}
END_TEST

/* A full handshake through the codec: A builds its SYN, B finds and
 * answers it, both decide; same transcript, opposite roles. */
START_TEST(handshake_round_trip)
{
	struct tc_eno_policy apol = POL(1, 0, 0x21, 0x23), bpol = POL(0, 0, 0x23);
	uint8_t syn[20] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02 };
	uint8_t synack[TCPCRYPT_ENO_OPT_MAX];
	static const uint8_t want[] = { 0x45, 0x05, 0x02, 0x21, 0x23, 0x45, 0x04, 0x01, 0x23 };
	const uint8_t *opt;
	size_t len;
	struct tc_eno_outcome oa, ob;
	int n, reason, cnt;

	n = tc_eno_build_syn(&apol, syn + 8, sizeof syn - 8);
	ck_assert_int_eq(n, 5);
	cnt = tc_eno_find(syn, 8 + (size_t)n, &opt, &len);
	ck_assert_int_eq(cnt, 1);
	n = tc_eno_answer_syn(&bpol, opt, len, cnt, synack, sizeof synack, &reason);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(tc_eno_negotiate(&apol, opt, len, synack, (size_t)n, &oa), 0);
	ck_assert_int_eq(tc_eno_negotiate(&bpol, synack, (size_t)n, opt, len, &ob), 0);
	ck_assert_int_eq(oa.negotiated, 1);
	ck_assert_int_eq(ob.negotiated, 1);
	ck_assert_int_eq(oa.role, TCPCRYPT_ROLE_A);
	ck_assert_int_eq(ob.role, TCPCRYPT_ROLE_B);
	ck_assert_int_eq(ob.peer_a, 1);
	ck_assert_int_eq(oa.peer_a, 0);
	ck_assert_int_eq(oa.transcript_len, sizeof want);
	ck_assert_mem_eq(oa.transcript, want, sizeof want);
	ck_assert_mem_eq(ob.transcript, want, sizeof want);
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(reason_strings)
{
	for (int r = 0; r < TCPCRYPT_ENO_R_MAX; r++) {
		const char *s = tc_eno_reason_str(r);

		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, "unknown reason");
		for (int q = 0; q < r; q++)
			ck_assert_str_ne(s, tc_eno_reason_str(q));
	}
	ck_assert_str_eq(tc_eno_reason_str(TCPCRYPT_ENO_R_MAX), "unknown reason");
	ck_assert_str_eq(tc_eno_reason_str(-1), "unknown reason");
	ck_assert_str_eq(tc_eno_reason_str(TCPCRYPT_ENO_R_ROLE_CLASH),
	                 "role clash (same b bit on both sides)");
}
END_TEST

static Suite *eno_suite(void)
{
	Suite *s = suite_create("eno");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_plain_tep);
	tcase_add_test(tc, parse_global_and_tep);
	tcase_add_test(tc, parse_vacuous);
	tcase_add_loop_test(tc, parse_global_all_values, 0x00, 0x20);
	tcase_add_loop_test(tc, parse_tep_no_data_all, 0x20, 0x80);
	tcase_add_loop_test(tc, parse_tep_v_to_end_all, 0xa0, 0x100);
	tcase_add_test(tc, parse_tep_v_no_data);
	tcase_add_loop_test(tc, parse_length_byte_all, 0, 32);
	tcase_add_test(tc, parse_mixed);
	tcase_add_test(tc, parse_longest);
	tcase_add_loop_test(tc, parse_malformed_table, 0,
	                    (int)(sizeof malformed / sizeof malformed[0]));
	tcase_add_loop_test(tc, parse_length_byte_bad_next, 0x00, 0xa0);
	tcase_add_test(tc, parse_bad_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("find");
	tcase_add_test(tc, find_linux_syn);
	tcase_add_test(tc, find_synack_with_nops);
	tcase_add_test(tc, find_twice);
	tcase_add_test(tc, find_after_eol_ignored);
	tcase_add_test(tc, find_empty_and_nops);
	tcase_add_loop_test(tc, find_malformed, 0, (int)(sizeof bad_areas / sizeof bad_areas[0]));
	tcase_add_test(tc, nonsyn_form);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, build_syn_forms);
	tcase_add_test(tc, build_bad_policy);
	tcase_add_test(tc, build_offer_forms);
	suite_add_tcase(s, tc);

	tc = tcase_create("negotiate");
	tcase_add_loop_test(tc, negotiate_table, 0, NCASES);
	tcase_add_test(tc, negotiate_bad_args);
	tcase_add_test(tc, negotiate_max_transcript);
	suite_add_tcase(s, tc);

	tc = tcase_create("answer");
	tcase_add_loop_test(tc, answer_table, 0, NANSWERS);
	tcase_add_test(tc, answer_from_options_area);
	tcase_add_test(tc, handshake_round_trip);
	tcase_add_test(tc, reason_strings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(eno_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
