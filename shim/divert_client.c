/* divert_client.c - opt-in and result over tcpcryptd's control socket, for
 * the divert backend (see divert_client.h, include/tcpcrypt/divert_proto.h).
 * Uses the real libc calls only: nothing here goes through the shim. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include "divert_client.h"
#include "libc_syms.h"
#include "log.h"
#include "saved_syn.h"
#include "state.h"
#include "tcpcrypt/divert_msg.h"

#define TC_DIVERT_DEFAULT_CONTROL "/run/tcpcrypt/control"
#define TC_DIVERT_TIMEOUT_US 200000
#define TC_DIVERT_ABSENT_MS 1000
#define TC_DIVERT_JUDGED_MS 300      /* the most a stopped daemon's queue is waited for */
#define TC_DIVERT_JUDGED_POLL_US 3000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *control_path(void)
{
	const char *p = secure_getenv("TCPCRYPT_CONTROL");

	return p && *p ? p : TC_DIVERT_DEFAULT_CONTROL;
}

/* Connects to the daemon: the socket, -ENOPROTOOPT (none, or dead), or
 * -ETIMEDOUT (a blocking connect timed out: stopped). A missing socket
 * is remembered for a second (cached), so that a host without any daemon
 * pays one stat() per second, not a connect() per connection. A result
 * request is about a socket that some process opted in, maybe just now
 * (a listener renewed by another process): it does not use the cache.
 * nonblock: the socket is non-blocking, and a daemon whose backlog is full
 * is not waited for. */
static int dial(int cached, int nonblock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 0, .tv_usec = TC_DIVERT_TIMEOUT_US };
	const char *path = control_path();
	long long t, a = __atomic_load_n(&tc_divert_absent_since, __ATOMIC_RELAXED);
	struct stat st;
	int s;

	t = now_ms();
	if (cached && a >= 0 && t - a < TC_DIVERT_ABSENT_MS)
		return -ENOPROTOOPT;
	if (strlen(path) >= sizeof(sa.sun_path) || stat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		__atomic_store_n(&tc_divert_absent_since, t, __ATOMIC_RELAXED);
		return -ENOPROTOOPT;
	}
	__atomic_store_n(&tc_divert_absent_since, -1LL, __ATOMIC_RELAXED);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = tc_real_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (s < 0)
		return -ENOPROTOOPT;
	/* a stuck daemon costs at most the timeout, never a hang */
	if (!nonblock) {
		tc_real_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		tc_real_setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (tc_real_connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		tc_real_close(s);
		/* a full backlog that does not drain: stopped, not dead */
		return !nonblock && (e == EAGAIN || e == EWOULDBLOCK) ? -ETIMEDOUT : -ENOPROTOOPT;
	}
	return s;
}

/* Sends len bytes of buf on s with fd attached (SCM_RIGHTS, the proof
 * that the socket is the caller's). Returns what sendmsg returned. */
static ssize_t send_with_fd(int s, const void *buf, size_t len, int fd, int flags)
{
	struct tcd_msg m;

	return tc_real_sendmsg(s, tcd_msg_with_fd(&m, buf, len, fd), flags);
}

/* One request with fd attached, one answer. Returns 0, the daemon's
 * negative errno, -ETIMEDOUT (no answer within TC_DIVERT_TIMEOUT_US: a
 * stopped or hung daemon) or -ENOPROTOOPT (none, dead, or not ours). */
