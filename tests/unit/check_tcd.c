/*
 * check_tcd.c - unit tests of tcpcrypt-decrypt's stream reassembly
 * (wireshark/tcd_stream.c: out-of-order, retransmitted, overlapping and
 * truncated segments) and frame reading (wireshark/tcd_frames.c: frames
 * sealed by libtcpcrypt, a rekey, a missing segment, the offset map).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
#include "frame.h"
#include "keysched.h"
#include "session.h"
#include "tcd_frames.h"
#include "tcd_stream.h"
#include "traffic_key.h"

static const uint8_t text[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

START_TEST(stream_out_of_order_and_retransmitted)
{
	struct tcd_stream s = { 0 };

	/* 40..62 first, then 0..20, a retransmission of 10..30, then 20..40 */
	ck_assert_int_eq(tcd_stream_add(&s, 40, text + 40, 22, 22), 0);
	ck_assert_int_eq(tcd_stream_add(&s, 0, text, 20, 20), 0);
	ck_assert(!tcd_stream_has(&s, 0, 62));
	ck_assert_int_eq(tcd_stream_add(&s, 10, text + 10, 20, 20), 0);
	ck_assert_int_eq(tcd_stream_add(&s, 20, text + 20, 20, 20), 0);
	ck_assert(tcd_stream_has(&s, 0, 62));
	ck_assert_uint_eq(s.end, 62);
	ck_assert_mem_eq(s.buf, text, 62);
	ck_assert_uint_eq(s.conflicts, 0);
	tcd_stream_free(&s);
}
END_TEST

START_TEST(stream_first_copy_wins)
{
	struct tcd_stream s = { 0 };

	ck_assert_int_eq(tcd_stream_add(&s, 0, text, 10, 10), 0);
	ck_assert_int_eq(tcd_stream_add(&s, 5, (const uint8_t *)"XXXXXXXXXX", 10, 10), 0);
	ck_assert_mem_eq(s.buf, text, 10);
	ck_assert_mem_eq(s.buf + 10, "XXXXX", 5);
	ck_assert_uint_eq(s.conflicts, 5);
	tcd_stream_free(&s);
}
END_TEST

START_TEST(stream_truncated)
{
	struct tcd_stream s = { 0 };

	/* 30 bytes sent, 12 captured (snap length), then the next segment */
	ck_assert_int_eq(tcd_stream_add(&s, 0, text, 12, 30), 0);
	ck_assert_int_eq(tcd_stream_add(&s, 30, text + 30, 10, 10), 0);
	ck_assert_uint_eq(s.end, 40);
	ck_assert(tcd_stream_has(&s, 0, 12));
	ck_assert(!tcd_stream_has(&s, 0, 13));
	ck_assert(tcd_stream_has(&s, 30, 10));
	ck_assert(!tcd_stream_has(&s, 35, 10));
	/* a segment past the limit is not kept */
	ck_assert_int_eq(tcd_stream_add(&s, TCD_STREAM_MAX + 5, text, 5, 5), 0);
	ck_assert_int_eq(s.truncated, 1);
	tcd_stream_free(&s);
}
END_TEST

/* A's stream: 77 bytes standing for Init1, then frames of 10, 0 (rekey)
 * and 20 data bytes sealed by libtcpcrypt. */
#define INIT 77
static uint8_t mk0[32];
static uint8_t wire[INIT + 3 * 64];
static size_t wirelen, fstart[4];

static void seal_stream(void)
{
	tc_aead_key k;
	uint8_t mk[32];
	long n;

	memset(mk0, 7, sizeof mk0);
	memcpy(mk, mk0, sizeof mk);
	memset(wire, 0xee, INIT);
	wirelen = INIT;
	ck_assert_int_eq(tc_traffic_key(&k, TCPCRYPT_AEAD_CHACHA20_POLY1305, mk, 1), 0);
	fstart[0] = wirelen;
	n = tc_frame_seal(&k, wirelen, 0, 0, text, 10, wire + wirelen, sizeof wire - wirelen);
	ck_assert_int_gt(n, 0);
	wirelen += (size_t)n;
	tc_ks_next_mk(mk);
	ck_assert_int_eq(tc_traffic_key(&k, TCPCRYPT_AEAD_CHACHA20_POLY1305, mk, 1), 0);
	fstart[1] = wirelen;
	n = tc_frame_seal(&k, wirelen, 1, 0, NULL, 0, wire + wirelen, sizeof wire - wirelen);
	ck_assert_int_gt(n, 0);
	wirelen += (size_t)n;
	fstart[2] = wirelen;
	n = tc_frame_seal(&k, wirelen, 0, TC_FRAME_FL_FIN, text + 10, 20, wire + wirelen,
	                  sizeof wire - wirelen);
	ck_assert_int_gt(n, 0);
	wirelen += (size_t)n;
	fstart[3] = wirelen;
}

