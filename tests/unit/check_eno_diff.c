/*
 * check_eno_diff.c - the two implementations of the ENO rules against each
 * other (eno_diff.h): libtcpcrypt/eno.c, and the BPF program's parser and
 * decisions compiled as plain C. Every case of check_eno.c (eno_cases.h),
 * families that put every byte value in every suboption position, and a
 * seeded random sweep go through both, seen from B (the listener's answer
 * to A's SYN) and from A (the active opener's verdict on B's SYN-ACK).
 * Any disagreement fails, with the input and both verdicts.
 *
 * ENO_DIFF_SEED and ENO_DIFF_ROUNDS (environment) change the sweep.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eno_cases.h"
#include "eno_diff.h"

static const struct tc_eno_policy policies[] = {
	POL(0, 0, 0x23),
	POL(1, 0, 0x21, 0x23),
	POL(2, 0, 0x23),
	POL(0, 1, 0x23),
	POL(2, 1, 0x22, 0x21, 0x24),
};
#define NPOL ((int)(sizeof policies / sizeof policies[0]))

/* Fails when the two implementations disagree on in. */
static void agree(const struct eno_input *in)
{
	char why[1024];

	ck_assert_msg(eno_diff_run(in, why, sizeof why) == 0, "%s", why);
}

/* The offer the shim makes from pol (a listener's as B), against area. */
static void run_policy(enum eno_side side, const struct tc_eno_policy *pol, const uint8_t *area,
		       size_t alen)
{
	struct eno_input in;
	int n;

	memset(&in, 0, sizeof in);
	in.side = side;
	n = tc_eno_build_offer(pol, side == ENO_SIDE_B, in.content, sizeof in.content);
	ck_assert_int_gt(n, 0);
	in.clen = (size_t)n;
	in.oflags = pol->app_aware == 2 ? TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE : 0;
	ck_assert_uint_le(alen, sizeof in.area);
	memcpy(in.area, area, alen);
	in.alen = alen;
	agree(&in);
}

/* Both sides, under every policy of the list and under pol (if any). */
static void run_area(const struct tc_eno_policy *pol, const uint8_t *area, size_t alen)
{
	int i;

	for (i = 0; i < NPOL; i++) {
		run_policy(ENO_SIDE_B, &policies[i], area, alen);
		run_policy(ENO_SIDE_A, &policies[i], area, alen);
	}
	if (pol) {
		run_policy(ENO_SIDE_B, pol, area, alen);
		run_policy(ENO_SIDE_A, pol, area, alen);
	}
}

/* A with the exact SYN option me of a case (its content as the offer). */
static void run_syn_option(const struct bytes *me, const struct tc_eno_policy *pol,
			   const uint8_t *area, size_t alen)
{
	struct eno_input in;

	if (me->n < 3 || me->n > TCPCRYPT_ENO_OPT_MAX)
		return;                 /* no offer: the socket was not opted in */
	memset(&in, 0, sizeof in);
	in.side = ENO_SIDE_A;
	in.clen = me->n - 2;
	memcpy(in.content, me->b + 2, in.clen);
	in.oflags = pol->app_aware == 2 ? TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE : 0;
	memcpy(in.area, area, alen);
	in.alen = alen;
	agree(&in);
}

/* check_eno's negotiations, from both hosts' points of view. */
START_TEST(diff_negotiate_cases)
{
	const struct neg_case *c = &cases[_i];

	run_area(&c->lpol, c->p.b, c->p.n);
	run_area(&c->ppol, c->l.b, c->l.n);
	run_syn_option(&c->l, &c->lpol, c->p.b, c->p.n);
	run_syn_option(&c->p, &c->ppol, c->l.b, c->l.n);
}
END_TEST

/* check_eno's answers: A's option a_count times in the SYN. */
START_TEST(diff_answer_cases)
{
	const struct answer_case *c = &answers[_i];
	uint8_t area[TCPCRYPT_ENO_OPT_MAX];
	size_t n = 0;
	int k;

	for (k = 0; k < c->a_count && n + c->a.n <= sizeof area; k++) {
		memcpy(area + n, c->a.b, c->a.n);
		n += c->a.n;
	}
	run_area(&c->pol, area, n);
}
END_TEST

/* check_eno's ill-formed options and areas, and its options areas. */
START_TEST(diff_malformed_options)
{
	run_area(NULL, malformed[_i].b, malformed[_i].n);
}
END_TEST

START_TEST(diff_bad_areas)
{
	run_area(NULL, bad_areas[_i].b, bad_areas[_i].n);
}
END_TEST

