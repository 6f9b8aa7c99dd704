/*
 * signals.c - check_shim's signal cases: a timer signal's handler writes
 * to (or closes) an encrypted connection while the test's main thread is
 * blocked inside the shim on it (recv, send with a full buffer, the
 * first read after connect() waiting for the key exchange; and blocked in
 * poll, outside the shim's locks). The handler's write must never put its MARKER on the
 * wire in clear: inside the shim it fails with EAGAIN (tcpcrypt(7),
 * "Signal handlers"); a closed connection's fd number, reused by a plain
 * socket, is a plain socket.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "handler.h"
#include "pair.h"
#include "signals.h"

static const char marker[] = "MARKER-written-by-a-signal-handler";

static int h_fd;                          /* the handler's fd */

/* The handler's calls: one write of the marker, or one close, on h_fd. */
static long write_marker(void)
{
	return write(h_fd, marker, sizeof(marker));
}

/* The same through the C library's syscall(): the name binds to the
 * shim's routing wrapper (syscall.c). */
static long syscall_write_marker(void)
{
	return syscall(SYS_write, h_fd, marker, sizeof(marker));
}

static long close_fd(void)
{
	return close(h_fd);
}

static void arm(handler_call call, int fd)
{
	h_fd = fd;
	handler_arm(call);
}

/* What the kernel holds for fd right now (bypassing the shim). */
static size_t raw_pending(int fd, uint8_t *buf, size_t cap)
{
	long n = raw_syscall(SYS_recvfrom, fd, (long)buf, (long)cap, MSG_PEEK | MSG_DONTWAIT, 0, 0);

	return n > 0 ? (size_t)n : 0;
}

/* The handler's write was refused as documented, the marker is not on the
 * wire towards peer, and peer reads nothing (or the marker, decrypted). */
static void check_refused(int peer)
{
	uint8_t raw[65536], got[sizeof(marker)];
	ssize_t n;

	ck_assert_int_eq(h_fired, 1);
	ck_assert_int_eq(h_ret, -1);
	ck_assert_int_eq(h_err, EAGAIN);
	ck_assert_msg(!contains(raw, raw_pending(peer, raw, sizeof(raw)), marker, 8),
	              "the handler's marker is on the wire in clear");
	n = recv(peer, got, sizeof(got), MSG_DONTWAIT);
	ck_assert_msg(n < 0 ? errno == EAGAIN : (n == sizeof(marker) && !memcmp(got, marker, (size_t)n)),
	              "the peer read something else than nothing or the marker");
}