START_TEST(frames_rekey_and_map)
{
	struct tcd_stream s = { 0 };
	struct tcd_dir d = { 0 };
	uint64_t start;

	seal_stream();
	/* the stream in three segments, last one first, middle one twice */
	ck_assert_int_eq(tcd_stream_add(&s, 100, wire + 100, wirelen - 100, wirelen - 100), 0);
	ck_assert_int_eq(tcd_stream_add(&s, 0, wire, 50, 50), 0);
	ck_assert_int_eq(tcd_stream_add(&s, 50, wire + 50, 50, 50), 0);
	ck_assert_int_eq(tcd_stream_add(&s, 50, wire + 50, 50, 50), 0);
	ck_assert_int_eq(tcd_frames_read(NULL, &s, INIT, TCPCRYPT_AEAD_CHACHA20_POLY1305, mk0, 1, 1), 1);
	/* B's keys do not open A's frames */
	ck_assert_int_eq(tcd_frames_read(NULL, &s, INIT, TCPCRYPT_AEAD_CHACHA20_POLY1305, mk0, 0, 1), 0);
	ck_assert_int_eq(tcd_frames_read(&d, &s, INIT, TCPCRYPT_AEAD_CHACHA20_POLY1305, mk0, 1, 0), 0);
	ck_assert_uint_eq(d.nfr, 3);
	ck_assert_uint_eq(d.nok, 3);
	ck_assert_uint_eq(d.nrekey, 1);
	ck_assert_uint_eq(d.plen, 30);
	ck_assert_mem_eq(d.plain, text, 30);
	ck_assert_int_eq(d.fr[2].pflags & TC_FRAME_FL_FIN, TC_FRAME_FL_FIN);
	/* the map: Init to 0, the header to the frame's start, data 1:1 */
	ck_assert_uint_eq(tcd_frames_map(&d, 0), 0);
	ck_assert_uint_eq(tcd_frames_map(&d, INIT), 0);
	ck_assert_uint_eq(tcd_frames_map(&d, fstart[0] + 4 + 3), 3);
	ck_assert_uint_eq(tcd_frames_map(&d, fstart[1]), 10);
	ck_assert_uint_eq(tcd_frames_map(&d, fstart[2] + 4 + 20), 30);
	ck_assert_uint_eq(tcd_frames_map(&d, wirelen), 30);
	ck_assert_uint_eq(tcd_frames_map(&d, wirelen + 1), 31);   /* the FIN */
	ck_assert_uint_eq(tcd_frames_run(&d, 0, 30, &start), 30);
	ck_assert_uint_eq(start, 0);
	tcd_frames_free(&d);
	tcd_stream_free(&s);
}
END_TEST

START_TEST(frames_missing_segment)
{
	struct tcd_stream s = { 0 };
	struct tcd_dir d = { 0 };
	uint64_t start;

	seal_stream();
	/* the first frame's tail and the second frame are not captured */
	ck_assert_int_eq(tcd_stream_add(&s, 0, wire, fstart[0] + 5, fstart[0] + 5), 0);
	ck_assert_int_eq(tcd_stream_add(&s, fstart[2], wire + fstart[2], wirelen - fstart[2],
	                                wirelen - fstart[2]), 0);
	ck_assert_int_eq(tcd_frames_read(&d, &s, INIT, TCPCRYPT_AEAD_CHACHA20_POLY1305, mk0, 1, 0), 0);
	/* framing is lost at the hole: the header of frame 1 is not there */
	ck_assert_int_eq(d.lost, 1);
	ck_assert_uint_eq(d.nok, 0);
	ck_assert_uint_eq(tcd_frames_run(&d, 0, 100, &start), 0);
	tcd_frames_free(&d);
	memset(&d, 0, sizeof d);
	/* the second frame arrives: the first stays partial, the rest opens
	 * (the rekey of the second frame is followed) */
	ck_assert_int_eq(tcd_stream_add(&s, fstart[1], wire + fstart[1], fstart[2] - fstart[1],
	                                fstart[2] - fstart[1]), 0);
	ck_assert_int_eq(tcd_frames_read(&d, &s, INIT, TCPCRYPT_AEAD_CHACHA20_POLY1305, mk0, 1, 0), 0);
	ck_assert_int_eq(d.lost, 0);
	ck_assert_uint_eq(d.npartial, 1);
	ck_assert_uint_eq(d.nok, 2);
	ck_assert_uint_eq(tcd_frames_run(&d, 0, 30, &start), 20);
	ck_assert_uint_eq(start, 10);
	ck_assert_mem_eq(d.plain + 10, text + 10, 20);
	tcd_frames_free(&d);
	tcd_stream_free(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tcd");
	TCase *t = tcase_create("stream");

	tcase_add_test(t, stream_out_of_order_and_retransmitted);
	tcase_add_test(t, stream_first_copy_wins);
	tcase_add_test(t, stream_truncated);
	suite_add_tcase(s, t);
	t = tcase_create("frames");
	tcase_add_test(t, frames_rekey_and_map);
	tcase_add_test(t, frames_missing_segment);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r;
	int failed;

	if (sodium_init() < 0)
		return 1;
	r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
