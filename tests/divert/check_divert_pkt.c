/*
 * check_divert_pkt - unit tests of the divert backend's packet surgery
 * (tools/tcpcryptd/divert/tcpcryptd_divert_pkt.c): option insertion with every length and
 * checksum fixed, EOL handling, the 40-byte limit, ill-formed options and
 * headers refused unchanged, IPv6, and random input never read or written
 * out of bounds (run under the sanitizers by check-unit).
 */
#include "config.h"
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "../../tools/tcpcryptd/divert/tcpcryptd_divert_pkt.c"

static const uint8_t eno3[] = { 69, 3, 0x23 };

/* Builds an IPv4 (v6 = 0) or IPv6 TCP segment with the given options and
 * payload into b; returns its length. Checksums are valid. */
static size_t mk(uint8_t *b, int v6, const uint8_t *opts, size_t olen, size_t paylen, uint8_t flags)
{
	size_t l3 = v6 ? 40 : 20, doff = 20 + olen, len = l3 + doff + paylen, i;
	struct dv_pkt p;
	uint8_t *t = b + l3;

	memset(b, 0, len);
	if (v6) {
		b[0] = 0x60;
		b[4] = (uint8_t)((len - 40) >> 8);
		b[5] = (uint8_t)(len - 40);
		b[6] = 6;
		b[7] = 64;
		b[8] = 0xfd; b[9] = 0x54; b[23] = 1;
		b[24] = 0xfd; b[25] = 0x54; b[39] = 2;
	} else {
		b[0] = 0x45;
		b[2] = (uint8_t)(len >> 8);
		b[3] = (uint8_t)len;
		b[8] = 64;
		b[9] = 6;
		b[12] = 10; b[13] = 200; b[15] = 1;
		b[16] = 10; b[17] = 200; b[19] = 2;
		put16(b + 10, fold(sum16(b, 20, 0)));
	}
	t[0] = 0x9c; t[1] = 0x40;   /* 40000 */
	t[2] = 0x1b; t[3] = 0x58;   /* 7000 */
	t[12] = (uint8_t)((doff / 4) << 4);
	t[13] = flags;
	if (olen)
		memcpy(t + 20, opts, olen);
	for (i = 0; i < paylen; i++)
		t[doff + i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, len), 0);
	tcp_checksum(&p);
	return len;
}

/* 1 if the TCP checksum (and the IPv4 header checksum) verify. */
static int sums_ok(const struct dv_pkt *p)
{
	const uint8_t *t = p->buf + p->l4off;
	size_t tlen = p->len - p->l4off;
	uint8_t ph[8];
	uint32_t s;

	if (p->family == AF_INET6) {
		s = sum16(p->buf + 8, 32, 0);
		memset(ph, 0, 8);
		ph[2] = (uint8_t)(tlen >> 8); ph[3] = (uint8_t)tlen; ph[7] = 6;
		s = sum16(ph, 8, s);
	} else {
		if (fold(sum16(p->buf, p->l4off, 0)) != 0)
			return 0;
		s = sum16(p->buf + 12, 8, 0);
		ph[0] = 0; ph[1] = 6; ph[2] = (uint8_t)(tlen >> 8); ph[3] = (uint8_t)tlen;
		s = sum16(ph, 4, s);
	}
	return fold(sum16(t, tlen, s)) == 0;
}

START_TEST(syn_v4)
{
	static const uint8_t o[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 10 };
	uint8_t b[200];
	size_t len = mk(b, 0, o, sizeof(o), 0, DV_TH_SYN);
	struct dv_pkt p;
	const uint8_t *x;
	size_t xl;

	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, eno3, 3), 0);
	ck_assert_uint_eq(p.doff, 44);
	ck_assert_uint_eq(p.len, len + 4);
	ck_assert_uint_eq((size_t)(b[2] << 8 | b[3]), len + 4);
	x = dv_pkt_opts(&p, &xl);
	ck_assert_uint_eq(xl, 24);
	ck_assert_mem_eq(x, o, sizeof(o));
	ck_assert_mem_eq(x + 20, eno3, 3);
	ck_assert_uint_eq(x[23], 1);
	ck_assert(sums_ok(&p));
	/* parses again as the same segment */
	ck_assert_int_eq(dv_pkt_parse(&p, b, p.len, sizeof(b)), 0);
	ck_assert_uint_eq(p.doff, 44);
}
END_TEST

START_TEST(payload_moves_v6)
{
	static const uint8_t o[] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	static const uint8_t nonsyn[] = { 69, 2 };
	uint8_t b[400], pay[100];
	size_t len = mk(b, 1, o, sizeof(o), 100, DV_TH_ACK), i;
	struct dv_pkt p;

	for (i = 0; i < 100; i++)
		pay[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_int_eq(dv_pkt_add_option(&p, nonsyn, 2), 0);
	ck_assert_uint_eq(p.doff, 36);
	ck_assert_uint_eq((size_t)(b[4] << 8 | b[5]), p.len - 40);
	ck_assert_mem_eq(b + 40 + 36, pay, 100);
	ck_assert(sums_ok(&p));
}
END_TEST

START_TEST(eol_and_padding)
{
	/* MSS, EOL, then padding junk: ENO goes before the EOL, the junk goes */
	static const uint8_t o[] = { 2, 4, 5, 0xb4, 0, 0xaa, 0xbb, 0xcc, 0, 0, 0, 0 };
	static const uint8_t want[] = { 2, 4, 5, 0xb4, 69, 3, 0x23, 1 };
	uint8_t b[200];
	size_t len = mk(b, 0, o, sizeof(o), 5, DV_TH_SYN);
	struct dv_pkt p;
	const uint8_t *x;
	size_t xl;

	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, eno3, 3), 0);
	x = dv_pkt_opts(&p, &xl);
	ck_assert_uint_eq(xl, sizeof(want));
	ck_assert_mem_eq(x, want, sizeof(want));
	ck_assert_uint_eq(p.paylen, 5);
	ck_assert_uint_eq(p.len, len - 4);
	ck_assert(sums_ok(&p));
}
END_TEST

