/*
 * check_region.c - a connection's shared region is untrusted input: a
 * forked child that shares an encrypted connection overwrites its region
 * (all of it with random bytes, many seeds; single fields with extreme
 * values; the lock words with a dead or a forged owner), once or again and
 * again while the parent reads and writes. The parent (this process, run
 * under ASan in run-all.sh's sanitizer stage) must never crash, never
 * write outside its own buffers, never hang, and never deliver a byte the
 * remote end did not send: each read returns the next bytes of the
 * remote's stream, or fails.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_eno.h"
#include "fdtable.h"
#include "frame.h"
#include "pair.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"
#include "sock_shm.h"

#define SEEDS 200

/* The remote's stream: byte i. Not a pattern random bytes would match. */
static uint8_t stream_byte(size_t i)
{
	return (uint8_t)(i * 131u + (i >> 8) * 7u + 0x5a);
}

struct conn {
	int c, s;             /* remote (c) and the parent's end (s) */
	size_t sent, got;     /* stream offsets: c wrote, s read */
};

static void conn_open(struct conn *k)
{
	memset(k, 0, sizeof(*k));
	fake_eno_install(FAKE_NEGOTIATE);     /* (it keeps 64 offers: forget the last ones) */
	ck_assert_int_eq(pair_open(&k->c, &k->s), 0);
}

static void conn_close(struct conn *k)
{
	close(k->c);
	close(k->s);
}

/* The remote sends n more bytes of its stream (never blocks long: the
 * parent's socket buffer takes them, or the send fails). */
static void remote_send(struct conn *k, size_t n)
{
	uint8_t b[8192];

	while (n) {
		size_t m = n < sizeof(b) ? n : sizeof(b);
		ssize_t w;

		for (size_t i = 0; i < m; i++)
			b[i] = stream_byte(k->sent + i);
		w = send(k->c, b, m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w <= 0)
			return;
		k->sent += (size_t)w;
		n -= (size_t)w;
	}
}

/* One read by the parent of at most n bytes (non-blocking: a corrupted
 * region must not make it wait forever either). Asserts that what it got
 * is exactly the next bytes of the remote's stream, that nothing past
 * them in its buffer was written, and returns recv's result. */
static ssize_t parent_read(struct conn *k, size_t n, int flags)
{
	uint8_t b[4096 + 64];
	ssize_t r;

	if (n > 4096)
		n = 4096;
	memset(b, 0xee, sizeof(b));
	r = recv(k->s, b, n, flags | MSG_DONTWAIT);
	ck_assert_int_le(r, (ssize_t)n);
	if (r > 0) {
		for (ssize_t i = 0; i < r; i++)
			ck_assert_msg(b[i] == stream_byte(k->got + (size_t)i),
			              "read %zd bytes at stream offset %zu: byte %zd is not the remote's",
			              r, k->got, i);
		if (!(flags & MSG_PEEK))
			k->got += (size_t)r;
	} else if (r < 0) {
		ck_assert_int_ne(errno, EFAULT);
	}
	for (size_t i = (size_t)(r > 0 ? r : 0); i < sizeof(b); i++)
		ck_assert_msg(b[i] == 0xee, "recv wrote past what it returned (byte %zu)", i);
	return r;
}

/* Reads until the parent has want bytes of the stream (2 s at most). */
static void read_until(struct conn *k, size_t want)
{
	for (int i = 0; i < 200 && k->got < want; i++) {
		if (parent_read(k, 4096, 0) <= 0)
			usleep(10000);
	}
	ck_assert_uint_eq(k->got, want);
}

/* The parent's region for its end of the connection. */
static uint8_t *region_of(int fd)
{
	struct tc_sock *s = tc_conn_get(fd);
	uint8_t *p;

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(s->shm);
	p = (uint8_t *)s->shm;
	tc_fd_put(s);
	return p;
}

/* Runs fn(region, arg) in a forked child that shares the connection, and
 * waits for it. */
