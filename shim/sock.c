/*
 * sock.c - the session glue (see sock.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "divert_client.h"
#include "eno.h"
#include "guard.h"
#include "keylog.h"
#include "keypool.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt/tcpcrypt.h"

#define TC_PRE_MAX        65536   /* plaintext written before the keys existed */
#define TC_CLOSE_WAIT_MS  2000    /* how long close() may wait to flush and send FINp */
#define TC_GRACE_MS       20      /* how long a non-blocking read waits for the rest of a frame */
#define TC_SESS_SPACE     6016    /* >= tc_session_head_size() (checked at start-up) */

struct tc_shm {
	pthread_mutex_t rx_lock, tx_lock, sess_lock;
	size_t size;                 /* of the whole region */
	uint8_t shared;              /* ever held by another process: never pooled */
	int nprocs;                  /* processes holding the socket (atomic) */
	int state;                   /* enum tc_state (atomic) */
	int error;                   /* errno for I/O once failed */
	int so_error;                /* pending SO_ERROR report */
	uint8_t role, peer_app, fin_rcvd, fin_sent, fin_pending, wr_shut, shut_rd, held;
	uint8_t rekey_due, sessid_len;
	int lowat;                   /* SO_RCVLOWAT we set (0: the kernel's default) */
	uint64_t since_rekey;        /* application bytes sealed since the last rekey */
	uint8_t fresh;               /* keys set, the application has not read data yet */
	uint16_t aead;
	uint8_t nonblock;            /* O_NONBLOCK of the socket, as of the sandbox's start */
	uint8_t sessid[TCPCRYPT_SESSID_MAX];
	size_t rx_len;               /* bytes of the current frame in rx */
	size_t plain_off, plain_len; /* opened plaintext left in rx */
	size_t tx_off, tx_len;       /* ciphertext in tx not yet accepted by the kernel */
	size_t pre_len;              /* plaintext queued before the keys */
	/* the session without its reassembly buffer (tc_session_head_size();
	 * the shim never calls tc_session_recv), between the fields and rx so
	 * that both share the first two pages with the start of rx */
	_Alignas(64) uint8_t sess[TC_SESS_SPACE];
	uint8_t rx[TC_FRAME_MAX + 64];
	uint8_t tx[2 * TC_FRAME_MAX + TC_HANDSHAKE_MAX];
	uint8_t pre[TC_PRE_MAX];
	uint8_t peekbuf[TC_FRAME_MAX];
};

/*
 * A connection's region is one struct tc_shm, page-aligned, the session's
 * head inside it: a connection touches about three of its 114 pages (the
 * fields, session and start of rx; the start of tx). sess_off is where the
 * struct starts in the region (0).
 */
static size_t sess_off, shm_size, pg_size = 4096;

#define SESS(sh) ((tc_session *)(void *)(sh)->sess)
#define REGION(sh) ((void *)((uint8_t *)(sh) - sess_off))
#define STATE(sh) __atomic_load_n(&(sh)->state, __ATOMIC_ACQUIRE)
#define SET_STATE(sh, v) __atomic_store_n(&(sh)->state, (v), __ATOMIC_RELEASE)

void tc_sock_global_init(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (pg <= 0)
		pg = 4096;
	pg_size = (size_t)pg;
	sess_off = 0;
	shm_size = (sizeof(struct tc_shm) + (size_t)pg - 1) & ~((size_t)pg - 1);
	if (tc_session_head_size() > TC_SESS_SPACE) {
		tc_err("internal error: a session needs %zu bytes, the shim has room for %d; tcpcrypt disabled",
		       tc_session_head_size(), TC_SESS_SPACE);
		tc_cfg.disable = 1;
	}
}

/* ---- locks: process-shared and robust (a process that died holding one
 * does not wedge the others) ---- */

static void lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) == EOWNERDEAD)
		pthread_mutex_consistent(m);
}

static int trylock(pthread_mutex_t *m)
{
	int r = pthread_mutex_trylock(m);

	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(m);
		r = 0;
	}
	return r == 0 ? 0 : -1;
}

static void unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

static long now_ms(void);

/* Takes m, giving up at deadline (ms, CLOCK_MONOTONIC): another thread may
 * sit in a blocking send with it while this one closes or exits. */
static int lock_until(pthread_mutex_t *m, long deadline)
{
	struct timespec ts = { 0, 1000000 };

	while (trylock(m) < 0) {
		if (now_ms() >= deadline)
			return -1;
		nanosleep(&ts, NULL);
	}
	return 0;
}


static int init_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int r;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	r = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return -r;
}

/* ---- objects ---- */

void tc_prefs_default(struct tc_prefs *p)
{
	memset(p, 0, sizeof(*p));
	p->enable = 1;
	p->app_aware = (uint8_t)tc_cfg.app_aware;
	p->naeads = (uint8_t)tc_cfg.naeads;
	memcpy(p->aeads, tc_cfg.aeads, sizeof(uint16_t) * (size_t)tc_cfg.naeads);
}

struct tc_sock *tc_sock_new(int kind, const struct tc_prefs *prefs)
{
	struct tc_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = kind;
	if (prefs)
		s->prefs = *prefs;
	else
		tc_prefs_default(&s->prefs);
	return s;
}

/*
 * Pool of free regions of this process (cause of cost: mmap + first-touch
 * faults + munmap per connection). Only a region whose connection was never
 * shared with another process goes back (so nothing else can still touch
 * it), wiped; pooled regions are MADV_DONTFORK so a child never inherits
 * them, and a pool seen from another pid (a child) is dropped. The lock is
 * only ever tried: a child forked while it was held just skips the pool.
 */
#define TC_POOL_MAX        16
#define TC_POOL_KEEP_PAGES 4     /* buffer pages a pooled region keeps resident */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static void *pool[TC_POOL_MAX];
static int pool_n;
static pid_t pool_pid;

static void *pool_take(void)
{
	void *r = NULL;

	if (pthread_mutex_trylock(&pool_lock) != 0)
		return NULL;
	if (pool_pid != getpid()) {
		pool_n = 0;             /* inherited list: the regions are not mapped here */
		pool_pid = getpid();
	}
	if (pool_n > 0)
		r = pool[--pool_n];
	pthread_mutex_unlock(&pool_lock);
	if (r && madvise(r, shm_size, MADV_DOFORK) < 0) {
		munmap(r, shm_size);
		r = NULL;
	}
	return r;
}

/* Keeps a wiped region for reuse; 0 if it was taken. */
static int pool_put(void *r)
{
	int ok = 0;

	if (madvise(r, shm_size, MADV_DONTFORK) < 0)
		return -1;
	if (pthread_mutex_trylock(&pool_lock) != 0)
		return -1;
	if (pool_pid != getpid()) {
		pool_n = 0;
		pool_pid = getpid();
	}
	if (pool_n < TC_POOL_MAX) {
		pool[pool_n++] = r;
		ok = 1;
	}
	pthread_mutex_unlock(&pool_lock);
	return ok ? 0 : -1;
}

