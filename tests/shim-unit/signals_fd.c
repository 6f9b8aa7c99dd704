/*
 * signals_fd.c - check_shim's signal cases on the fd table: while the
 * test's main thread is blocked in recv on an encrypted connection (inside
 * the shim), a signal handler
 *  - closes a second fd of the connection implicitly (dup2/dup3 onto it,
 *    close_range, closefrom, fclose of a FILE on it): the shim must forget
 *    that fd at once, so that a plain socket later at the same number is
 *    plain, and the connection's last fd must still end it in order;
 *  - duplicates the connection (dup, dup2, dup3, fcntl F_DUPFD*): refused
 *    (an untracked fd on the connection would write clear text); fdopen
 *    on it gives the shim's FILE, whose flush there is refused (EAGAIN),
 *    never the C library's, which writes past the shim;
 *  - asks FIONREAD: refused like the data calls (EAGAIN), never the
 *    kernel's ciphertext count.
 * tcpcrypt(7), "SIGNAL HANDLERS".
 */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handler.h"
#include "libc_syms.h"
#include "pair.h"
#include "signals.h"

#define SECOND 200               /* the connection's second fd */
#define TARGET 210               /* where a refused dup would have gone */

static int h_conn, h_second, h_plain;   /* the handler's fds */
static FILE *h_file;
static int h_count;

/* The handler's calls. */
static long dup2_onto(void)    { return dup2(h_plain, h_second); }
static long dup3_onto(void)    { return dup3(h_plain, h_second, O_CLOEXEC); }
static long range_over(void)   { return close_range(h_second - 1, h_second + 1, 0); }
static long from_below(void)   { closefrom(h_second); return 0; }
static long fclose_on(void)    { return fclose(h_file); }
static long dup_conn(void)     { return dup(h_conn); }
static long dup2_conn(void)    { return dup2(h_conn, TARGET); }
static long dup3_conn(void)    { return dup3(h_conn, TARGET, O_CLOEXEC); }
static long dupfd_conn(void)   { return fcntl(h_conn, F_DUPFD, TARGET); }
static long dupfd_ce_conn(void){ return fcntl(h_conn, F_DUPFD_CLOEXEC, TARGET); }
static long fionread(void)     { return ioctl(h_conn, FIONREAD, &h_count); }

static const char marker[] = "MARKER-written-by-a-signal-handler";

/* fdopen on the connection, the marker written and flushed. */
static long fdopen_write(void)
{
	h_file = fdopen(h_conn, "w");
	if (!h_file)
		return -2;
	fputs(marker, h_file);
	return fflush(h_file);
}

/* check_shim exports none of the wrappers linked into it, so the shim's
 * look-up of the real fclose meets libc's as the program's own and takes
 * it for a second shim (its fallback: ENOSYS); the preloaded module finds
 * libc's. This gives the shim libc's. */
static void use_libc_fclose(void)
{
	tc_real_fclose = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
	ck_assert_ptr_nonnull(tc_real_fclose);
}

/* Runs call in a handler while the main thread is blocked in recv(c),
 * which the peer s then wakes. */
static void while_blocked(handler_call call, int c, int s)
{
	char got[sizeof(handler_wake)];
	pthread_t t;
	ssize_t n;

	handler_arm(call);           /* first: the helper waits for h_fired */
	start_helper(&t, wake_after_handler, &s);
	n = recv(c, got, sizeof(got), 0);
	handler_disarm();
	pthread_join(t, NULL);
	ck_assert_int_eq(h_fired, 1);
	ck_assert_int_eq(n, sizeof(got));
	ck_assert_mem_eq(got, handler_wake, sizeof(got));
}

/* 1 if fd is open, asked past the shim. */
static int raw_open(int fd)
{
	return raw_syscall(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0) >= 0;
}

/* fd carries plain bytes both ways with its socketpair peer other (the
 * shim takes it for no connection). Closes both. */
