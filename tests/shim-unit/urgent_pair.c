/*
 * urgent_pair.c - urgent data through the shim on an encrypted pair of
 * this process (pair.h), so that the sanitizers and valgrind see every
 * path of it: the mark in a frame read whole into the reader's buffer
 * (its tail going back to the shim), in a frame kept in the shim, before
 * the keys, SO_OOBINLINE, MSG_PEEK, FIONREAD; and that the urgent byte
 * never crosses the loopback in clear.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pair.h"
#include "signals.h"

/* Waits until fd reports the given poll events (2 s at most). */
static int wait_ev(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, 2000) == 1 && (p.revents & ev);
}

static int atmark(int fd)
{
	int m = -1;

	ck_assert_int_eq(ioctl(fd, SIOCATMARK, &m), 0);
	return m;
}

/* One send "abcd!" with MSG_OOB: '!' is urgent. The reader gets "abcd",
 * is at the mark, reads '!' out of band, and the next read passes it. */
START_TEST(test_urgent_basic)
{
	uint8_t raw[4096];
	char buf[64];
	int c, s, n;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(send(c, "abcd!", 5, MSG_OOB), 5);
	ck_assert(wait_ev(s, POLLPRI));
	/* the ciphertext, not the urgent data, is what the kernel carried */
	n = (int)raw_peek(s, raw, sizeof(raw), 25);
	ck_assert_int_ge(n, 25);
	ck_assert(!contains(raw, (size_t)n, "abcd!", 5));
	ck_assert_int_eq(ioctl(s, FIONREAD, &n), 0);
	ck_assert_int_eq(n, 4);                       /* up to the mark, as plain TCP */
	ck_assert_int_eq(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 4);
	ck_assert_mem_eq(buf, "abcd", 4);
	ck_assert_int_eq(atmark(s), 1);
	ck_assert_int_eq(recv(s, buf, 1, MSG_OOB | MSG_PEEK), 1);
	ck_assert_int_eq(buf[0], '!');
	ck_assert_int_eq(recv(s, buf, 1, MSG_OOB), 1);
	ck_assert_int_eq(buf[0], '!');
	ck_assert_int_eq(recv(s, buf, 1, MSG_OOB), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(atmark(s), 1);
	ck_assert_int_eq(recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(atmark(s), 0);
	/* the stream goes on */
	ck_assert_int_eq(send_all(c, "more", 4), 0);
	ck_assert_int_eq(recv_all(s, buf, 4), 0);
	ck_assert_mem_eq(buf, "more", 4);
	close(c);
	close(s);
}
END_TEST

/* Two urgent sends before the reader comes: the first frame is opened
 * straight into the reader's buffer (the kernel marks only the second),
 * the part from its mark on goes back to the shim; both bytes are read
 * out of band, each at its mark. With SO_OOBINLINE they stay in the
 * stream and reads still stop at each mark. */
START_TEST(test_urgent_two_marks)
{
	char buf[64];
	int c, s, on = 1, v = 0;
	socklen_t l = sizeof(v);

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(send(c, "aU", 2, MSG_OOB), 2);
	ck_assert_int_eq(send(c, "bV", 2, MSG_OOB), 2);
	ck_assert(wait_ev(s, POLLPRI));
	usleep(100000);
	ck_assert_int_eq(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 1);
	ck_assert_int_eq(buf[0], 'a');
	ck_assert_int_eq(recv(s, buf, 1, MSG_OOB), 1);
	ck_assert_int_eq(buf[0], 'U');
	ck_assert_int_eq(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 1);
	ck_assert_int_eq(buf[0], 'b');
	ck_assert_int_eq(atmark(s), 1);
	ck_assert_int_eq(recv(s, buf, 1, MSG_OOB), 1);
	ck_assert_int_eq(buf[0], 'V');
	ck_assert_int_eq(recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);   /* passes the mark */
	ck_assert_int_eq(errno, EAGAIN);

	/* inline */
	ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on)), 0);
	ck_assert_int_eq(getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, &l), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(send(c, "xyZ", 3, MSG_OOB), 3);
	ck_assert_int_eq(send_all(c, "tail", 4), 0);
	ck_assert(wait_ev(s, POLLPRI));
	usleep(100000);
	ck_assert_int_eq(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 2);
	ck_assert_mem_eq(buf, "xy", 2);
	ck_assert_int_eq(atmark(s), 1);
	ck_assert_int_eq(recv(s, buf, 1, MSG_OOB), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_ge(recv(s, buf, sizeof(buf), MSG_PEEK), 1);   /* (one frame at most) */
	ck_assert_int_eq(buf[0], 'Z');
	ck_assert_int_eq(recv_all(s, buf, 5), 0);
	ck_assert_mem_eq(buf, "Ztail", 5);
	close(c);
	close(s);
}
END_TEST

/* A large urgent send: the urgent byte ends the last of several frames. */
START_TEST(test_urgent_large)
{
	static char big[150000], got[150000];
	char b;
	int c, s;
	size_t have = 0;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(send(c, big, 65518 * 2 + 1, MSG_OOB), 65518 * 2 + 1);
	while (have < 65518 * 2) {
		ssize_t r;

		ck_assert(wait_ev(s, POLLIN));
		r = recv(s, got + have, sizeof(got) - have, MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN)
			continue;
		ck_assert_int_gt(r, 0);
		have += (size_t)r;
	}
	ck_assert_uint_eq(have, 65518 * 2);
	ck_assert_mem_eq(got, big, have);
	ck_assert_int_eq(atmark(s), 1);
	ck_assert_int_eq(recv(s, &b, 1, MSG_OOB), 1);
	ck_assert_int_eq(b, big[65518 * 2]);
	close(c);
	close(s);
}
END_TEST

void add_urgent_tests(Suite *su, void (*setup)(void))
{
	TCase *tc = tcase_create("urgent");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_urgent_basic);
	tcase_add_test(tc, test_urgent_two_marks);
	tcase_add_test(tc, test_urgent_large);
	suite_add_tcase(su, tc);
}