/*
 * Wipes what a connection left in its buffers: the resident pages only
 * (mincore; pages never touched hold nothing and are not faulted in).
 * With keep, pages past the first TC_POOL_KEEP_PAGES are released instead
 * (MADV_REMOVE: they read back as zeros), so a pooled region stays small.
 * The session is wiped by tc_session_wipe() (its head and the used part
 * of its reassembly buffer).
 */
static void wipe_buffers(struct tc_shm *sh, int keep)
{
	uint8_t *base = REGION(sh), *end = base + shm_size;
	uint8_t *from = (uint8_t *)sh->rx;
	uint8_t *pg0 = base + ((size_t)(from - base) & ~(pg_size - 1));
	size_t npg = (size_t)(end - pg0) / pg_size;
	unsigned char vec[160];
	int kept = 0;

	if (npg > sizeof(vec) || mincore(pg0, (size_t)(end - pg0), vec) < 0) {
		sodium_memzero(from, (size_t)(end - from));
		return;
	}
	for (size_t i = 0; i < npg; i++) {
		uint8_t *p = pg0 + i * pg_size, *q = p + pg_size;

		if (!(vec[i] & 1))
			continue;
		if (p < from)
			p = from;
		if (keep && kept >= TC_POOL_KEEP_PAGES && p == pg0 + i * pg_size &&
		    madvise(p, pg_size, MADV_REMOVE) == 0)
			continue;
		sodium_memzero(p, (size_t)(q - p));
		kept++;
	}
}

int tc_sock_make_conn(struct tc_sock *s, int state)
{
	struct tc_shm *sh;
	void *r = pool_take();

	if (r) {
		sh = (struct tc_shm *)((uint8_t *)r + sess_off);
		memset(sh, 0, offsetof(struct tc_shm, sess));  /* the rest was wiped */
	} else {
		r = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (r == MAP_FAILED)
			return -ENOMEM;
		sh = (struct tc_shm *)((uint8_t *)r + sess_off);
	}
	sh->size = shm_size;
	if (init_mutex(&sh->rx_lock) || init_mutex(&sh->tx_lock) || init_mutex(&sh->sess_lock)) {
		munmap(r, shm_size);
		return -ENOMEM;
	}
	sh->nprocs = 1;
	sh->state = state;
	s->kind = TC_K_CONN;
	s->shm = sh;
	return 0;
}

void tc_sock_free(struct tc_sock *s)
{
	struct tc_shm *sh = s->shm;

	tc_aead_ctx_free(&s->tx_cx);
	tc_aead_ctx_free(&s->rx_cx);

	if (sh) {
		void *r = REGION(sh);

		if (__atomic_load_n(&sh->nprocs, __ATOMIC_ACQUIRE) <= 0) {
			int reuse = !__atomic_load_n(&sh->shared, __ATOMIC_ACQUIRE);

			tc_session_wipe(SESS(sh));
			wipe_buffers(sh, reuse);
			if (reuse && pool_put(r) == 0)
				r = NULL;
		}
		if (r)
			munmap(r, shm_size);
	}
	free(s);
}

void tc_sock_proc_ref(struct tc_sock *s, int delta)
{
	if (s->shm) {
		if (delta > 0)
			__atomic_store_n(&s->shm->shared, 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&s->shm->nprocs, delta, __ATOMIC_ACQ_REL);
	}
}

int tc_sock_proc_unref(struct tc_sock *s)
{
	return s->shm ? __atomic_sub_fetch(&s->shm->nprocs, 1, __ATOMIC_ACQ_REL) : 0;
}

int tc_sock_state(const struct tc_sock *s)
{
	return s->shm ? STATE(s->shm) : 0;
}

void tc_sock_set_plain(struct tc_sock *s)
{
	if (s->shm)
		SET_STATE(s->shm, TC_ST_PLAIN);
}

void tc_sock_set_connecting(struct tc_sock *s)
{
	if (s->shm && STATE(s->shm) == TC_ST_OPENING)
		SET_STATE(s->shm, TC_ST_CONNECTING);
}

int tc_sock_error(const struct tc_sock *s)
{
	return s->shm ? s->shm->error : 0;
}

int tc_sock_take_so_error(struct tc_sock *s)
{
	return s->shm ? __atomic_exchange_n(&s->shm->so_error, 0, __ATOMIC_ACQ_REL) : 0;
}

int tc_is_tcp_socket(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0 || (v != AF_INET && v != AF_INET6))
		return 0;
	l = sizeof(v);
	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 || v != SOCK_STREAM)
		return 0;
	l = sizeof(v);
	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l) < 0 || v != IPPROTO_TCP)
		return 0;
	return 1;
}

int tc_fd_nonblocking(int fd)
{
	int fl = tc_real_fcntl(fd, F_GETFL, 0);

	return fl >= 0 && (fl & O_NONBLOCK);
}

int tc_sandboxed;

#define SANDBOXED() __atomic_load_n(&tc_sandboxed, __ATOMIC_RELAXED)

/* O_NONBLOCK of a connection: in a sandbox (no fcntl), the flag recorded
 * when it started or set since through the shim's fcntl/ioctl. */
static int nonblocking(const struct tc_shm *sh, int fd)
{
	if (SANDBOXED())
		return __atomic_load_n(&sh->nonblock, __ATOMIC_RELAXED);
	return tc_fd_nonblocking(fd);
}

void tc_sock_note_nonblock(struct tc_sock *s, int on)
{
	if (s->shm)
		__atomic_store_n(&s->shm->nonblock, on ? 1 : 0, __ATOMIC_RELAXED);
}

/* ---- kernel I/O (internal sends never raise SIGPIPE) ---- */

static int k_wait(int fd, short events, int ms);

/* In a seccomp sandbox only read, write and poll are sure to be allowed
 * (OpenSSH's pre-auth child): MSG_DONTWAIT becomes a poll with no timeout
 * first, a blocking call on a non-blocking socket waits in poll. There is
 * no MSG_PEEK (callers do not peek there) and no MSG_NOSIGNAL (a write to
 * a reset connection may raise SIGPIPE, as the application's own would). */
static ssize_t sb_io(int fd, void *b, size_t n, int flags, int out)
{
	short ev = out ? POLLOUT : POLLIN;

	if (flags & MSG_PEEK)
		return -EAGAIN;
	for (;;) {
		ssize_t r;

		if ((flags & MSG_DONTWAIT) && k_wait(fd, ev, 0) == 0)
			return -EAGAIN;
		r = out ? tc_real_write(fd, b, n) : tc_real_read(fd, b, n);
		if (r >= 0)
			return r;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || (flags & MSG_DONTWAIT))
			return -errno;
		k_wait(fd, ev, -1);
	}
}

static ssize_t k_recv(int fd, void *b, size_t n, int flags)
{
	ssize_t r;

	if (SANDBOXED())
		return sb_io(fd, b, n, flags, 0);
	r = tc_real_recvfrom(fd, b, n, flags, NULL, NULL);
	return r < 0 ? -errno : r;
}

static ssize_t k_send(int fd, const void *b, size_t n, int flags)
{
	ssize_t r;

	if (SANDBOXED())
		return sb_io(fd, (void *)(uintptr_t)b, n, flags, 1);
	r = tc_guard_sendto(fd, b, n, flags | MSG_NOSIGNAL);
	return r < 0 ? -errno : r;
}