static int ask(int fd, const struct tcd_req *rq, struct tcd_resp *rs)
{
	size_t got = 0;
	ssize_t n;
	int s, e, tries = 0;

	s = dial(rq->op == TCD_OP_OPTIN, 0);
	if (s < 0)
		return s;
	do
		n = send_with_fd(s, rq, sizeof(*rq), fd, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR && ++tries < 3);
	if (n != (ssize_t)sizeof(*rq)) {
		e = errno;
		tc_real_close(s);
		return n < 0 && (e == EAGAIN || e == EWOULDBLOCK) ? -ETIMEDOUT : -ENOPROTOOPT;
	}
	while (got < sizeof(*rs)) {
		n = tc_real_recv(s, (char *)rs + got, sizeof(*rs) - got, 0);
		if (n < 0 && errno == EINTR && ++tries < 3)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	e = n < 0 ? errno : 0;
	tc_real_close(s);
	if (got != sizeof(*rs) && (e == EAGAIN || e == EWOULDBLOCK))
		return -ETIMEDOUT;      /* stopped or hung: its queue may still hold our segments */
	return tcd_resp_err(rs, got);   /* -ENOPROTOOPT: dead or not a divert daemon: plain TCP */
}

int tc_divert_opt_in(int fd, const struct tcpcrypt_eno_offer *offer)
{
	struct tcd_req rq;
	struct tcd_resp rs;
	int e = errno, r;

	tcd_req_optin(&rq, offer);
	r = ask(fd, &rq, &rs);
	if (r == 0)
		tc_saved_syn_enable(fd);  /* a listener: its children's SYNs for result_from_table */
	errno = e;
	return r == -ETIMEDOUT ? -ENOPROTOOPT : r;
}

int tc_divert_report(int fd, const struct tcpcrypt_eno_report *rep)
{
	struct tcd_req_report rq;
	ssize_t n;
	int e = errno, s;

	s = dial(1, 1);
	if (s < 0) {
		errno = e;
		return s;
	}
	tcd_req_report(&rq, rep);
	/* fire and forget: the daemon reads it (and the socket) after we
	 * closed; its answer is not waited for */
	n = send_with_fd(s, &rq, sizeof(rq), fd, MSG_NOSIGNAL | MSG_DONTWAIT);
	tc_real_close(s);
	errno = e;
	return n == (ssize_t)sizeof(rq) ? 0 : -ENOPROTOOPT;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Maps the daemon's table read-only: the mapping, or NULL. */
static const struct tcd_tab *tab_map(void)
{
	char path[PATH_MAX];
	void *m;
	int tfd;

	if (snprintf(path, sizeof(path), "%s" TCD_TAB_SUFFIX, control_path()) >= (int)sizeof(path))
		return NULL;
	tfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (tfd < 0)
		return NULL;
	m = mmap(NULL, sizeof(struct tcd_tab), PROT_READ, MAP_SHARED, tfd, 0);
	tc_real_close(tfd);
	return m == MAP_FAILED ? NULL : m;
}

/* The table's judged_ms, read until two reads agree (it is written by a
 * pwrite, which need not be one 8-byte store). */
static uint64_t tab_judged(const struct tcd_tab *t)
{
	uint64_t a, b = __atomic_load_n(&t->judged_ms, __ATOMIC_ACQUIRE);

	do {
		a = b;
		b = __atomic_load_n(&t->judged_ms, __ATOMIC_ACQUIRE);
	} while (a != b);
	return a;
}

/* The daemon did not answer in time (stopped or hung): waits until the
 * queue's server (the daemon or its watchdog) has found its queue empty
 * after t0_ms, the time of our request, so that every segment of ours
 * queued before (A's first ACK, queued before connect() returned) has
 * been judged and its decision is in the table. Bounded by
 * TC_DIVERT_JUDGED_MS. Returns 0, or -ETIMEDOUT when the bound passed. */
static int wait_judged(uint64_t t0_ms)
{
	const struct tcd_tab *t = tab_map();
	struct timespec ts = { 0, TC_DIVERT_JUDGED_POLL_US * 1000L };
	uint64_t end = mono_ms() + TC_DIVERT_JUDGED_MS;
	int r = -ETIMEDOUT;

	if (!t)
		return 0;               /* no table: nothing to wait for */
	if (t->magic != TCD_TAB_MAGIC) {
		r = 0;                  /* not a table of ours: result_from_table ignores it */
		goto out;
	}
	/* strictly after: judged_ms and t0_ms are both truncated to the ms */
	for (;;) {
		if (tab_judged(t) > t0_ms) {
			r = 0;
			break;
		}
		if (mono_ms() >= end)
			break;
		nanosleep(&ts, NULL);
	}
out:
	munmap((void *)t, sizeof(*t));
	return r;
}

/* The daemon did not answer (it died, or is stopped): the outcome of an opted-in socket's
 * handshake as the daemon's shared table recorded it before each verdict.
 * Encrypted only where the segments that went out say so on both ends:
 * A once its ACK with 45 02 went, B once its SYN-ACK with ENO went and A's
 * first ACK was not refused. A slot of B's is taken only when it names the
 * SYN the kernel saved for fd (syn_seq; have_syn 0: none saved): a listener
 * marked while the daemon lived keeps marking its children after it died,
 * their segments are no longer judged, and the slot of an earlier
 * connection of the same 4-tuple (a reused port, within the table's TTL)
 * would make B expect an Init message from a plain A. Returns 0 or
 * -ENOPROTOOPT. */
static int result_from_table(int fd, struct tcpcrypt_eno_result *res, int have_syn, uint32_t syn_seq)
{
	const struct tcd_tab *t;
	const struct tcd_slot *c = NULL;
	struct tcd_key k;
	uint32_t mark = 0;
	socklen_t ml = sizeof(mark);
	uint64_t now;
	unsigned i;
	int r = -ENOPROTOOPT;

	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &ml) < 0 ||
	    (mark & TCD_MARK_MASK) != TCD_MARK || tcd_sock_key(fd, &k) < 0)
		return -ENOPROTOOPT;
	t = tab_map();
	if (!t)
		return -ENOPROTOOPT;
	now = mono_ms();
	/* the daemon places entries by a keyed hash we do not know: scan,
	 * for the newest live entry of our 4-tuple (the daemon keeps one) */
	for (i = 0; t->magic == TCD_TAB_MAGIC && t->nslots == TCD_TAB_SLOTS && i < TCD_TAB_SLOTS; i++) {
		const struct tcd_slot *x = &t->slot[i];

		if (!x->t_ms || now - x->t_ms >= TCD_TAB_TTL_MS || memcmp(&x->key, &k, sizeof(k)))
			continue;
		if (!c || x->t_ms > c->t_ms)
			c = x;
	}
	if (c) {
		if (c->state >= TCD_S_B_SYN && (!have_syn || c->isn != syn_seq))
			goto out;       /* another connection's: ours was never judged */
		*res = c->res;
		res->flags &= (uint8_t)~(TCPCRYPT_RES_F_ENO_OK | TCPCRYPT_RES_F_DONE);
		/* (an undecided simultaneous open whose SYN-ACK carried ENO is
		 * treated as B_WAIT_ACK: the peer may have negotiated) */
		if ((c->state == TCD_S_A_ENO && c->acked) || c->state == TCD_S_B_WAIT_ACK ||
		    (c->state == TCD_S_A_SYN && (c->simo == TCD_SIMO_ENO || c->simo == TCD_SIMO_JUDGED)) ||
		    (c->state == TCD_S_B_DONE && (c->res.flags & TCPCRYPT_RES_F_ENO_OK))) {
			res->flags |= TCPCRYPT_RES_F_ENO_OK | TCPCRYPT_RES_F_DONE;
			res->reason = TCPCRYPT_ENO_R_OK;
		} else if (res->reason == TCPCRYPT_ENO_R_OK) {
			res->reason = TCPCRYPT_ENO_R_PENDING;
		}
		r = 0;
	}
out:
	munmap((void *)t, sizeof(*t));
	return r;
}

