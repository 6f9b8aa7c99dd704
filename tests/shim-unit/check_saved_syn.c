/*
 * check_saved_syn.c - the saved SYN (shim/saved_syn.c), which the divert
 * backend's table fallback matches with a slot: the parser on IPv4 (with
 * and without IP options) and IPv6 headers, and its refusals; then the
 * kernel's own saved SYN of a connection over 127.0.0.1, read once, and
 * none on the active side.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libc_syms.h"
#include "saved_syn.h"
#include "shim.h"

/* A TCP header at b with sequence number seq and flags fl. */
static void tcp_hdr(uint8_t *b, uint32_t seq, uint8_t fl)
{
	memset(b, 0, 20);
	b[0] = 0x9c, b[1] = 0x40;                 /* source port 40000 */
	b[2] = 0x1e, b[3] = 0x78;                 /* destination 7800 */
	b[4] = (uint8_t)(seq >> 24), b[5] = (uint8_t)(seq >> 16);
	b[6] = (uint8_t)(seq >> 8), b[7] = (uint8_t)seq;
	b[12] = 5 << 4;
	b[13] = fl;
}

START_TEST(test_parse_ipv4)
{
	uint8_t b[64];
	uint32_t seq = 0;

	memset(b, 0, sizeof(b));
	b[0] = 0x45, b[9] = IPPROTO_TCP;
	tcp_hdr(b + 20, 0xdeadbeef, 0x02);
	ck_assert_int_eq(tc_saved_syn_parse(b, 40, &seq), 0);
	ck_assert_uint_eq(seq, 0xdeadbeef);
	/* IP options (IHL 6): the TCP header starts 4 bytes later */
	b[0] = 0x46;
	tcp_hdr(b + 24, 0x01020304, 0x02);
	ck_assert_int_eq(tc_saved_syn_parse(b, 44, &seq), 0);
	ck_assert_uint_eq(seq, 0x01020304);
	/* truncated, not TCP, not a SYN, bad IHL, bad version */
	ck_assert_int_eq(tc_saved_syn_parse(b, 43, &seq), -EINVAL);
	b[9] = IPPROTO_UDP;
	ck_assert_int_eq(tc_saved_syn_parse(b, 44, &seq), -EINVAL);
	b[9] = IPPROTO_TCP;
	b[24 + 13] = 0x10;
	ck_assert_int_eq(tc_saved_syn_parse(b, 44, &seq), -EINVAL);
	b[0] = 0x44;
	ck_assert_int_eq(tc_saved_syn_parse(b, 44, &seq), -EINVAL);
	b[0] = 0x55;
	ck_assert_int_eq(tc_saved_syn_parse(b, 44, &seq), -EINVAL);
	ck_assert_int_eq(tc_saved_syn_parse(b, 0, &seq), -EINVAL);
}
END_TEST

START_TEST(test_parse_ipv6)
{
	uint8_t b[80];
	uint32_t seq = 0;

	memset(b, 0, sizeof(b));
	b[0] = 0x60, b[6] = IPPROTO_TCP;
	tcp_hdr(b + 40, 0x80000001, 0x02);
	ck_assert_int_eq(tc_saved_syn_parse(b, 60, &seq), 0);
	ck_assert_uint_eq(seq, 0x80000001);
	ck_assert_int_eq(tc_saved_syn_parse(b, 59, &seq), -EINVAL);
	b[6] = 0;                                 /* a hop-by-hop header: not parsed */
	ck_assert_int_eq(tc_saved_syn_parse(b, 60, &seq), -EINVAL);
}
END_TEST

/* A connection over 127.0.0.1 whose listener keeps SYNs: the child's is
 * there once, the client's socket has none. */
START_TEST(test_kernel_saved_syn)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	uint32_t seq = 0;
	int l, c, s;

	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &al), 0);
	tc_saved_syn_enable(l);
	ck_assert_int_eq(listen(l, 1), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	s = accept(l, NULL, NULL);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(tc_saved_syn_seq(s, &seq), 0);
	ck_assert_int_eq(tc_saved_syn_seq(s, &seq), -ENOENT);   /* freed once read */
	ck_assert_int_eq(tc_saved_syn_seq(c, &seq), -ENOENT);
	close(s);
	close(c);
	close(l);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("saved_syn");
	TCase *tc = tcase_create("saved_syn");
	SRunner *sr;
	int failed;

	tc_shim_setup();            /* what the module's constructor does */
	tcase_add_test(tc, test_parse_ipv4);
	tcase_add_test(tc, test_parse_ipv6);
	tcase_add_test(tc, test_kernel_saved_syn);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