static int k_wait(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r = tc_real_poll(&p, 1, ms);

	return r < 0 ? -errno : r;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- iovec helpers ---- */

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Copies n bytes from src into the iovecs at logical offset off. */
static void iov_put(const struct iovec *iov, int cnt, size_t off, const uint8_t *src, size_t n)
{
	for (int i = 0; i < cnt && n; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		size_t c = l - off < n ? l - off : n;
		memcpy((uint8_t *)iov[i].iov_base + off, src, c);
		src += c;
		n -= c;
		off = 0;
	}
}

/* Copies n bytes at logical offset off of the iovecs into dst. */
static void iov_get(const struct iovec *iov, int cnt, size_t off, uint8_t *dst, size_t n)
{
	for (int i = 0; i < cnt && n; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		size_t c = l - off < n ? l - off : n;
		memcpy(dst, (const uint8_t *)iov[i].iov_base + off, c);
		dst += c;
		n -= c;
		off = 0;
	}
}

/* ---- failure ---- */

/* Aborts the connection: RST to the peer (connect(AF_UNSPEC) on a TCP
 * socket disconnects it with a reset), and every later call gets err. */
static void abort_conn(struct tc_shm *sh, int fd, int err, const char *why)
{
	struct sockaddr sa;
	struct linger lg = { 1, 0 };

	if (STATE(sh) == TC_ST_FAILED)
		return;
	sh->error = err;
	__atomic_store_n(&sh->so_error, err, __ATOMIC_RELEASE);
	SET_STATE(sh, TC_ST_FAILED);
	if (SANDBOXED()) {            /* no setsockopt/connect there: FIN both ways */
		tc_real_shutdown(fd, SHUT_RDWR);
		tc_warn("fd %d: connection aborted (%s): %s", fd, why, strerror(err));
		return;
	}
	tc_real_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	tc_real_connect(fd, &sa, sizeof(sa));
	tc_warn("fd %d: connection aborted (%s): %s", fd, why, strerror(err));
}

/* The errno the application sees for an engine error. */
static int engine_errno(int r)
{
	switch (r) {
	case -EBADMSG:
	case -EPROTO:
		return -r;
	case -EMSGSIZE:
		return EBADMSG;
	case -ENOTSUP:
	case -EKEYREJECTED:
		return EPROTO;
	default:
		return ECONNRESET;
	}
}

/* ---- sending (tx_lock held) ---- */

static int seal_into_tx(struct tc_shm *sh, tc_aead_ctx *x, const struct iovec *iov, int iovcnt,
                        size_t skip, size_t len, unsigned flags)
{
	size_t out = 0;
	int r;

	lock(&sh->sess_lock);
	r = tc_session_sealv(SESS(sh), x, iov, iovcnt, skip, len, flags, sh->tx + sh->tx_len,
	                     sizeof(sh->tx) - sh->tx_len, &out);
	unlock(&sh->sess_lock);
	if (r < 0)
		return r;
	sh->tx_len += out;
	sh->rekey_due = 0;
	return 0;
}

/* Sends what is queued: the tail of the last frame first, then the
 * plaintext queued before the keys, a rekey answer, FINp. Returns 0 when
 * everything went out, or -errno (-EAGAIN: try again later). */
static int tx_flush(struct tc_shm *sh, int fd, int nonblock)
{
	int r;

	for (;;) {
		while (sh->tx_off < sh->tx_len) {
			ssize_t n = k_send(fd, sh->tx + sh->tx_off, sh->tx_len - sh->tx_off,
			                   nonblock ? MSG_DONTWAIT : 0);
			if (n < 0)
				return (int)n;
			sh->tx_off += (size_t)n;
		}
		sh->tx_off = sh->tx_len = 0;
		if (STATE(sh) != TC_ST_READY)
			return 0;
		if (sh->pre_len) {
			size_t n = sh->pre_len < TC_FRAME_MAX_DATA ? sh->pre_len : TC_FRAME_MAX_DATA;

			struct iovec v = { sh->pre, n };

			if ((r = seal_into_tx(sh, NULL, &v, 1, 0, n, 0)) < 0)
				return r;
			memmove(sh->pre, sh->pre + n, sh->pre_len - n);
			sh->pre_len -= n;
			continue;
		}
		if (sh->rekey_due && !sh->fin_sent) {
			int due;

			lock(&sh->sess_lock);
			due = tc_session_rekey_pending(SESS(sh));
			unlock(&sh->sess_lock);
			sh->rekey_due = 0;
			if (due) {
				if ((r = seal_into_tx(sh, NULL, NULL, 0, 0, 0, 0)) < 0)
					return r;
				continue;
			}
		}
		if (sh->fin_pending && !sh->fin_sent) {
			if ((r = seal_into_tx(sh, NULL, NULL, 0, 0, 0, TC_SEAL_FIN)) < 0)
				return r;
			sh->fin_sent = 1;
			continue;
		}
		if (sh->fin_sent && !sh->wr_shut) {
			sh->wr_shut = 1;
			tc_real_shutdown(fd, SHUT_WR);
		}
		return 0;
	}
}

static int tx_pending(const struct tc_shm *sh)
{
	return sh->tx_off < sh->tx_len ||
	       (STATE(sh) == TC_ST_READY &&
	        (sh->pre_len || sh->rekey_due || (sh->fin_pending && !sh->wr_shut)));
}

/* ---- keys ---- */

static void rx_arm(struct tc_shm *sh, int fd);

/* The keys are set: remember the session's public facts, tell the kernel
 * programs (tcnetstat), and flush what the application already wrote. */
static void keys_set(struct tc_shm *sh, int fd)
{
	struct tcpcrypt_eno_report rep;
	char hex[2 * TCPCRYPT_SESSID_MAX + 1];
	int n;

	lock(&sh->sess_lock);
	n = tc_session_sessid(SESS(sh), sh->sessid, sizeof(sh->sessid));
	sh->aead = tc_session_aead(SESS(sh));
	unlock(&sh->sess_lock);
	sh->sessid_len = n > 0 ? (uint8_t)n : 0;
	sh->fresh = 1;
	SET_STATE(sh, TC_ST_READY);
	rx_arm(sh, fd);

	memset(&rep, 0, sizeof(rep));
	rep.version = TCPCRYPT_ENO_ABI_VERSION;
	rep.role = sh->role;
	rep.aead = sh->aead;
	rep.sessid_len = sh->sessid_len;
	memcpy(rep.sessid, sh->sessid, sh->sessid_len);
	if (!SANDBOXED() &&
	    tc_real_setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_REPORT, &rep, sizeof(rep)) < 0 &&
	    errno == ENOPROTOOPT)
		tc_divert_report(fd, &rep);     /* divert backend: tell tcpcryptd */

	if (tc_log_level >= TC_LOG_INFO) {
		sodium_bin2hex(hex, sizeof(hex), sh->sessid, sh->sessid_len);
		tc_info("fd %d: tcpcrypt session, role %c, %s, id %s", fd, sh->role ? 'B' : 'A',
		        tc_aead_name(sh->aead), hex);
	}
	if (trylock(&sh->tx_lock) == 0) {
		tx_flush(sh, fd, 1);
		unlock(&sh->tx_lock);
	}
	if (tx_pending(sh))
		tc_progress_kick();
}

