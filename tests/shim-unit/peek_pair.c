/*
 * peek_pair.c - recv(MSG_PEEK|MSG_WAITALL) through the shim on an
 * encrypted pair of this process (pair.h): the bytes of several frames
 * returned and nothing consumed (the kernel still holds the same bytes,
 * the next read gets them); the peek stops at a rekey, an urgent mark
 * and the end, at once, as it must not wait for what cannot come; a
 * forged frame behind the open one aborts the connection.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handler.h"
#include "pair.h"
#include "session.h"
#include "signals.h"

/* Three writes, three frames: a peek of 25 bytes takes them from all
 * three, leaves the rest of the buffer and the kernel's bytes alone. */
START_TEST(test_peek_waitall_frames)
{
	const char *w[3] = { "0123456789", "abcdefghij", "KLMNOPQRSTUVWXYZ" };
	static uint8_t raw[4096], raw2[4096];
	char buf[64], got[64];
	size_t n, n2;
	int c, s;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(send_all(c, w[i], strlen(w[i])), 0);
	n = raw_peek(s, raw, sizeof(raw), 36 + 3 * TC_FRAME_OVERHEAD);
	ck_assert_uint_eq(n, 36 + 3 * TC_FRAME_OVERHEAD);
	memset(buf, '.', sizeof(buf));
	ck_assert_int_eq(recv(s, buf, 25, MSG_PEEK | MSG_WAITALL), 25);
	ck_assert_mem_eq(buf, "0123456789abcdefghijKLMNO", 25);
	ck_assert_int_eq(buf[25], '.');
	ck_assert_int_eq(recv(s, buf, sizeof(buf), MSG_PEEK | MSG_WAITALL | MSG_DONTWAIT), 36);
	/* the open frame's last byte stays in the kernel, the rest as it was */
	n2 = raw_peek(s, raw2, sizeof(raw2), 1);
	ck_assert_uint_ge(n2, 1 + 2 * TC_FRAME_OVERHEAD + 26);
	ck_assert_mem_eq(raw2 + n2 - (26 + 2 * TC_FRAME_OVERHEAD), raw + n - (26 + 2 * TC_FRAME_OVERHEAD),
	                 26 + 2 * TC_FRAME_OVERHEAD);
	ck_assert_int_eq(recv_all(s, got, 36), 0);
	ck_assert_mem_eq(got, buf, 36);
	close(c);
	close(s);
}
END_TEST

/* The peek stops, without waiting, before a frame under the next key:
 * the bytes before it, and a read then gets all of them. */
START_TEST(test_peek_waitall_rekey)
{
	static char big[4096], got[8192];
	char buf[16];
	int c, s;

	setenv("TCPCRYPT_REKEY_BYTES", "4096", 1);
	settings_reload();
	ck_assert_int_eq(pair_open(&c, &s), 0);
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(send_all(c, big, 1024), 0);
	ck_assert_int_eq(send_all(c, "abc", 3), 0);    /* rekey=1: 4096 bytes went */
	ck_assert_uint_eq(raw_peek(s, (uint8_t *)got, sizeof(got), 4099 + 5 * TC_FRAME_OVERHEAD),
	                  4099 + 5 * TC_FRAME_OVERHEAD);
	ck_assert_int_eq(recv_all(s, got, 4091), 0);
	ck_assert_int_eq(recv(s, buf, 8, MSG_PEEK | MSG_WAITALL), 5);
	ck_assert_mem_eq(buf, "xxxxx", 5);
	ck_assert_int_eq(recv(s, buf, 8, MSG_WAITALL), 8);
	ck_assert_mem_eq(buf, "xxxxxabc", 8);
	close(c);
	close(s);
}
END_TEST

/* The peek stops at an urgent mark and at the end (FINp), at once. At
 * the mark, before the frame that holds it: the kernel's own peek stops
 * at its mark (that frame's last byte), so the frame is never whole
 * there; plain TCP would give the frame's bytes before the urgent one. */
START_TEST(test_peek_waitall_mark_end)
{
	char buf[16];
	int c, s;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(send_all(c, "abc", 3), 0);
	ck_assert_int_eq(send(c, "de!", 3, MSG_OOB), 3);
	ck_assert_uint_ge(raw_peek(s, (uint8_t *)buf, sizeof(buf), 6 + 2 * TC_FRAME_OVERHEAD + 2), 1);
	ck_assert_int_eq(recv(s, buf, 10, MSG_PEEK | MSG_WAITALL), 3);   /* (plain TCP: "abcde") */
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_int_eq(recv(s, buf, 10, MSG_DONTWAIT), 5);
	ck_assert_mem_eq(buf, "abcde", 5);
	ck_assert_int_eq(recv(s, buf, 1, MSG_OOB), 1);
	ck_assert_int_eq(buf[0], '!');
	ck_assert_int_eq(send_all(c, "fg", 2), 0);
	ck_assert_int_eq(send_all(c, "hij", 3), 0);
	ck_assert_int_eq(shutdown(c, SHUT_WR), 0);
	ck_assert_int_eq(recv(s, buf, 10, MSG_PEEK | MSG_WAITALL), 5);
	ck_assert_mem_eq(buf, "fghij", 5);
	ck_assert_int_eq(recv(s, buf, 10, MSG_WAITALL), 5);
	ck_assert_int_eq(recv(s, buf, 10, MSG_PEEK | MSG_WAITALL), 0);
	close(c);
	close(s);
}
END_TEST

/* A forged frame (written past the shim) behind a good one: the peek
 * aborts the connection, as the read of the forged frame would, and
 * fails with its error (the good bytes can no longer be read either);
 * nothing of the forged frame reaches the buffer. */
START_TEST(test_peek_waitall_forged)
{
	uint8_t forged[TC_FRAME_OVERHEAD + 5] = { 0, 0, TC_FRAME_OVERHEAD + 5 - TC_FRAME_HDR };
	char buf[16];
	int c, s;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(send_all(c, "abc", 3), 0);
	memset(forged + TC_FRAME_HDR, 'Z', sizeof(forged) - TC_FRAME_HDR);
	ck_assert_int_eq(raw_syscall(SYS_write, c, (long)forged, sizeof(forged), 0, 0, 0),
	                 (long)sizeof(forged));
	ck_assert_uint_eq(raw_peek(s, (uint8_t *)buf, sizeof(buf), sizeof(buf)), sizeof(buf));
	memset(buf, '.', sizeof(buf));
	ck_assert_int_eq(recv(s, buf, 8, MSG_PEEK | MSG_WAITALL), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_mem_eq(buf, "abc.....", 8);
	ck_assert_int_eq(recv(s, buf, 8, 0), -1);
	ck_assert_int_eq(errno, EBADMSG);
	close(c);
	close(s);
}
END_TEST

void add_peek_tests(Suite *su, void (*setup)(void))
{
	TCase *tc = tcase_create("peek_waitall");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_peek_waitall_frames);
	tcase_add_test(tc, test_peek_waitall_rekey);
	tcase_add_test(tc, test_peek_waitall_mark_end);
	tcase_add_test(tc, test_peek_waitall_forged);
	suite_add_tcase(su, tc);
}