START_TEST(diff_find_areas)
{
	run_area(NULL, area_linux_syn, sizeof area_linux_syn);
	run_area(NULL, area_linux_syn, 20);
	run_area(NULL, area_synack_nops, sizeof area_synack_nops);
	run_area(NULL, area_twice, sizeof area_twice);
	run_area(NULL, area_after_eol, sizeof area_after_eol);
	run_area(NULL, area_syn2, sizeof area_syn2);
	run_area(NULL, area_syn1, sizeof area_syn1);
}
END_TEST

/* Byte _i in each position of short options (check_eno's loops over
 * globals, TEPs, v TEPs, length bytes and what follows them). */
START_TEST(diff_every_byte)
{
	const uint8_t b = (uint8_t)_i;
	const struct bytes forms[] = {
		O(0x45, 0x03, b),
		O(0x45, 0x04, b, 0x23),
		O(0x45, 0x04, 0x23, b),
		O(0x45, 0x04, 0x01, b),
		O(0x45, 0x05, b, 0x23, 0xaa),
		O(0x45, 0x05, 0x01, 0x23, b),
		O(0x45, 0x06, 0x02, b, 0xa3, 0xbb),
		O(0x45, 0x06, 0x81, b, 0xaa, 0xbb),
		O(0x45, 0x07, 0x01, 0x81, 0xa3, b, 0x21),
		O(0x45, 0x0e, 0x01, 0x21, b, 1, 2, 3, 4, 5, 6, 7, 8, 9),
		O(0x45, 0x0e, 0x01, 0x23, b, 1, 2, 3, 4, 5, 6, 7, 8, 9),
		O(0x02, 0x04, 0x05, 0xb4, 0x45, 0x04, b, 0x23, 0x01, 0x00),
	};
	size_t i;

	for (i = 0; i < sizeof forms / sizeof forms[0]; i++)
		run_area(NULL, forms[i].b, forms[i].n);
}
END_TEST

/* ---------------------------------------------------------------- sweep */

static uint64_t rng_state;

/* xorshift64*: reproducible from the seed. */
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

/* A TEP id: mostly the few the policies use, so that they meet. */
static uint8_t rnd_tep(void)
{
	return rnd(4) ? (uint8_t)(0x20 + rnd(6)) : (uint8_t)(0x20 + rnd(0x60));
}

/* Appends random suboptions to out[*n..cap): mostly well formed, at times
 * not (a length byte that lies, a stray byte). */
static void rnd_content(uint8_t *out, size_t *n, size_t cap)
{
	size_t k, subs = 1 + rnd(6);

	while (subs-- && *n < cap) {
		switch (rnd(10)) {
		case 0: case 1:                         /* global */
			out[(*n)++] = rnd(3) ? (uint8_t)rnd(4) : (uint8_t)rnd(0x20);
			break;
		case 2: case 3: case 4: case 5:         /* TEP */
			out[(*n)++] = rnd_tep();
			break;
		case 6: case 7: {                       /* length byte, v TEP, data */
			size_t d = rnd(5) ? 1 + rnd(12) : 1 + rnd(32);

			if (*n + 2 + d > cap && rnd(4))
				break;
			out[(*n)++] = (uint8_t)(0x80 | (d - 1));
			if (*n < cap)
				out[(*n)++] = rnd(8) ? (uint8_t)(0x80 | rnd_tep()) : (uint8_t)rnd(256);
			for (k = 0; k < d && *n < cap; k++)
				out[(*n)++] = (uint8_t)rnd(256);
			break;
		}
		case 8:                                 /* v TEP, data to the end */
			out[(*n)++] = (uint8_t)(0x80 | rnd_tep());
			for (k = rnd(12); k > 0 && *n < cap; k--)
				out[(*n)++] = (uint8_t)rnd(256);
			return;
		default:
			out[(*n)++] = (uint8_t)rnd(256);
		}
	}
}