/* Runs the Init exchange on the receive side (rx_lock held): peeks at the
 * stream, hands the engine what it has, and reads exactly the bytes that
 * belonged to the Init message, so frames stay in the kernel. */
static int rx_handshake(struct tc_sock *s, int fd, int nonblock)
{
	struct tc_shm *sh = s->shm;
	uint8_t in[TC_INIT_MAX], out[TC_HANDSHAKE_MAX];
	size_t want = sizeof(in);
	int waitall = 0;

	while (STATE(sh) == TC_ST_HANDSHAKE) {
		size_t consumed = 0, outlen = 0;
		ssize_t n;
		int r;

		n = k_recv(fd, in, want, MSG_PEEK | (nonblock ? MSG_DONTWAIT : 0) | (waitall ? MSG_WAITALL : 0));
		if (n == 0 && sh->shut_rd)
			return 0;
		if (n == 0) {
			abort_conn(sh, fd, ECONNRESET, "connection closed during the Init exchange");
			return -ECONNRESET;
		}
		if (n < 0)
			return (int)n;
		lock(&sh->sess_lock);
		r = tc_session_handshake(SESS(sh), in, (size_t)n, &consumed, out, sizeof(out), &outlen);
		unlock(&sh->sess_lock);
		if (consumed > (size_t)n)
			consumed = (size_t)n;
		while (consumed) {
			ssize_t d = k_recv(fd, in, consumed, MSG_DONTWAIT);

			if (d <= 0)
				break;
			consumed -= (size_t)d;
		}
		if (r < 0) {
			if (tc_log_level >= TC_LOG_DEBUG) {
				char hex[2 * 24 + 1];

				sodium_bin2hex(hex, sizeof(hex), in, (size_t)n < 24 ? (size_t)n : 24);
				tc_debug("fd %d: bad Init message (%zd bytes: %s...)", fd, n, hex);
			}
			abort_conn(sh, fd, engine_errno(r), tc_strerror(r));
			return -sh->error;
		}
		if (outlen) {
			lock(&sh->tx_lock);
			memcpy(sh->tx + sh->tx_len, out, outlen);
			sh->tx_len += outlen;
			tx_flush(sh, fd, 1);
			unlock(&sh->tx_lock);
			if (tx_pending(sh))
				tc_progress_kick();
		}
		if (r == 1) {
			keys_set(sh, fd);
			break;
		}
		/* The engine took nothing: it needs more than is there. */
		if (r == 0 && consumed == 0 && outlen == 0) {
			if (nonblock)
				return -EAGAIN;
			want = (size_t)n + 1 < sizeof(in) ? (size_t)n + 1 : sizeof(in);
			waitall = 1;
		} else {
			want = sizeof(in);
			waitall = 0;
		}
	}
	return STATE(sh) == TC_ST_FAILED ? -sh->error : 0;
}

/* ---- start of a connection ---- */

static void policy_of(const struct tc_prefs *p, struct tc_eno_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->teps[0] = TCPCRYPT_TEP_ECDHE_CURVE25519;
	pol->nteps = 1;
	pol->app_aware = p->app_aware;
	pol->passive = p->passive;
}

void tc_crypto_warm(void)
{
	/* libcrypto's one-time set-up reads openssl.cnf and fclose()s it:
	 * through our fclose, whose close path takes the progress lock.
	 * Here, no lock of ours is held, and tc_in_shim makes that fclose
	 * pass straight to libc. Later first uses (under tx_lock, or on the
	 * progress thread holding its lock) would deadlock. */
	tc_in_shim++;
	(void)tc_aead_supported(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	tc_in_shim--;
}

int tc_sock_opt_in(int fd, const struct tc_prefs *p, int listener)
{
	int via;

	return tc_sock_opt_in_via(fd, p, listener, &via);
}

int tc_sock_opt_in_via(int fd, const struct tc_prefs *p, int listener, int *via_divert)
{
	struct tcpcrypt_eno_offer offer;
	struct tc_eno_policy pol;
	int n;

	*via_divert = 0;

	/* libsodium starts here, at the first connection (not at load) */
	if (sodium_init() < 0) {
		tc_err("libsodium failed to start; tcpcrypt disabled");
		return -EIO;
	}
	tc_crypto_warm();
	policy_of(p, &pol);
	memset(&offer, 0, sizeof(offer));
	offer.version = TCPCRYPT_ENO_ABI_VERSION;
	offer.flags = p->app_aware >= 2 ? TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE : 0;
	n = tc_eno_build_offer(&pol, listener, offer.content, sizeof(offer.content));
	if (n <= 0)
		return n < 0 ? n : -EINVAL;
	offer.len = (uint8_t)n;
	if (tc_real_setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &offer, sizeof(offer)) == 0) {
		tc_guard_enrol(fd);
		return 0;
	}
	if (errno != ENOPROTOOPT)
		return -errno;
	n = tc_divert_opt_in(fd, &offer);
	*via_divert = n == 0;
	return n;
}