static void check_plain(int fd, int other)
{
	char got[16];

	ck_assert_int_eq(write(fd, "plain", 5), 5);
	ck_assert_int_eq(raw_syscall(SYS_recvfrom, other, (long)got, (long)sizeof(got), MSG_DONTWAIT, 0, 0), 5);
	ck_assert_mem_eq(got, "plain", 5);
	ck_assert_int_eq(raw_syscall(SYS_sendto, other, (long)"back", 4, 0, 0, 0), 4);
	ck_assert_int_eq(recv(fd, got, sizeof(got), MSG_DONTWAIT), 4);
	ck_assert_mem_eq(got, "back", 4);
	close(fd);
	close(other);
}

/* fd (closed) is free of the connection: a socketpair end put there
 * behind the shim's back, close-on-exec, is plain and reads back as
 * close-on-exec (the shim's own mark on the connection's fd is gone). */
static void check_forgotten(int fd)
{
	int sp[2];

	ck_assert_msg(!raw_open(fd), "fd %d is still open", fd);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(raw_syscall(SYS_dup3, sp[0], fd, O_CLOEXEC, 0, 0, 0), fd);
	close(sp[0]);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	check_plain(fd, sp[1]);
}

/* The connection still carries sealed data both ways, and closing c (its
 * last fd) ends it in order: the peer reads the end of the stream, which
 * takes tcpcrypt's end frame (a connection the shim still counted a
 * second fd of would end without it, an error at the peer). */
static void check_conn_ends_in_order(int c, int s)
{
	char got[sizeof(handler_wake)];

	ck_assert_int_eq(send_all(c, handler_wake, sizeof(got)), 0);
	ck_assert_int_eq(recv_all(s, got, sizeof(got)), 0);
	ck_assert_int_eq(send_all(s, handler_wake, sizeof(got)), 0);
	ck_assert_int_eq(recv_all(c, got, sizeof(got)), 0);
	ck_assert_int_eq(close(c), 0);
	ck_assert_int_eq(recv(s, got, sizeof(got), 0), 0);
	close(s);
}

/* A connection c (peer s) with a second fd at SECOND. */
static void open_with_second(int *c, int *s)
{
	ck_assert_int_eq(pair_open(c, s), 0);
	ck_assert_int_eq(dup2(*c, SECOND), SECOND);
	h_conn = *c;
	h_second = SECOND;
}

/* Implicit closes of the second fd: dup2/dup3 onto it (a plain socket
 * takes its number), close_range and closefrom over it. */
static const struct {
	handler_call call;
	int onto;                    /* the plain socket takes the number */
	int fd_flags;                /* F_GETFD of it then */
} implicit[] = {
	{ dup2_onto, 1, 0 }, { dup3_onto, 1, FD_CLOEXEC }, { range_over, 0, 0 }, { from_below, 0, 0 },
};

START_TEST(test_handler_implicit_close)
{
	int c, s, sp[2];

	open_with_second(&c, &s);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	h_plain = sp[0];
	while_blocked(implicit[_i].call, c, s);
	ck_assert_int_eq(h_ret, implicit[_i].onto ? SECOND : 0);
	close(sp[0]);
	if (implicit[_i].onto) {
		ck_assert_int_eq(fcntl(SECOND, F_GETFD), implicit[_i].fd_flags);
		check_plain(SECOND, sp[1]);
	} else {
		close(sp[1]);
		check_forgotten(SECOND);
	}
	check_conn_ends_in_order(c, s);
}
END_TEST

/* fclose of a FILE whose fd is the connection's second fd: a C library
 * FILE (opened on /dev/null, the connection dup2'ed onto its fd), or
 * (own) the shim's own FILE from fdopen on a connection. */
