/*
 * check_divert_pkt - unit tests of the divert backend's packet surgery
 * (tools/tcpcryptd/divert/tcpcryptd_divert_pkt.c): option insertion with every length and
 * checksum fixed, EOL handling, the 40-byte limit, ill-formed options and
 * headers refused unchanged, IPv6, and random input never read or written
 * out of bounds (run under the sanitizers by check-unit).
 *
 * Checksums are computed and verified here by an RFC 1071 implementation
 * of the test's own (ref_*), never by the code under test; the known
 * answers (known_answers) were verified with tshark (see there).
 */
#include "config.h"
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "../../tools/tcpcryptd/divert/tcpcryptd_divert_pkt.c"

static const uint8_t eno3[] = { 69, 3, 0x23 };

/* RFC 1071, straight from the RFC: the one's complement of the one's
 * complement sum of the big-endian 16-bit words of d (an odd last byte
 * padded with a zero byte). Over data that includes a correct checksum
 * it is 0. */
static uint16_t ref_rfc1071(const uint8_t *d, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)d[i] << 8 | d[i + 1];
	if (n & 1)
		sum += (uint32_t)d[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 1071 over the TCP pseudo-header (RFC 9293 3.1 for IPv4, RFC 8200
 * 8.1 for IPv6) followed by the segment t[0..tlen) as it stands. */
static uint16_t ref_tcp_sum(const uint8_t *ip, int v6, const uint8_t *t, size_t tlen)
{
	uint8_t *d = calloc(1, 40 + tlen);
	size_t n;
	uint16_t r;

	ck_assert_ptr_nonnull(d);
	if (v6) {
		memcpy(d, ip + 8, 32);              /* source, destination */
		d[34] = (uint8_t)(tlen >> 8);       /* upper-layer length (32 bits) */
		d[35] = (uint8_t)tlen;
		d[39] = 6;                          /* next header: TCP */
		n = 40;
	} else {
		memcpy(d, ip + 12, 8);              /* source, destination */
		d[9] = 6;                           /* zero, protocol */
		d[10] = (uint8_t)(tlen >> 8);       /* TCP length */
		d[11] = (uint8_t)tlen;
		n = 12;
	}
	memcpy(d + n, t, tlen);
	r = ref_rfc1071(d, n + tlen);
	free(d);
	return r;
}

/* Sets the IPv4 header checksum (v4) and the TCP checksum of packet b
 * (IP header l3 bytes, then tlen bytes of TCP), by the reference code. */
static void ref_set_sums(uint8_t *b, int v6, size_t l3, size_t tlen)
{
	uint16_t c;

	if (!v6) {
		b[10] = b[11] = 0;
		c = ref_rfc1071(b, l3);
		b[10] = (uint8_t)(c >> 8);
		b[11] = (uint8_t)c;
	}
	b[l3 + 16] = b[l3 + 17] = 0;
	c = ref_tcp_sum(b, v6, b + l3, tlen);
	b[l3 + 16] = (uint8_t)(c >> 8);
	b[l3 + 17] = (uint8_t)c;
}

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
	}
	t[0] = 0x9c; t[1] = 0x40;   /* 40000 */
	t[2] = 0x1b; t[3] = 0x58;   /* 7000 */
	t[12] = (uint8_t)((doff / 4) << 4);
	t[13] = flags;
	if (olen)
		memcpy(t + 20, opts, olen);
	for (i = 0; i < paylen; i++)
		t[doff + i] = (uint8_t)(i * 7 + 1);
	ref_set_sums(b, v6, l3, doff + paylen);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, len), 0);
	return len;
}

/* 1 if the TCP checksum (and the IPv4 header checksum) verify, by the
 * reference code: RFC 1071 over the data with its checksum gives 0. */
static int sums_ok(const struct dv_pkt *p)
{
	int v6 = p->family == AF_INET6;

	if (!v6 && ref_rfc1071(p->buf, p->l4off) != 0)
		return 0;
	return ref_tcp_sum(p->buf, v6, p->buf + p->l4off, p->len - p->l4off) == 0;
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

/*
 * Known answers: the segments of syn_v4 and payload_moves_v6 after the
 * insertion, byte for byte. Their checksums (IPv4 header 0x6526, TCP
 * 0x02c9; IPv6 TCP 0x2765) were verified by another implementation:
 * text2pcap -l 101 of the hex dump, then
 *   tshark -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE
 *          -T fields -e ip.checksum.status -e tcp.checksum.status
 * says 1 (good) for each.
 */
/* the sequence and acknowledgment numbers, host order (the handshake
 * rules check them against the ISNs) */
START_TEST(seq_ack)
{
	uint8_t b[200];
	size_t len = mk(b, 0, NULL, 0, 0, DV_TH_ACK);
	struct dv_pkt p;

	b[24] = 0x89; b[25] = 0xab; b[26] = 0xcd; b[27] = 0xef;
	b[28] = 0x01; b[29] = 0x23; b[30] = 0x45; b[31] = 0x67;
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_uint_eq(p.seq, 0x89abcdefu);
	ck_assert_uint_eq(p.ack, 0x01234567u);
}
END_TEST

START_TEST(known_answers)
{
	static const uint8_t o4[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 10 };
	static const uint8_t want4[] = {
		0x45, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06, 0x65, 0x26,
		0x0a, 0xc8, 0x00, 0x01, 0x0a, 0xc8, 0x00, 0x02, 0x9c, 0x40, 0x1b, 0x58,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0x00, 0x00,
		0x02, 0xc9, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
		0x45, 0x03, 0x23, 0x01,
	};
	static const uint8_t o6[] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	static const uint8_t want6_hdr[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x88, 0x06, 0x40,
	};
	static const uint8_t want6_tcp[] = {
		0x9c, 0x40, 0x1b, 0x58, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x90, 0x10, 0x00, 0x00, 0x27, 0x65, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x45, 0x02, 0x01, 0x01,
	};
	uint8_t b[400];
	struct dv_pkt p;
	size_t len;

	len = mk(b, 0, o4, sizeof(o4), 0, DV_TH_SYN);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, eno3, 3), 0);
	ck_assert_uint_eq(p.len, sizeof(want4));
	ck_assert_mem_eq(b, want4, sizeof(want4));

	len = mk(b, 1, o6, sizeof(o6), 100, DV_TH_ACK);
	ck_assert_int_eq(dv_pkt_parse(&p, b, len, sizeof(b)), 0);
	ck_assert_int_eq(dv_pkt_add_option(&p, (const uint8_t[]){ 69, 2 }, 2), 0);
	ck_assert_uint_eq(p.len, 40 + sizeof(want6_tcp) + 100);
	ck_assert_mem_eq(b, want6_hdr, sizeof(want6_hdr));
	ck_assert_mem_eq(b + 40, want6_tcp, sizeof(want6_tcp));
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
	tcase_add_test(tc, seq_ack);
	tcase_add_test(tc, payload_moves_v6);
	tcase_add_test(tc, known_answers);
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