/* Reads the ENO result and sets the session up (tx_lock held). */
static int start_locked(struct tc_sock *s, int fd, int blocking)
{
	struct tc_shm *sh = s->shm;
	struct tcpcrypt_eno_result res;
	struct tc_eno_outcome out;
	struct tc_eno_policy pol;
	struct tc_session_params p;
	struct tc_keypair kp;
	socklen_t len = sizeof(res);
	uint8_t hs[TC_HANDSHAKE_MAX];
	size_t consumed = 0, hslen = 0;
	int r, have_kp;

	/* The application can see the connection established a moment before
	 * the kernel program has judged the handshake (another CPU, still in
	 * the softirq): wait for the final result, briefly. */
	for (int i = 0;; i++) {
		struct timespec ts = { 0, 100000 };

		memset(&res, 0, sizeof(res));
		len = sizeof(res);
		r = tc_real_getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &res, &len);
		if (r < 0 && errno == ENOPROTOOPT) {   /* divert backend: ask tcpcryptd */
			r = tc_divert_result(fd, &res, &len);
			break;
		}
		if (r < 0 || !(res.flags & TCPCRYPT_RES_F_OPTED_IN) || (res.flags & TCPCRYPT_RES_F_DONE) ||
		    i == 500)
			break;
		nanosleep(&ts, NULL);
	}
	if (r < 0 || !(res.flags & TCPCRYPT_RES_F_ENO_OK)) {
		int reason = len >= 3 ? res.reason : TCPCRYPT_ENO_R_NOT_OPTED_IN;

		if (tc_cfg.require) {
			tc_err("fd %d: tcpcrypt not negotiated (%s); TCPCRYPT_REQUIRE: refusing", fd,
			       tc_eno_reason_str(reason));
			abort_conn(sh, fd, ECONNREFUSED, "tcpcrypt required");
			return -ECONNREFUSED;
		}
		tc_info("fd %d: plain TCP (%s)", fd, tc_eno_reason_str(reason));
		SET_STATE(sh, TC_ST_PLAIN);
		return 0;
	}
	policy_of(&s->prefs, &pol);
	r = tc_eno_negotiate(&pol, res.local_opt, res.local_len, res.peer_opt, res.peer_len, &out);
	if (r < 0 || !out.negotiated ||
	    out.role != ((res.flags & TCPCRYPT_RES_F_ROLE_B) ? TCPCRYPT_ROLE_B : TCPCRYPT_ROLE_A)) {
		abort_conn(sh, fd, EPROTO, "the kernel's ENO result disagrees with the negotiation rules");
		return -EPROTO;
	}
	memset(&p, 0, sizeof(p));
	p.role = out.role;
	p.tep_byte = out.tep_byte;
	p.transcript = out.transcript;
	p.transcript_len = out.transcript_len;
	p.aeads = s->prefs.naeads ? s->prefs.aeads : NULL;
	p.naeads = s->prefs.naeads;
	if (tc_keylog_enabled())
		p.keylog = tc_keylog_line;
	/* a key pair the progress thread made ahead, else one made now */
	have_kp = tc_keypool_take(&kp) == 0;
	lock(&sh->sess_lock);
	r = have_kp ? tc_session_init_keypair(SESS(sh), &p, &kp) : tc_session_init(SESS(sh), &p);
	if (r == 0 && out.role == TCPCRYPT_ROLE_A)
		r = tc_session_handshake(SESS(sh), NULL, 0, &consumed, hs, sizeof(hs), &hslen);
	unlock(&sh->sess_lock);
	tc_progress_kick();           /* makes the next key pair */
	if (r < 0) {
		abort_conn(sh, fd, engine_errno(r), tc_strerror(r));
		return -sh->error;
	}
	sh->role = out.role;
	sh->peer_app = out.peer_a;
	SET_STATE(sh, TC_ST_HANDSHAKE);
	tc_debug("fd %d: ENO negotiated, role %c", fd, out.role ? 'B' : 'A');
	if (hslen) {
		memcpy(sh->tx + sh->tx_len, hs, hslen);
		sh->tx_len += hslen;
		r = tx_flush(sh, fd, !blocking);
		if (r < 0 && r != -EAGAIN && r != -EINTR) {
			abort_conn(sh, fd, -r, "cannot send Init1");
			return r;
		}
	}
	return 0;
}

int tc_sock_start(struct tc_sock *s, int fd, int blocking)
{
	struct tc_shm *sh = s->shm;
	int r;

	lock(&sh->tx_lock);
	if (STATE(sh) == TC_ST_OPENING || STATE(sh) == TC_ST_CONNECTING)
		r = start_locked(s, fd, blocking);
	else
		r = STATE(sh) == TC_ST_FAILED ? -sh->error : 0;
	unlock(&sh->tx_lock);
	if (r < 0 || STATE(sh) != TC_ST_HANDSHAKE)
		return r;
	if (!blocking) {
		tc_progress_kick();
		return 0;
	}
	lock(&sh->rx_lock);
	r = rx_handshake(s, fd, 0);
	unlock(&sh->rx_lock);
	if (r < 0 && STATE(sh) != TC_ST_FAILED)
		abort_conn(sh, fd, r == -EAGAIN ? ETIMEDOUT : -r, "Init exchange did not finish");
	return r < 0 ? -sh->error : 0;
}

int tc_sock_check_connect(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int r = 0;

	if (STATE(sh) != TC_ST_CONNECTING)
		return 0;
	if (tc_real_poll(&p, 1, 0) <= 0)
		return 0;
	lock(&sh->tx_lock);
	if (STATE(sh) == TC_ST_CONNECTING) {
		if ((p.revents & (POLLERR | POLLHUP)) || getpeername(fd, (struct sockaddr *)&ss, &l) < 0)
			SET_STATE(sh, TC_ST_PLAIN);     /* the connect failed: the kernel tells why */
		else
			r = start_locked(s, fd, 0);
	}
	unlock(&sh->tx_lock);
	if (STATE(sh) == TC_ST_HANDSHAKE)
		tc_progress_kick();
	return r;
}

/* Common entry of the data calls: completes a pending connect, and says
 * whether to pass through (TC_PASS), fail, or go on. */
static int pre_io(struct tc_sock *s, int fd, int nonblock)
{
	struct tc_shm *sh = s->shm;

	for (;;) {
		switch (STATE(sh)) {
		case TC_ST_CONNECTING: {
			int r = tc_sock_check_connect(s, fd);

			if (r < 0)
				return r;
			if (STATE(sh) != TC_ST_CONNECTING)
				continue;
			if (nonblock)
				return -EAGAIN;
			k_wait(fd, POLLOUT, -1);
			continue;
		}
		case TC_ST_OPENING:
			return -ENOTCONN;     /* another thread is inside connect() */
		case TC_ST_PLAIN:
			return TC_PASS;
		case TC_ST_FAILED:
			return -sh->error;
		default:
			return 0;
		}
	}
}

/* ---- receiving (rx_lock held) ---- */

/* Readiness: SO_RCVLOWAT makes poll/select/epoll on the real socket report
 * readable only once the bytes that complete the current frame are there
 * (or 1 while a frame's last byte is kept in the kernel). */
static void set_lowat(struct tc_shm *sh, int fd, size_t v)
{
	int x = v < 1 ? 1 : v > TC_FRAME_MAX ? TC_FRAME_MAX : (int)v;

	if (sh->lowat == x || SANDBOXED())   /* (tc_sock_sandbox set it to 1) */
		return;
	sh->lowat = x;
	tc_real_setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &x, sizeof(x));
}

/* Sets the low-water mark for the next frame (none is open): its exact
 * length when its header is already there, else the smallest frame. */
static void rx_arm(struct tc_shm *sh, int fd)
{
	uint8_t hdr[TC_FRAME_HDR];

	if (sh->rx_len >= TC_FRAME_HDR) {
		set_lowat(sh, fd, tc_frame_len(sh->rx) - sh->rx_len);
		return;
	}
	if (sh->rx_len == 0 && k_recv(fd, hdr, sizeof(hdr), MSG_PEEK | MSG_DONTWAIT) == TC_FRAME_HDR) {
		set_lowat(sh, fd, tc_frame_len(hdr));
		return;
	}
	set_lowat(sh, fd, TC_FRAME_OVERHEAD - sh->rx_len);
}

/* The application consumed the current frame's plaintext: drop the frame,
 * and read the byte kept in the kernel for readiness. */
static void rx_frame_done(struct tc_shm *sh, int fd)
{
	uint8_t b;

	if (sh->held) {
		k_recv(fd, &b, 1, MSG_DONTWAIT);
		sh->held = 0;
	}
	sh->rx_len = sh->plain_off = sh->plain_len = 0;
	if (!sh->fin_rcvd)
		rx_arm(sh, fd);
}

/* Reads the next frame into rx and opens it. The frame's last byte is only
 * peeked (left in the kernel) when its plaintext will not all be consumed
 * now (room) or the caller peeks. When it will, the plaintext is decrypted
 * straight into the application's buffers (iov from offset skip) and
 * *direct says how many bytes went there. Returns 1 once a frame is open,
 * or -errno. */