static void in_child(uint8_t *region, void (*fn)(uint8_t *, long), long arg)
{
	pid_t p = fork();
	int st;

	ck_assert_int_ge(p, 0);
	if (p == 0) {
		fn(region, arg);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void scribble_random(uint8_t *region, long seed)
{
	srandom((unsigned)seed);
	for (size_t i = 0; i < shm_size; i++)
		region[i] = (uint8_t)random();
}

/* The parent uses the connection after the region was changed: reads,
 * the remote sends more, reads again, writes, FIONREAD, poll; every read
 * checked by parent_read. */
static void parent_uses(struct conn *k)
{
	uint8_t b[2048];
	int avail;

	memset(b, 'p', sizeof(b));
	for (int round = 0; round < 2; round++) {
		parent_read(k, 1000, 0);
		parent_read(k, 100, MSG_PEEK);
		remote_send(k, 3000);
		parent_read(k, 4096, 0);
		parent_read(k, 4096, MSG_WAITALL);
		(void)send(k->s, b, sizeof(b), MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)ioctl(k->s, FIONREAD, &avail);
	}
}

START_TEST(test_random_region)
{
	for (long seed = 1; seed <= SEEDS; seed++) {
		struct conn k;

		conn_open(&k);
		remote_send(&k, 3000);
		/* a frame half read: plaintext left in the region, a byte held */
		parent_read(&k, 500, 0);
		in_child(region_of(k.s), scribble_random, seed);
		parent_uses(&k);
		conn_close(&k);
	}
}
END_TEST

/* The fields a reader and a writer index with, each set to values at and
 * past its bound. (The lock words are test_forged_lock_owner's: a small
 * value there names a live thread, init's, which holds the lock for good:
 * denial of service on this connection, which the model allows.) */
struct field {
	size_t off, size;
};

#define FIELD(f) { offsetof(struct tc_shm, f), sizeof(((struct tc_shm *)0)->f) }
static const struct field fields[] = {
	FIELD(rx_len), FIELD(plain_off), FIELD(plain_len), FIELD(tx_off), FIELD(tx_len),
	FIELD(pre_len), FIELD(lowat), FIELD(state), FIELD(error), FIELD(sessid_len),
	FIELD(held), FIELD(nprocs), FIELD(since_rekey), FIELD(size),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const uint64_t extremes[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0xff, 0x7fff, 0xffff, 0x10000, 0x10010, 0x1ffff, 0x20000,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
	0x8000000000000000ull, 0xffffffffffffffffull, (uint64_t)-4096, (uint64_t)-100000,
};
#define NEXTREMES (sizeof(extremes) / sizeof(extremes[0]))

static void scribble_field(uint8_t *region, long which)
{
	const struct field *f = &fields[which / (long)NEXTREMES];
	uint64_t v = extremes[which % (long)NEXTREMES];

	memcpy(region + f->off, &v, f->size < sizeof(v) ? f->size : sizeof(v));
	if (f->size > sizeof(v))
		memset(region + f->off + sizeof(v), (int)(v & 0xff), f->size - sizeof(v));
}

START_TEST(test_extreme_fields)
{
	for (long w = 0; w < (long)(NFIELDS * NEXTREMES); w++) {
		struct conn k;

		conn_open(&k);
		remote_send(&k, 3000);
		parent_read(&k, 500, 0);
		in_child(region_of(k.s), scribble_field, w);
		parent_uses(&k);
		conn_close(&k);
	}
}
END_TEST

/* Lock words a peer left behind: its own tid (then it died), the parent's
 * tid (no thread takes a region lock twice), not a tid at all, a tid no
 * process has. The parent takes the locks over and the connection works. */
static const uint32_t forged_owner[] = { 0, 0, 0xffffffffu, 0x40000001u, 0x3fffffffu, 0x80000000u };

static void forge_owner(uint8_t *region, long v)
{
	uint32_t w = v ? (uint32_t)v : (uint32_t)getpid();

	memcpy(region + offsetof(struct tc_shm, rx_lock), &w, sizeof(w));
	memcpy(region + offsetof(struct tc_shm, tx_lock), &w, sizeof(w));
	memcpy(region + offsetof(struct tc_shm, sess_lock), &w, sizeof(w));
}

START_TEST(test_forged_lock_owner)
{
	for (size_t i = 0; i < sizeof(forged_owner) / sizeof(forged_owner[0]); i++) {
		uint32_t v = i == 1 ? (uint32_t)getpid() : forged_owner[i];
		uint8_t b[100];
		struct conn k;

		conn_open(&k);
		remote_send(&k, 3000);
		in_child(region_of(k.s), forge_owner, (long)v);
		/* the locks are free again: the connection still works both ways */
		read_until(&k, 3000);
		memset(b, 'q', sizeof(b));
		ck_assert_int_eq(send(k.s, b, sizeof(b), MSG_NOSIGNAL), (ssize_t)sizeof(b));
		ck_assert_int_eq(recv_all(k.c, b, sizeof(b)), 0);
		conn_close(&k);
	}
}
END_TEST

/* A child that dies holding the locks and is not reaped yet (a zombie,
 * which kill() still finds): the parent, which would reap it, must not
 * wait for it forever. */
START_TEST(test_zombie_lock_owner)
{
	struct conn k;
	pid_t p;
	int st;

	conn_open(&k);
	remote_send(&k, 3000);
	p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0) {
		forge_owner(region_of(k.s), 0);
		_exit(0);
	}
	usleep(100000);                  /* (it is a zombie now) */
	read_until(&k, 3000);
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	conn_close(&k);
}
END_TEST

/* A child that says in the region "nobody else holds this, it was never
 * shared", and keeps it mapped: the parent's close must not pool the
 * region for its next connection, whose state the child could then read
 * and write. The child looks for the next connection's plaintext. */
START_TEST(test_forged_unshared_not_pooled)
{
	static const char marker[] = "the next connection's own plaintext, not the child's";
	struct conn k, k2;
	int go[2], seen[2];
	uint8_t *r, ok = 0;
	pid_t p;
	int st;

	conn_open(&k);
	r = region_of(k.s);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(seen), 0);
	p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0) {
		int zero = 0;
		uint8_t no = 0, b;

		memcpy(r + offsetof(struct tc_shm, nprocs), &zero, sizeof(zero));
		memcpy(r + offsetof(struct tc_shm, shared), &no, sizeof(no));
		if (write(seen[1], &no, 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(2);
		b = 0;
		for (size_t i = 0; i + sizeof(marker) - 1 <= shm_size; i++)
			if (memcmp(r + i, marker, sizeof(marker) - 1) == 0)
				b = 1;
		_exit(b ? 1 : 0);
	}
	ck_assert_int_eq(read(seen[0], &ok, 1), 1);
	conn_close(&k);                    /* (nprocs says: the last holder) */
	ck_assert_int_eq(pair_open(&k2.c, &k2.s), 0);
	/* (either end may get a pooled region: the marker waits in both) */
	ck_assert_int_eq(send_all(k2.c, marker, sizeof(marker)), 0);
	ck_assert_int_eq(send_all(k2.s, marker, sizeof(marker)), 0);
	{
		uint8_t b[8];

		ck_assert_int_eq(recv_all(k2.s, b, sizeof(b)), 0);   /* the rest waits in rx */
		ck_assert_int_eq(recv_all(k2.c, b, sizeof(b)), 0);
	}
	ck_assert_int_eq(write(go[1], &ok, 1), 1);
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "the child reads the next connection's plaintext (status %d)", st);
	close(k2.c);
	close(k2.s);
	close(go[0]);
	close(go[1]);
	close(seen[0]);
	close(seen[1]);
}
END_TEST

/* A child that scribbles random bytes again and again while the parent
 * reads and writes. */
static void scribble_forever(uint8_t *region, long seed)
{
	srandom((unsigned)seed);
	for (;;) {
		size_t at = (size_t)random() % shm_size, n = (size_t)random() % 256;

		for (size_t i = 0; i < n && at + i < shm_size; i++)
			region[at + i] = (uint8_t)random();
		if (random() % 4 == 0)
			memset(region, (int)random(), offsetof(struct tc_shm, sess));
	}
}

START_TEST(test_concurrent_scribbler)
{
	for (long seed = 1; seed <= 10; seed++) {
		struct conn k;
		pid_t p;
		int st;

		conn_open(&k);
		remote_send(&k, 3000);
		parent_read(&k, 500, 0);
		p = fork();
		ck_assert_int_ge(p, 0);
		if (p == 0) {
			scribble_forever(region_of(k.s), seed);
			_exit(0);
		}
		for (int i = 0; i < 5; i++)
			parent_uses(&k);
		kill(p, SIGKILL);
		ck_assert_int_eq(waitpid(p, &st, 0), p);
		conn_close(&k);
	}
}
END_TEST

/* An untouched connection still carries the stream (the checks above would
 * pass trivially if every read failed). */
START_TEST(test_untouched_works)
{
	struct conn k;

	conn_open(&k);
	remote_send(&k, 3000);
	read_until(&k, 3000);
	remote_send(&k, 70000);
	read_until(&k, 73000);
	conn_close(&k);
}
END_TEST

static void setup(void)
{
	fake_eno_install(FAKE_NEGOTIATE);
	signal(SIGPIPE, SIG_IGN);
}

static Suite *region_suite(void)
{
	Suite *su = suite_create("region");
	TCase *t = tcase_create("untrusted");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_set_timeout(t, 240);
	tcase_add_test(t, test_untouched_works);
	tcase_add_test(t, test_forged_lock_owner);
	tcase_add_test(t, test_zombie_lock_owner);
	tcase_add_test(t, test_forged_unshared_not_pooled);
	tcase_add_test(t, test_extreme_fields);
	tcase_add_test(t, test_random_region);
	tcase_add_test(t, test_concurrent_scribbler);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	SRunner *sr;
	int failed;

	tc_shim_setup();            /* what the module's constructor does */
	sr = srunner_create(region_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* again with every region in a chunk (sock_chunk.c), as in a process
	 * that holds more than TCPCRYPT_OWN_MAPPINGS connections */
	tc_cfg.own_mappings = 0;
	sr = srunner_create(region_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed += srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
