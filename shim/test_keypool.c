/*
 * test_keypool.c - unit test of the shim's key pool (keypool.c): a pair is
 * taken once and never again, it is a valid X25519 pair, a forked child
 * never sees its parent's pairs (MADV_WIPEONFORK), threads taking while
 * the pool is filled never get the same pair, and a session set up from a
 * pool pair completes the Init exchange with a peer.
 * Exit 0 when every check passes.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "keypool.h"
#include "session.h"
#include "tcpcrypt/tcpcrypt.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

static int valid_pair(const struct tc_keypair *kp)
{
	uint8_t pk[32];

	return crypto_scalarmult_base(pk, kp->sk) == 0 && !memcmp(pk, kp->pk, 32) &&
	       !sodium_is_zero(kp->nonce, 32);
}

#define NTHREADS 4
#define PER_THREAD 200
static struct tc_keypair got[NTHREADS][PER_THREAD];
static int ngot[NTHREADS];
static volatile int stop_filling;

static void *taker(void *arg)
{
	int t = (int)(long)arg;

	while (ngot[t] < PER_THREAD)
		if (tc_keypool_take(&got[t][ngot[t]]) == 0)
			ngot[t]++;
	return NULL;
}

static void *filler(void *arg)
{
	(void)arg;
	while (!stop_filling)
		tc_keypool_fill();
	return NULL;
}

/* A session from a pool pair (role A) against a fresh one (role B). */
static void session_with_pair(void)
{
	static const uint8_t transcript[] = { 0x45, 0x03, 0x23, 0x45, 0x04, 0x01, 0x23 };
	struct tc_session_params p = { .tep_byte = TCPCRYPT_TEP_ECDHE_CURVE25519,
				       .transcript = transcript, .transcript_len = sizeof transcript };
	size_t sz = (tc_session_size() + 15) & ~(size_t)15, used, n1, n2, n3;
	tc_session *a = aligned_alloc(16, sz), *b = aligned_alloc(16, sz);
	uint8_t m1[512], m2[512], m3[512], ida[64], idb[64];
	struct tc_keypair kp;
	int la, lb;

	CHECK(tc_keypool_fill() >= 0);
	CHECK(tc_keypool_take(&kp) == 0);
	p.role = TCPCRYPT_ROLE_A;
	CHECK(tc_session_init_keypair(a, &p, &kp) == 0);
	CHECK(sodium_is_zero((const uint8_t *)&kp, sizeof kp));   /* wiped */
	p.role = TCPCRYPT_ROLE_B;
	CHECK(tc_session_init(b, &p) == 0);
	CHECK(tc_session_handshake(a, NULL, 0, &used, m1, sizeof m1, &n1) == 0 && n1 > 0);
	CHECK(tc_session_handshake(b, m1, n1, &used, m2, sizeof m2, &n2) == 1 && n2 > 0);
	CHECK(tc_session_handshake(a, m2, n2, &used, m3, sizeof m3, &n3) == 1);
	la = tc_session_sessid(a, ida, sizeof ida);
	lb = tc_session_sessid(b, idb, sizeof idb);
	CHECK(la == 33 && la == lb && !memcmp(ida, idb, (size_t)la));
	tc_session_wipe(a);
	tc_session_wipe(b);
	free(a);
	free(b);
}

int main(void)
{
	struct tc_keypair k1, k2, k3;
	pthread_t th[NTHREADS], f;
	int st, i, j, t, u;
	pid_t pid;

	CHECK(sodium_init() >= 0);
	/* nothing is made before the first take */
	CHECK(tc_keypool_fill() == 0);
	CHECK(tc_keypool_take(&k1) == -EAGAIN);
	CHECK(tc_keypool_fill() == 2);
	CHECK(tc_keypool_take(&k1) == 0 && valid_pair(&k1));
	CHECK(tc_keypool_take(&k2) == 0 && valid_pair(&k2));
	CHECK(memcmp(k1.sk, k2.sk, 32) && memcmp(k1.nonce, k2.nonce, 32));
	CHECK(tc_keypool_take(&k3) == -EAGAIN);            /* each pair once */

	/* a child never gets a pair its parent made */
	CHECK(tc_keypool_fill() == 2);
	pid = fork();
	if (pid == 0)
		_exit(tc_keypool_take(&k3) == -EAGAIN ? 0 : 1);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(tc_keypool_take(&k3) == 0 && valid_pair(&k3));  /* the parent still has them */
	CHECK(tc_keypool_take(&k3) == 0);

	/* concurrent takes while a thread fills: never the same pair twice */
	CHECK(pthread_create(&f, NULL, filler, NULL) == 0);
	for (t = 0; t < NTHREADS; t++)
		CHECK(pthread_create(&th[t], NULL, taker, (void *)(long)t) == 0);
	for (t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	stop_filling = 1;
	pthread_join(f, NULL);
	for (t = 0; t < NTHREADS; t++)
		for (i = 0; i < PER_THREAD; i++) {
			CHECK(valid_pair(&got[t][i]));
			for (u = t; u < NTHREADS; u++)
				for (j = (u == t ? i + 1 : 0); j < PER_THREAD; j++)
					if (!memcmp(got[t][i].sk, got[u][j].sk, 32))
						CHECK(!"the same pair was taken twice");
		}

	session_with_pair();
	sodium_memzero(got, sizeof got);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	else
		printf("test_keypool: all checks passed\n");
	return failures ? 1 : 0;
}