static int rx_frame(struct tc_sock *s, int fd, int blk, size_t room, int peek,
                    const struct iovec *iov, int iovcnt, size_t skip, size_t *direct)
{
	struct tc_shm *sh = s->shm;
	unsigned oflags = 0;
	uint8_t *data = NULL;
	size_t flen = 0, dlen = 0;
	long grace_end = 0;
	int r, rk;

	for (;;) {
		int fl = blk ? 0 : MSG_DONTWAIT, hold = 0;
		size_t need;
		ssize_t n;

		if (sh->rx_len < TC_FRAME_HDR) {
			need = TC_FRAME_HDR - sh->rx_len;
		} else {
			flen = tc_frame_len(sh->rx);
			if (flen < TC_FRAME_OVERHEAD) {
				abort_conn(sh, fd, EBADMSG, "frame too short");
				return -EBADMSG;
			}
			need = flen - sh->rx_len;
			/* (no peeking in a sandbox: the frame is read whole) */
			hold = (peek || flen - TC_FRAME_OVERHEAD > room) && !SANDBOXED();
		}
		if (need == 0)
			break;
		if (hold && need == 1) {
			n = k_recv(fd, sh->rx + sh->rx_len, 1, fl | MSG_PEEK);
			if (n == 1) {
				sh->held = 1;
				sh->rx_len++;
				set_lowat(sh, fd, 1);
				break;
			}
		} else {
			n = k_recv(fd, sh->rx + sh->rx_len, hold ? need - 1 : need, fl);
			if (n > 0) {
				sh->rx_len += (size_t)n;
				continue;
			}
		}
		if (n == 0 && sh->shut_rd)
			return -ESHUTDOWN;    /* our own shutdown(SHUT_RD), e.g. to wake a reader */
		if (n == 0) {
			abort_conn(sh, fd, ECONNRESET, "TCP FIN without FINp");
			return -ECONNRESET;
		}
		if (n == -EAGAIN && !blk && sh->rx_len > 0) {
			/* Part of a frame is here: poll said readable, so the rest is
			 * normally on its way. Wait for it briefly rather than answer
			 * EAGAIN to a readable socket; from now on the low-water mark
			 * keeps poll truthful. */
			long now = now_ms();

			rx_arm(sh, fd);
			if (!grace_end)
				grace_end = now + TC_GRACE_MS;
			if (now < grace_end && k_wait(fd, POLLIN, (int)(grace_end - now)) > 0)
				continue;
		}
		return (int)n;
	}
	*direct = 0;
	lock(&sh->sess_lock);
	if (!peek && flen - TC_FRAME_OVERHEAD <= room)
		r = tc_session_open_to(SESS(sh), &s->rx_cx, sh->rx, flen, iov, iovcnt, skip,
		                       &data, &dlen, &oflags);
	else
		r = tc_session_open_to(SESS(sh), &s->rx_cx, sh->rx, flen, NULL, 0, 0,
		                       &data, &dlen, &oflags);
	rk = r == 0 && tc_session_rekey_pending(SESS(sh));
	unlock(&sh->sess_lock);
	if (r < 0) {
		abort_conn(sh, fd, engine_errno(r), tc_strerror(r));
		return -sh->error;
	}
	if (data == NULL) {
		*direct = dlen;       /* already in the application's buffers */
		dlen = 0;
	} else {
		sh->plain_off = (size_t)(data - sh->rx);
	}
	sh->plain_len = dlen;
	if (oflags & TC_OPEN_FIN)
		sh->fin_rcvd = 1;
	if (!dlen)
		rx_frame_done(sh, fd);
	if (rk) {
		sh->rekey_due = 1;
		if (trylock(&sh->tx_lock) == 0) {
			tx_flush(sh, fd, 1);
			unlock(&sh->tx_lock);
		}
		if (tx_pending(sh))
			tc_progress_kick();
	}
	return 1;
}

ssize_t tc_sock_recv(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct tc_shm *sh = s->shm;
	size_t len = iov_total(iov, iovcnt), total = 0, direct = 0;
	int peek = flags & MSG_PEEK, waitall = (flags & MSG_WAITALL) && !peek;
	int nonblock = (flags & MSG_DONTWAIT) || nonblocking(sh, fd);
	ssize_t r;

	r = pre_io(s, fd, nonblock);
	if (r)
		return r;
	if (flags & MSG_OOB)
		return -EINVAL;       /* tcpcrypt never sends urgent data */
	lock(&sh->rx_lock);
	if (STATE(sh) == TC_ST_HANDSHAKE && (r = rx_handshake(s, fd, nonblock)) < 0)
		goto out;
	r = 0;
	while (total < len) {
		if (sh->plain_len) {
			size_t n = sh->plain_len < len - total ? sh->plain_len : len - total;

			iov_put(iov, iovcnt, total, sh->rx + sh->plain_off, n);
			total += n;
			if (peek)
				break;
			sh->plain_off += n;
			sh->plain_len -= n;
			if (!sh->plain_len)
				rx_frame_done(sh, fd);
			continue;
		}
		if (sh->fin_rcvd || sh->shut_rd)
			break;
		if (STATE(sh) == TC_ST_FAILED) {
			r = -sh->error;
			break;
		}
		r = rx_frame(s, fd, !nonblock && (total == 0 || waitall), len - total, peek,
		             iov, iovcnt, total, &direct);
		if (r == -ESHUTDOWN)
			r = 0;
		if (r < 0)
			break;
		total += direct;
		r = 0;
	}
out:
	if (total && !peek)
		sh->fresh = 0;
	unlock(&sh->rx_lock);
	if (total)
		return (ssize_t)total;
	if (r <= 0 && r != -EAGAIN && len)
		tc_debug("fd %d: read gives %s (state %d, fin %d, partial %zu, lowat %d, fresh %d)", fd,
		         r ? strerror((int)-r) : "EOF", STATE(sh), sh->fin_rcvd, sh->rx_len, sh->lowat, sh->fresh);
	return r;
}

int tc_sock_available(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	size_t avail, have, p, base;
	ssize_t n;

	if (STATE(sh) != TC_ST_READY)
		return STATE(sh) == TC_ST_PLAIN ? TC_PASS : 0;
	lock(&sh->rx_lock);
	avail = sh->plain_len;
	n = k_recv(fd, sh->peekbuf, sizeof(sh->peekbuf), MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) {
		/* The stream from here: the partial frame in rx (none while a frame
		 * is open), then the kernel's bytes (after the held byte, if any). */
		base = sh->held ? 0 : sh->rx_len;
		size_t skip = sh->held ? 1 : 0;
		have = base + (size_t)n - skip;
		p = 0;
		while (p + TC_FRAME_HDR <= have) {
			uint8_t hdr[TC_FRAME_HDR];
			size_t flen;

			for (int i = 0; i < TC_FRAME_HDR; i++) {
				size_t q = p + (size_t)i;
				hdr[i] = q < base ? sh->rx[q] : sh->peekbuf[q - base + skip];
			}
			flen = tc_frame_len(hdr);
			if (flen < TC_FRAME_OVERHEAD || p + flen > have)
				break;
			avail += flen - TC_FRAME_OVERHEAD;
			p += flen;
		}
	}
	unlock(&sh->rx_lock);
	return avail > 0x7fffffff ? 0x7fffffff : (int)avail;
}