/* A random TCP options area of at most 40 bytes around 0-2 ENO options. */
static size_t rnd_area(uint8_t *a)
{
	size_t n = 0, cap = TCPCRYPT_ENO_OPT_MAX, start, k;
	int items = 1 + (int)rnd(5), eno_left = rnd(8) ? 1 : (int)rnd(3);

	while (items-- > 0 && n < cap) {
		if (eno_left > 0 && (rnd(2) || items == 0)) {
			eno_left--;
			if (cap - n < 2)
				break;
			start = n;
			a[n++] = TCPCRYPT_ENO_KIND;
			a[n++] = 0;
			rnd_content(a, &n, cap);
			a[start + 1] = (uint8_t)(n - start);
			if (!rnd(16))
				a[start + 1] = (uint8_t)rnd(48); /* a length that lies */
			continue;
		}
		switch (rnd(8)) {
		case 0: a[n++] = 1; break;                         /* NOP */
		case 1:                                            /* MSS */
			if (cap - n >= 4) { a[n++] = 2; a[n++] = 4; a[n++] = 5; a[n++] = 0xb4; }
			break;
		case 2:                                            /* SACK permitted */
			if (cap - n >= 2) { a[n++] = 4; a[n++] = 2; }
			break;
		case 3:                                            /* timestamps */
			if (cap - n >= 10) {
				a[n++] = 8; a[n++] = 10;
				for (k = 0; k < 8; k++)
					a[n++] = (uint8_t)rnd(256);
			}
			break;
		case 4:                                            /* window scale */
			if (cap - n >= 3) { a[n++] = 3; a[n++] = 3; a[n++] = 7; }
			break;
		case 5:                                            /* EOL, then anything */
			a[n++] = 0;
			for (k = rnd(4); k > 0 && n < cap; k--)
				a[n++] = (uint8_t)rnd(256);
			break;
		case 6:                                            /* the non-SYN form */
			if (cap - n >= 2) { a[n++] = TCPCRYPT_ENO_KIND; a[n++] = 2; }
			break;
		default:
			a[n++] = (uint8_t)rnd(256);
		}
	}
	return n;
}

/* A random offer: as the shim makes it from a policy, or raw content. */
static void rnd_offer(struct eno_input *in)
{
	struct tc_eno_policy pol;
	int n;

	in->oflags = rnd(4) ? 0 : TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE;
	if (rnd(4)) {
		memset(&pol, 0, sizeof pol);
		pol.nteps = (uint8_t)(1 + rnd(4));
		for (n = 0; n < pol.nteps; n++)
			pol.teps[n] = rnd_tep();
		pol.app_aware = in->oflags ? 2 : (uint8_t)rnd(2);
		pol.passive = rnd(6) == 0;
		n = tc_eno_build_offer(&pol, in->side == ENO_SIDE_B, in->content, sizeof in->content);
		ck_assert_int_gt(n, 0);
		in->clen = (size_t)n;
		return;
	}
	in->clen = 0;
	while (in->clen == 0)
		rnd_content(in->content, &in->clen, 12);
}

START_TEST(diff_random_sweep)
{
	const char *e = getenv("ENO_DIFF_SEED"), *r = getenv("ENO_DIFF_ROUNDS");
	uint64_t seed = e ? strtoull(e, NULL, 0) : 0x5eed0e00ULL + (uint64_t)_i;
	long rounds = r ? strtol(r, NULL, 0) : 20000, k;
	struct eno_input in;
	long eno[2] = { 0, 0 };

	rng_state = seed ? seed : 1;
	for (k = 0; k < rounds; k++) {
		char why[1024];
		struct eno_verdict v;

		memset(&in, 0, sizeof in);
		in.side = rnd(2) ? ENO_SIDE_A : ENO_SIDE_B;
		rnd_offer(&in);
		in.alen = rnd_area(in.area);
		ck_assert_msg(eno_diff_run(&in, why, sizeof why) == 0, "seed %#llx round %ld: %s",
			      (unsigned long long)seed, k, why);
		eno_diff_ref(&in, &v);
		eno[in.side] += v.eno;
	}
	/* the sweep must reach the interesting part: both sides negotiate */
	ck_assert_msg(eno[ENO_SIDE_A] > rounds / 100 && eno[ENO_SIDE_B] > rounds / 100,
		      "only %ld A and %ld B negotiations in %ld rounds", eno[ENO_SIDE_A],
		      eno[ENO_SIDE_B], rounds);
}
END_TEST

static Suite *eno_diff_suite(void)
{
	Suite *s = suite_create("eno_diff");
	TCase *tc = tcase_create("diff");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, diff_negotiate_cases, 0, NCASES);
	tcase_add_loop_test(tc, diff_answer_cases, 0, NANSWERS);
	tcase_add_loop_test(tc, diff_malformed_options, 0,
			    (int)(sizeof malformed / sizeof malformed[0]));
	tcase_add_loop_test(tc, diff_bad_areas, 0, (int)(sizeof bad_areas / sizeof bad_areas[0]));
	tcase_add_test(tc, diff_find_areas);
	tcase_add_loop_test(tc, diff_every_byte, 0, 256);
	tcase_add_loop_test(tc, diff_random_sweep, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(eno_diff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