START_TEST(no_space)
{
	uint8_t o[40], b[200], copy[200];
	size_t len, n;
	struct dv_pkt p;

	/* a full options area (40 bytes): nothing fits, nothing changes;
	 * 36 bytes: 45 03 23 fits with one NOP, 45 04 01 23 too, 6 bytes not */
	memset(o, 1, sizeof(o));
	o[0] = 2; o[1] = 4; o[2] = 5; o[3] = 0xb4;
	len = mk(b, 0, o, 40, 0, DV_TH_SYN);
	memcpy(copy, b, len);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, eno3, 3), -ENOSPC);
	ck_assert_mem_eq(b, copy, len);
	for (n = 3; n <= 6; n++) {
		static const uint8_t big[6] = { 69, 6, 0x23, 0x24, 0x25, 0x26 };
		uint8_t opt[6];

		memcpy(opt, big, n);
		opt[1] = (uint8_t)n;
		len = mk(b, 0, o, 36, 0, DV_TH_SYN);
		memcpy(copy, b, len);
		ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
		if (n <= 4) {
			ck_assert_int_eq(dv_pkt_add_option(&p, opt, n), 0);
			ck_assert_uint_eq(p.doff, 60);
			ck_assert(sums_ok(&p));
		} else {
			ck_assert_int_eq(dv_pkt_add_option(&p, opt, n), -ENOSPC);
			ck_assert_mem_eq(b, copy, len);
		}
	}
	len = mk(b, 0, o, 36, 0, DV_TH_ACK);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, (const uint8_t[]){ 69, 2 }, 2), 0);
	ck_assert_uint_eq(p.doff, 60);
	ck_assert(sums_ok(&p));
	/* no room in the buffer either */
	len = mk(b, 0, o, 4, 0, DV_TH_SYN);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, len), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, eno3, 3), -ENOSPC);
}
END_TEST

START_TEST(ill_formed)
{
	static const uint8_t bad_len[] = { 2, 4, 5, 0xb4, 8, 9, 0, 0 };   /* runs past the area */
	static const uint8_t zero_len[] = { 2, 4, 5, 0xb4, 30, 0, 1, 1 };
	uint8_t b[200], copy[200];
	size_t len;
	struct dv_pkt p;

	len = mk(b, 0, bad_len, sizeof(bad_len), 0, DV_TH_SYN);
	memcpy(copy, b, len);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, eno3, 3), -EINVAL);
	ck_assert_mem_eq(b, copy, len);
	len = mk(b, 0, zero_len, sizeof(zero_len), 0, DV_TH_SYN);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, eno3, 3), -EINVAL);
	/* headers: doff beyond the packet, fragments, not TCP, short */
	len = mk(b, 0, NULL, 0, 0, DV_TH_SYN);
	b[20 + 12] = 0xf0;
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), -EINVAL);
	len = mk(b, 0, NULL, 0, 0, DV_TH_SYN);
	b[6] = 0x20;
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), -EINVAL);
	len = mk(b, 0, NULL, 0, 0, DV_TH_SYN);
	b[9] = 17;
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), -EINVAL);
	ck_assert_int_eq(dv_pkt_parse(&p, b, 19, sizeof(b)), -EINVAL);
	len = mk(b, 1, NULL, 0, 0, DV_TH_SYN);
	b[6] = 0;    /* hop-by-hop header: not handled */
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), -EINVAL);
	len = mk(b, 1, NULL, 0, 0, DV_TH_SYN);
	b[5] += 1;   /* payload length beyond the buffer */
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), -EINVAL);
}
END_TEST

START_TEST(random_input)
{
	uint8_t *b;
	struct dv_pkt p;
	unsigned seed = 1, i;
	size_t len, j;

	for (i = 0; i < 200000; i++) {
		len = (size_t)(rand_r(&seed) % 120);
		b = malloc(len + 8);
		ck_assert_ptr_nonnull(b);
		for (j = 0; j < len; j++)
			b[j] = (uint8_t)rand_r(&seed);
		if (len >= 20) {   /* mostly plausible headers, to reach the options */
			b[0] = (i & 1) ? 0x45 + (uint8_t)(rand_r(&seed) % 3) : 0x60;
			if (i & 1) {
				b[2] = 0; b[3] = (uint8_t)len; b[6] = 0; b[7] = 0; b[9] = 6;
			} else if (len >= 40) {
				b[4] = 0; b[5] = (uint8_t)(len - 40); b[6] = 6;
			}
		}
		if (dv_pkt_parse(&p, b, len, len + 8) == 0) {
			ck_assert_uint_le(p.l4off + p.doff, p.len);
			if (dv_pkt_add_option(&p, eno3, 3) == 0) {
				ck_assert_uint_le(p.len, len + 8);
				ck_assert(sums_ok(&p));
			}
		}
		free(b);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("divert_pkt");
	TCase *tc = tcase_create("pkt");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, syn_v4);
	tcase_add_test(tc, payload_moves_v6);
	tcase_add_test(tc, eol_and_padding);
	tcase_add_test(tc, no_space);
	tcase_add_test(tc, ill_formed);
	tcase_add_test(tc, random_input);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