/* ---- sending ---- */

ssize_t tc_sock_send(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct tc_shm *sh = s->shm;
	size_t len = iov_total(iov, iovcnt), done = 0;
	int nonblock = (flags & MSG_DONTWAIT) || nonblocking(sh, fd);
	int r;

	r = pre_io(s, fd, nonblock);
	if (r == -EPIPE || (r == 0 && (sh->fin_sent || sh->fin_pending)))
		goto epipe;
	if (r)
		return r;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;   /* urgent data would bypass the frames */
	if (len == 0)
		return 0;
	lock(&sh->tx_lock);
	while (STATE(sh) == TC_ST_HANDSHAKE) {
		size_t n;

		if (sh->pre_len == TC_PRE_MAX) {
			unlock(&sh->tx_lock);
			tc_progress_kick();
			if (nonblock)
				return -EAGAIN;
			tc_real_poll(NULL, 0, 10);
			lock(&sh->tx_lock);
			continue;
		}
		n = TC_PRE_MAX - sh->pre_len < len ? TC_PRE_MAX - sh->pre_len : len;
		iov_get(iov, iovcnt, 0, sh->pre + sh->pre_len, n);
		sh->pre_len += n;
		unlock(&sh->tx_lock);
		tc_progress_kick();
		return (ssize_t)n;
	}
	if (STATE(sh) != TC_ST_READY) {
		unlock(&sh->tx_lock);
		return STATE(sh) == TC_ST_FAILED ? -sh->error : -EPIPE;
	}
	r = tx_flush(sh, fd, nonblock);
	while (r == 0 && done < len) {
		size_t chunk = len - done < TC_FRAME_MAX_DATA ? len - done : TC_FRAME_MAX_DATA;

		if (tc_cfg.rekey_bytes && sh->since_rekey >= tc_cfg.rekey_bytes) {
			lock(&sh->sess_lock);
			tc_session_rekey(SESS(sh));
			unlock(&sh->sess_lock);
			sh->since_rekey = 0;
			tc_debug("fd %d: rekey", fd);
		}
		sh->since_rekey += chunk;
		/* the application's bytes are encrypted straight into tx */
		r = seal_into_tx(sh, &s->tx_cx, iov, iovcnt, done, chunk, 0);
		if (r < 0) {
			r = -EPIPE;
			break;
		}
		done += chunk;
		r = tx_flush(sh, fd, nonblock);
	}
	unlock(&sh->tx_lock);
	if (tx_pending(sh))
		tc_progress_kick();
	if (done)
		return (ssize_t)done;
	if (r != -EPIPE)
		return r;
epipe:
	if (!(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return -EPIPE;
}

int tc_sock_shutdown(struct tc_sock *s, int fd, int how)
{
	struct tc_shm *sh = s->shm;
	int st = STATE(sh), r = 0;

	if (st == TC_ST_CONNECTING)
		tc_sock_check_connect(s, fd), st = STATE(sh);
	if (st == TC_ST_PLAIN || st == TC_ST_CONNECTING)
		return TC_PASS;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (st == TC_ST_FAILED)
		return -ENOTCONN;
	if (how == SHUT_RD || how == SHUT_RDWR) {
		sh->shut_rd = 1;
		tc_real_shutdown(fd, SHUT_RD);
	}
	if (how == SHUT_WR || how == SHUT_RDWR) {
		lock(&sh->tx_lock);
		sh->fin_pending = 1;
		if (STATE(sh) == TC_ST_READY)
			r = tx_flush(sh, fd, nonblocking(sh, fd));
		unlock(&sh->tx_lock);
		if (tx_pending(sh) || STATE(sh) == TC_ST_HANDSHAKE)
			tc_progress_kick();
		if (r == -EAGAIN || r == -EINTR)
			r = 0;
	}
	return r;
}

void tc_sock_final_close(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	long deadline = now_ms() + TC_CLOSE_WAIT_MS;

	if (STATE(sh) == TC_ST_CONNECTING)
		tc_sock_check_connect(s, fd);
	if (STATE(sh) != TC_ST_HANDSHAKE && STATE(sh) != TC_ST_READY)
		return;
	if (lock_until(&sh->tx_lock, deadline) < 0)
		return;
	sh->fin_pending = 1;
	unlock(&sh->tx_lock);
	for (;;) {
		int r = 0, st = STATE(sh);
		long left;

		if (st == TC_ST_HANDSHAKE && trylock(&sh->rx_lock) == 0) {
			r = rx_handshake(s, fd, 1);
			unlock(&sh->rx_lock);
		}
		st = STATE(sh);
		if (st == TC_ST_FAILED)
			return;
		if (st == TC_ST_READY) {
			if (lock_until(&sh->tx_lock, deadline) < 0)
				return;
			r = tx_flush(sh, fd, 1);
			unlock(&sh->tx_lock);
			if (r == 0 && !tx_pending(sh))
				return;
			if (r < 0 && r != -EAGAIN && r != -EINTR)
				return;
		}
		left = deadline - now_ms();
		if (left <= 0) {
			tc_info("fd %d: closed before its last frames could be sent", fd);
			return;
		}
		k_wait(fd, st == TC_ST_READY ? POLLOUT : POLLIN, left < 50 ? (int)left : 50);
	}
}

/* ---- waiting for the keys ---- */

int tc_sock_wait_ready(struct tc_sock *s, int fd, int ms)
{
	struct tc_shm *sh = s->shm;
	long deadline = now_ms() + ms;

	for (;;) {
		int st = STATE(sh);
		long left;

		if (st == TC_ST_CONNECTING)
			tc_sock_check_connect(s, fd);
		else if (st == TC_ST_HANDSHAKE && trylock(&sh->rx_lock) == 0) {
			rx_handshake(s, fd, 1);
			unlock(&sh->rx_lock);
		}
		st = STATE(sh);
		if (st != TC_ST_CONNECTING && st != TC_ST_HANDSHAKE)
			return st == TC_ST_READY ? 0 : -ENOTCONN;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		k_wait(fd, st == TC_ST_CONNECTING ? POLLOUT : POLLIN, left < 5 ? (int)left : 5);
		if (st == TC_ST_HANDSHAKE)
			tc_real_poll(NULL, 0, 1);   /* another thread may be taking the Init message */
	}
}

/* ---- readiness seen by poll/epoll ---- */

int tc_sock_hide_pollin(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	int hide = 0;

	if (!sh || (STATE(sh) != TC_ST_HANDSHAKE && !(STATE(sh) == TC_ST_READY && sh->fresh)))
		return 0;
	/* The progress thread may hold the lock for a moment (longer on a busy
	 * machine); a reader blocked in the kernel for longer: then leave the
	 * event alone. */
	if (lock_until(&sh->rx_lock, now_ms() + 50) < 0) {
		tc_debug("fd %d: readiness not checked (receive side busy)", fd);
		return 0;
	}
	if (STATE(sh) == TC_ST_HANDSHAKE)
		rx_handshake(s, fd, 1);
	if (STATE(sh) == TC_ST_HANDSHAKE) {
		hide = 1;                     /* a part of an Init message, taken */
	} else if (STATE(sh) == TC_ST_READY && !sh->plain_len && !sh->fin_rcvd) {
		/* Keys just set (here or by the progress thread, maybe after the
		 * kernel reported the Init message): readable only if a whole
		 * frame is there now (the low-water mark is armed for it). */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		hide = tc_real_poll(&p, 1, 0) == 0;
	}
	unlock(&sh->rx_lock);
	return hide;
}

/* ---- progress thread ---- */

short tc_sock_progress_events(struct tc_sock *s)
{
	struct tc_shm *sh = s->shm;

	if (!sh)
		return 0;
	switch (STATE(sh)) {
	case TC_ST_CONNECTING:
		return POLLOUT;
	case TC_ST_HANDSHAKE:
		return POLLIN | (sh->tx_off < sh->tx_len ? POLLOUT : 0);
	case TC_ST_READY:
		return tx_pending(sh) ? POLLOUT : 0;
	default:
		return 0;
	}
}

void tc_sock_progress(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;

	if (STATE(sh) == TC_ST_CONNECTING)
		tc_sock_check_connect(s, fd);
	if (STATE(sh) == TC_ST_HANDSHAKE && trylock(&sh->rx_lock) == 0) {
		rx_handshake(s, fd, 1);
		unlock(&sh->rx_lock);
	}
	if ((STATE(sh) == TC_ST_READY || STATE(sh) == TC_ST_HANDSHAKE) && tx_pending(sh) &&
	    trylock(&sh->tx_lock) == 0) {
		tx_flush(sh, fd, 1);
		unlock(&sh->tx_lock);
	}
}

/* ---- exec handover ---- */

/* An fd for the shared memory of the region itself (its VMA in
 * /proc/self/map_files: needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE). */
static int region_fd(struct tc_shm *sh)
{
	char path[64];
	uintptr_t b = (uintptr_t)REGION(sh);
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)b,
	         (unsigned long)(b + shm_size));
	fd = open(path, O_RDWR);    /* not O_CLOEXEC: for the new image */
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != shm_size) {
		tc_real_close(fd);
		return -EINVAL;
	}
	return fd;
}