int tc_divert_result(int fd, struct tcpcrypt_eno_result *res, socklen_t *len)
{
	uint64_t t0 = mono_ms();     /* after connect() returned: our first ACK is queued */
	struct tcd_req rq;
	struct tcd_resp rs;
	uint32_t syn_seq = 0;
	int e = errno, r, have_syn;

	/* read in any case: the kernel keeps a passive child's SYN until then */
	have_syn = tc_saved_syn_seq(fd, &syn_seq) == 0;
	tcd_req_result(&rq);
	r = ask(fd, &rq, &rs);
	/* stopped, not dead (a dead daemon refuses at once, its queue is
	 * bypassed and its table final): let its queue be judged first */
	if (r == -ETIMEDOUT && wait_judged(t0) < 0)
		tc_info("fd %d: tcpcryptd stopped and its queue not served for %d ms: "
			"deciding from its table as it is", fd, TC_DIVERT_TIMEOUT_US / 1000 + TC_DIVERT_JUDGED_MS);
	if (r == -ENOPROTOOPT || r == -ETIMEDOUT)
		r = result_from_table(fd, &rs.res, have_syn, syn_seq) == 0 ? 0 : -ENOPROTOOPT;
	errno = e;
	if (r < 0) {
		*len = 0;
		return r;
	}
	*res = rs.res;
	*len = sizeof(*res);
	return 0;
}

uint64_t tc_divert_id(void)
{
	struct stat st;
	uint64_t v;

	if (stat(control_path(), &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	v = ((uint64_t)st.st_ino * 1000000007u) ^
	    ((uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec);
	return v ? v : 1;
}