START_TEST(test_handler_fclose)
{
	int c, s, own = _i;

	use_libc_fclose();
	open_with_second(&c, &s);
	if (!own) {
		int null = open("/dev/null", O_RDONLY);

		ck_assert_int_ge(null, 0);
		ck_assert_int_eq(close(SECOND), 0);
		ck_assert_int_eq(dup2(null, SECOND), SECOND);
		close(null);
		h_file = fdopen(SECOND, "r");
		ck_assert_int_eq(dup2(c, SECOND), SECOND);
	} else {
		h_file = fdopen(SECOND, "r");
	}
	ck_assert_ptr_nonnull(h_file);
	while_blocked(fclose_on, c, s);
	ck_assert_msg(h_ret == 0, "fclose: %ld, errno %d", (long)h_ret, (int)h_err);
	check_forgotten(SECOND);
	check_conn_ends_in_order(c, s);
}
END_TEST

/* Duplicates of the connection in a handler: refused, with the errno
 * each call documents for "no new fd now", and no fd made. */
static const struct {
	handler_call call;
	int err;
} dups[] = {
	{ dup_conn, EMFILE }, { dup2_conn, EBUSY }, { dup3_conn, EBUSY },
	{ dupfd_conn, EMFILE }, { dupfd_ce_conn, EMFILE },
};

START_TEST(test_handler_dup_refused)
{
	int c, s;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	h_conn = c;
	ck_assert(!raw_open(TARGET));
	while_blocked(dups[_i].call, c, s);
	if (h_ret >= 0)
		raw_syscall(SYS_close, h_ret, 0, 0, 0, 0, 0);
	ck_assert_int_eq(h_ret, -1);
	ck_assert_int_eq(h_err, dups[_i].err);
	ck_assert(!raw_open(TARGET));
	check_conn_ends_in_order(c, s);
}
END_TEST

START_TEST(test_handler_fdopen_write)
{
	uint8_t raw[4096];
	char got[sizeof(marker)];
	int c, s;
	ssize_t n;

	use_libc_fclose();
	ck_assert_int_eq(pair_open(&c, &s), 0);
	h_conn = c;
	h_file = NULL;
	while_blocked(fdopen_write, c, s);
	ck_assert_int_eq(h_ret, EOF);
	ck_assert_int_eq(h_err, EAGAIN);
	n = raw_syscall(SYS_recvfrom, s, (long)raw, (long)sizeof(raw), MSG_PEEK | MSG_DONTWAIT, 0, 0);
	ck_assert_msg(n <= 0 || !contains(raw, (size_t)n, marker, 8), "the handler's marker is on the wire in clear");
	fclose(h_file);                          /* the shim's FILE: closes c */
	ck_assert(!raw_open(c));
	n = recv(s, got, sizeof(got), 0);        /* the marker (sealed) or the end */
	if (n > 0) {
		ck_assert_int_eq(n, sizeof(marker));
		ck_assert_mem_eq(got, marker, sizeof(marker));
		n = recv(s, got, sizeof(got), 0);
	}
	ck_assert_int_eq(n, 0);
	close(s);
}
END_TEST

/* FIONREAD (SIOCINQ is the same request) in a handler: EAGAIN like the
 * data calls. */
START_TEST(test_handler_fionread_refused)
{
	int c, s;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	h_conn = c;
	h_count = -1;
	while_blocked(fionread, c, s);
	ck_assert_int_eq(h_ret, -1);
	ck_assert_int_eq(h_err, EAGAIN);
	ck_assert_int_eq(h_count, -1);
	check_conn_ends_in_order(c, s);
}
END_TEST

void add_signal_fd_tests(Suite *su, void (*setup)(void))
{
	TCase *tc = tcase_create("signals_fd");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_handler_implicit_close, 0, (int)(sizeof(implicit) / sizeof(implicit[0])));
	tcase_add_loop_test(tc, test_handler_fclose, 0, 2);
	tcase_add_loop_test(tc, test_handler_dup_refused, 0, (int)(sizeof(dups) / sizeof(dups[0])));
	tcase_add_test(tc, test_handler_fdopen_write);
	tcase_add_test(tc, test_handler_fionread_refused);
	suite_add_tcase(su, tc);
}