int tc_sock_export(struct tc_sock *s, int *shared)
{
	struct tc_shm *sh = s->shm, *c;
	void *copy;
	int mfd, r = 0;

	if (!sh || STATE(sh) != TC_ST_READY)
		return -EAGAIN;
	/* Best: the new image maps the very memory every holder shares. */
	if ((mfd = region_fd(sh)) >= 0) {
		*shared = 1;
		return mfd;
	}
	/* Else a copy, which only works if this process is the only holder:
	 * two copies of one session would reuse nonces. */
	*shared = 0;
	if (__atomic_load_n(&sh->nprocs, __ATOMIC_ACQUIRE) != 1)
		return -EBUSY;
	mfd = memfd_create("tcpcrypt-session", 0);    /* inherited by the new image */
	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, (off_t)shm_size) < 0 ||
	    (copy = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)) == MAP_FAILED) {
		r = -errno;
		tc_real_close(mfd);
		return r;
	}
	lock(&sh->rx_lock);
	lock(&sh->tx_lock);
	lock(&sh->sess_lock);
	if (STATE(sh) == TC_ST_READY) {
		memcpy(copy, REGION(sh), shm_size);
		c = (struct tc_shm *)((uint8_t *)copy + sess_off);
		if (init_mutex(&c->rx_lock) || init_mutex(&c->tx_lock) || init_mutex(&c->sess_lock))
			r = -ENOMEM;
		c->nprocs = 1;
		c->shared = 1;
		if (r == 0) {
			/* The session now belongs to the new image only: whoever
			 * else holds this copy must never seal with it again. */
			sh->error = ECONNABORTED;
			SET_STATE(sh, TC_ST_FAILED);
		}
	} else {
		r = -EAGAIN;
	}
	unlock(&sh->sess_lock);
	unlock(&sh->tx_lock);
	unlock(&sh->rx_lock);
	if (r < 0)
		sodium_memzero(copy, shm_size);
	munmap(copy, shm_size);
	if (r < 0) {
		tc_real_close(mfd);
		return r;
	}
	return mfd;
}

void tc_sock_export_undo(struct tc_sock *s)
{
	struct tc_shm *sh = s->shm;

	sh->error = 0;
	SET_STATE(sh, TC_ST_READY);
}

int tc_sock_adopt(int mfd, struct tc_sock **out)
{
	struct stat st;
	struct tc_shm *sh;
	struct tc_sock *s;
	void *r;

	if (sodium_init() < 0)       /* (this image has not started libsodium yet) */
		return -EIO;
	if (fstat(mfd, &st) < 0 || (size_t)st.st_size != shm_size)
		return -EINVAL;
	r = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (r == MAP_FAILED)
		return -errno;
	sh = (struct tc_shm *)((uint8_t *)r + sess_off);
	if (sh->size != shm_size || STATE(sh) != TC_ST_READY || !(s = tc_sock_new(TC_K_CONN, NULL))) {
		/* (the keys are only ever handed over once set: the session's
		 * key log callback is an address in the previous image) */
		munmap(r, shm_size);
		return -EINVAL;
	}
	s->shm = sh;
	s->opted_in = 1;
	tc_debug("adopted state: rx %zu, plain %zu+%zu, held %d, lowat %d, tx %zu/%zu, pre %zu, nprocs %d",
	         sh->rx_len, sh->plain_off, sh->plain_len, sh->held, sh->lowat, sh->tx_off, sh->tx_len,
	         sh->pre_len, sh->nprocs);
	*out = s;
	return 0;
}

void tc_sock_abort_fd(int fd, const char *why)
{
	struct sockaddr sa;
	struct linger lg = { 1, 0 };

	tc_real_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	tc_real_connect(fd, &sa, sizeof(sa));
	tc_warn("fd %d: connection aborted (%s)", fd, why);
}

/* ---- seccomp sandbox ---- */

void tc_sock_sandbox(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	int one = 1;

	if (!sh)
		return;
	tc_sock_note_nonblock(s, tc_fd_nonblocking(fd));
	sh->lowat = 1;
	tc_real_setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
}

/* ---- information ---- */

int tc_sock_sessid(struct tc_sock *s, uint8_t *buf, size_t cap)
{
	struct tc_shm *sh = s->shm;

	if (!sh || STATE(sh) != TC_ST_READY)
		return -ENOTCONN;
	if (cap < sh->sessid_len)
		return -EINVAL;
	memcpy(buf, sh->sessid, sh->sessid_len);
	return sh->sessid_len;
}

int tc_sock_info(struct tc_sock *s, int *role, int *aead, int *peer_app)
{
	struct tc_shm *sh = s->shm;

	if (!sh || STATE(sh) != TC_ST_READY)
		return -ENOTCONN;
	*role = sh->role;
	*aead = sh->aead;
	*peer_app = sh->peer_app;
	return 0;
}
