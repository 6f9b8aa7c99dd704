/*
 * check_divert_req - unit tests of the divert backend's control request
 * parsing (tools/tcpcryptd/divert/tcpcryptd_divert_req.c): each binary request is taken only
 * at its exact length, unknown ops and short or long binary requests are
 * refused, text stays text, reports are validated field by field, and
 * random input is never read out of bounds (sanitizers: check-unit).
 */
#include "config.h"
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../tools/tcpcryptd/divert/tcpcryptd_divert_req.c"

static struct tcpcrypt_eno_report good_report(void)
{
	struct tcpcrypt_eno_report r;

	memset(&r, 0, sizeof(r));
	r.version = TCPCRYPT_ENO_ABI_VERSION;
	r.role = 1;
	r.aead = TCPCRYPT_AEAD_CHACHA20_POLY1305;
	r.sessid_len = 33;
	memset(r.sessid, 0x23, 33);
	return r;
}

START_TEST(text)
{
	union dv_req rq;

	ck_assert_int_eq(dv_req_parse("list\n", 5, &rq), DV_REQ_TEXT);
	ck_assert_int_eq(dv_req_parse("status", 6, &rq), DV_REQ_TEXT);
	ck_assert_int_eq(dv_req_parse("x", 1, &rq), DV_REQ_TEXT);
	ck_assert_int_eq(dv_req_parse("", 0, &rq), DV_REQ_NONE);
}
END_TEST

START_TEST(optin_result)
{
	struct tcd_req in;
	union dv_req rq;
	uint8_t buf[256];

	memset(&in, 0, sizeof(in));
	in.magic = TCD_MAGIC;
	in.op = TCD_OP_OPTIN;
	in.offer.version = 1;
	in.offer.len = 1;
	in.offer.content[0] = 0x23;
	ck_assert_int_eq(dv_req_parse(&in, sizeof(in), &rq), DV_REQ_OPTIN);
	ck_assert_mem_eq(&rq.rq, &in, sizeof(in));
	in.op = TCD_OP_RESULT;
	ck_assert_int_eq(dv_req_parse(&in, sizeof(in), &rq), DV_REQ_RESULT);
	/* one byte short, one byte too many: refused */
	ck_assert_int_eq(dv_req_parse(&in, sizeof(in) - 1, &rq), DV_REQ_BAD);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &in, sizeof(in));
	ck_assert_int_eq(dv_req_parse(buf, sizeof(in) + 1, &rq), DV_REQ_BAD);
	/* the magic alone, or with an unknown op */
	ck_assert_int_eq(dv_req_parse(&in, 5, &rq), DV_REQ_BAD);
	in.op = 0;
	ck_assert_int_eq(dv_req_parse(&in, sizeof(in), &rq), DV_REQ_BAD);
	in.op = 99;
	ck_assert_int_eq(dv_req_parse(&in, sizeof(in), &rq), DV_REQ_BAD);
	/* an opt-in's length with the report op is not a report */
	in.op = TCD_OP_REPORT;
	ck_assert_int_eq(dv_req_parse(&in, sizeof(in), &rq), DV_REQ_BAD);
}
END_TEST

START_TEST(report)
{
	struct tcd_req_report in;
	union dv_req rq;

	memset(&in, 0, sizeof(in));
	in.magic = TCD_MAGIC;
	in.op = TCD_OP_REPORT;
	in.report = good_report();
	ck_assert_int_eq(dv_req_parse(&in, sizeof(in), &rq), DV_REQ_REPORT);
	ck_assert_mem_eq(&rq.rep, &in, sizeof(in));
	ck_assert_int_eq(dv_report_check(&rq.rep.report), 0);
	ck_assert_int_eq(dv_req_parse(&in, sizeof(in) - 1, &rq), DV_REQ_BAD);
	/* an opt-in's length with the report op: refused, nothing copied */
	ck_assert_int_eq(dv_req_parse(&in, sizeof(struct tcd_req), &rq), DV_REQ_BAD);
	ck_assert_int_eq(rq.rep.report.sessid_len, 0);
}
END_TEST

START_TEST(report_fields)
{
	struct tcpcrypt_eno_report r;

	r = good_report();
	ck_assert_int_eq(dv_report_check(&r), 0);
	r.sessid_len = 64;
	ck_assert_int_eq(dv_report_check(&r), 0);
	r.sessid_len = 65;
	ck_assert_int_eq(dv_report_check(&r), -EINVAL);
	r.sessid_len = 255;
	ck_assert_int_eq(dv_report_check(&r), -EINVAL);
	r.sessid_len = 0;
	ck_assert_int_eq(dv_report_check(&r), -EINVAL);
	r = good_report();
	r.version = 2;
	ck_assert_int_eq(dv_report_check(&r), -EINVAL);
	r = good_report();
	r.role = 2;
	ck_assert_int_eq(dv_report_check(&r), -EINVAL);
	r = good_report();
	r.aead = 0;
	ck_assert_int_eq(dv_report_check(&r), -EINVAL);
	r.aead = 0x1000;
	ck_assert_int_eq(dv_report_check(&r), -EINVAL);
	r.aead = TCPCRYPT_AEAD_AES_256_GCM;
	ck_assert_int_eq(dv_report_check(&r), 0);
}
END_TEST

/* Random requests (half of them with our magic): a binary kind only at its
 * exact length; the parsed copy never exceeds the input. */
START_TEST(random_input)
{
	uint8_t buf[300];
	union dv_req rq;
	uint32_t magic = TCD_MAGIC;
	unsigned i, j;

	srand(1);
	for (i = 0; i < 200000; i++) {
		size_t n = (size_t)rand() % sizeof(buf);
		uint8_t *b = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
		enum dv_req_kind k;

		for (j = 0; j < n; j++)
			b[j] = (uint8_t)rand();
		if ((i & 1) && n >= 4)
			memcpy(b, &magic, 4);
		if ((i & 2) && n >= 5)
			b[4] = (uint8_t)(1 + rand() % 3);
		k = dv_req_parse(b, n, &rq);
		if (k == DV_REQ_OPTIN || k == DV_REQ_RESULT)
			ck_assert_uint_eq(n, sizeof(struct tcd_req));
		if (k == DV_REQ_REPORT) {
			ck_assert_uint_eq(n, sizeof(struct tcd_req_report));
			dv_report_check(&rq.rep.report);
		}
		if (n == 0)
			ck_assert_int_eq(k, DV_REQ_NONE);
		free(b);
	}
	(void)buf;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("divert_req");
	TCase *tc = tcase_create("req");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, text);
	tcase_add_test(tc, optin_result);
	tcase_add_test(tc, report);
	tcase_add_test(tc, report_fields);
	tcase_add_test(tc, random_input);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