/* Both directions still carry authenticated data. */
static void check_still_works(int c, int s)
{
	char got[sizeof(handler_wake)];

	ck_assert_int_eq(send_all(c, handler_wake, sizeof(handler_wake)), 0);
	ck_assert_int_eq(recv_all(s, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, handler_wake, sizeof(handler_wake));
	ck_assert_int_eq(send_all(s, handler_wake, sizeof(handler_wake)), 0);
	ck_assert_int_eq(recv_all(c, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, handler_wake, sizeof(handler_wake));
}

/* The main thread blocked in recv inside the shim; the handler makes
 * call on the connection: refused, nothing in clear, the connection
 * still works. */
static void write_during_recv(handler_call call)
{
	int c, s;
	char got[64];
	pthread_t t;
	ssize_t n;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	arm(call, c);                /* first: the helper waits for h_fired */
	start_helper(&t, wake_after_handler, &s);
	n = recv(c, got, sizeof(got), 0);        /* blocked in the shim */
	handler_disarm();
	pthread_join(t, NULL);
	ck_assert_int_eq(n, sizeof(handler_wake));
	ck_assert_mem_eq(got, handler_wake, sizeof(handler_wake));
	check_refused(s);
	check_still_works(c, s);
	close(c);
	close(s);
}

START_TEST(test_handler_write_during_recv)
{
	write_during_recv(write_marker);
}
END_TEST

/* The same through syscall(SYS_write): routed to the shim's write, which
 * refuses it, not passed to the kernel because the thread is inside the
 * shim (it was, before: the marker went out in clear). */
START_TEST(test_handler_syscall_write_during_recv)
{
	write_during_recv(syscall_write_marker);
}
END_TEST

/* The peer end of a bulk send, read raw (bypassing the shim) from 400 ms
 * on until the sender is done: *found set if the marker is in it. */
struct drain {
	int fd, found;
	volatile int done;
	size_t total;
};

static void *drain_raw(void *arg)
{
	struct drain *d = arg;
	uint8_t buf[65536 + sizeof(marker)];
	size_t keep = 0;
	int idle = 0;

	sleep_ms(400);
	while (idle < 3) {
		struct pollfd p = { d->fd, POLLIN, 0 };
		long n;

		/* (the kernel's poll too: the shim's would look for frames in a
		 * stream read past it, and arm its low-water mark on them) */
		if (raw_syscall(SYS_poll, (long)&p, 1, 100, 0, 0, 0) <= 0) {
			idle += __atomic_load_n(&d->done, __ATOMIC_ACQUIRE);
			continue;
		}
		n = raw_syscall(SYS_recvfrom, d->fd, (long)(buf + keep), (long)(sizeof(buf) - keep), MSG_DONTWAIT, 0, 0);
		if (n == 0)
			break;
		if (n < 0)
			continue;
		d->total += (size_t)n;
		if (contains(buf, keep + (size_t)n, marker, sizeof(marker) - 1))
			d->found = 1;
		/* the tail, for a marker across two reads */
		if (keep + (size_t)n >= sizeof(marker) - 1) {
			memmove(buf, buf + keep + (size_t)n - (sizeof(marker) - 1), sizeof(marker) - 1);
			keep = sizeof(marker) - 1;
		} else {
			keep += (size_t)n;
		}
	}
	return NULL;
}

START_TEST(test_handler_write_during_full_send)
{
	static char bulk[4 << 20];
	struct drain d = { .found = 0 };
	int c, s, small = 32768;
	pthread_t t;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	ck_assert_int_eq(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	memset(bulk, 'a', sizeof(bulk));
	d.fd = s;
	start_helper(&t, drain_raw, &d);
	arm(write_marker, c);
	ck_assert_int_eq(send_all(c, bulk, sizeof(bulk)), 0);   /* blocks: nobody reads */
	handler_disarm();
	__atomic_store_n(&d.done, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ck_assert_int_eq(h_fired, 1);
	ck_assert_int_eq(h_ret, -1);
	ck_assert_int_eq(h_err, EAGAIN);
	ck_assert_msg(!d.found, "the handler's marker is on the wire in clear");
	ck_assert_uint_ge(d.total, sizeof(bulk));                 /* all of it, sealed */
	close(c);
	close(s);
}
END_TEST

/* Accepts on the listener 400 ms late, then sends the handler_wake-up text: the
 * connector's connect() has returned at once (as over plain TCP), and its
 * first read waits inside the shim for the key exchange meanwhile. */
struct late {
	int lfd, fd;
};

static void *accept_late(void *arg)
{
	struct late *l = arg;

	sleep_ms(400);
	l->fd = accept(l->lfd, NULL, NULL);
	if (l->fd >= 0)
		send_all(l->fd, handler_wake, sizeof(handler_wake));
	return NULL;
}

START_TEST(test_handler_write_during_handshake_read)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct late l = { -1, -1 };
	struct timespec t0, t1;
	char got[64];
	int port, c;
	pthread_t t;
	ssize_t n;

	l.lfd = bound_socket(&port);
	ck_assert_int_ge(l.lfd, 0);
	ck_assert_int_eq(listen(l.lfd, 8), 0);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(c, 0);
	start_helper(&t, accept_late, &l);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* not held until the server program accepts (400 ms) */
	ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 200);
	arm(write_marker, c);
	n = recv(c, got, sizeof(got), 0);        /* blocked in the shim: Init2 is not here yet */
	handler_disarm();
	pthread_join(t, NULL);
	ck_assert_int_eq(n, sizeof(handler_wake));
	ck_assert_mem_eq(got, handler_wake, sizeof(handler_wake));
	ck_assert_int_ge(l.fd, 0);
	check_refused(l.fd);
	check_still_works(c, l.fd);
	close(c);
	close(l.fd);
	close(l.lfd);
}
END_TEST

/* Blocked in poll the thread holds nothing of the shim's: the handler's
 * write is served, sealed. */
START_TEST(test_handler_write_during_poll)
{
	uint8_t raw[4096];
	char got[sizeof(marker)];
	struct pollfd p;
	int c, s, r;
	pthread_t t;
	size_t n;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	arm(write_marker, c);        /* first: the helper waits for h_fired */
	start_helper(&t, wake_after_handler, &s);
	p.fd = c;
	p.events = POLLIN;
	do                                       /* poll is never restarted */
		r = poll(&p, 1, 5000);
	while (r < 0 && errno == EINTR);
	ck_assert_int_eq(r, 1);
	handler_disarm();
	pthread_join(t, NULL);
	ck_assert_int_eq(h_fired, 1);
	ck_assert_int_eq(h_ret, sizeof(marker));
	n = raw_peek(s, raw, sizeof(raw), sizeof(marker) + TC_FRAME_OVERHEAD);
	ck_assert_uint_ge(n, sizeof(marker) + TC_FRAME_OVERHEAD);
	ck_assert_msg(!contains(raw, n, marker, 8), "the handler's marker is on the wire in clear");
	ck_assert_int_eq(recv_all(s, got, sizeof(got)), 0);
	ck_assert_mem_eq(got, marker, sizeof(marker));
	ck_assert_int_eq(recv_all(c, got, sizeof(handler_wake)), 0);
	ck_assert_mem_eq(got, handler_wake, sizeof(handler_wake));
	close(c);
	close(s);
}
END_TEST

/* The handler closes the connection the main thread is blocked on; the
 * fd number then comes back as a plain socket (socketpair, which the
 * shim does not see), and must be one. */
START_TEST(test_handler_close_then_reuse)
{
	char got[16];
	int c, s, sp[2], mine, other;
	ssize_t n;

	ck_assert_int_eq(pair_open(&c, &s), 0);
	arm(close_fd, c);
	n = recv(c, got, sizeof(got), 0);        /* blocked in the shim */
	handler_disarm();
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(h_fired, 1);
	ck_assert_int_eq(h_ret, 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_msg(sp[0] == c || sp[1] == c, "the fd number was not reused");
	mine = c;
	other = sp[0] == c ? sp[1] : sp[0];
	ck_assert_int_eq(write(mine, "plain", 5), 5);
	ck_assert_int_eq(raw_syscall(SYS_read, other, (long)got, (long)sizeof(got), 0, 0, 0), 5);
	ck_assert_mem_eq(got, "plain", 5);
	ck_assert_int_eq(raw_syscall(SYS_write, other, (long)"back", 4, 0, 0, 0), 4);
	ck_assert_int_eq(read(mine, got, sizeof(got)), 4);
	ck_assert_mem_eq(got, "back", 4);
	n = recv(s, got, sizeof(got), 0);         /* the peer: an end, no data */
	ck_assert_int_le(n, 0);
	close(sp[0]);
	close(sp[1]);
	close(s);
}
END_TEST

void add_signal_tests(Suite *su, void (*setup)(void))
{
	TCase *tc = tcase_create("signals");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_handler_write_during_recv);
	tcase_add_test(tc, test_handler_syscall_write_during_recv);
	tcase_add_test(tc, test_handler_write_during_full_send);
	tcase_add_test(tc, test_handler_write_during_handshake_read);
	tcase_add_test(tc, test_handler_write_during_poll);
	tcase_add_test(tc, test_handler_close_then_reuse);
	suite_add_tcase(su, tc);
}
