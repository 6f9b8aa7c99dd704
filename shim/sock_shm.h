/*
 * sock_shm.h - the layout of a connection's shared region (internal to the
 * sock_*.c files; the wrappers see only sock.h). One struct tc_shm per
 * connection, in MAP_SHARED memory shared with forked children and handed
 * over across exec (sock_exec.c): changing it changes what an exec'ed
 * image of another build would read, so sock_exec.c checks the size.
 *
 * Untrusted input: every process that holds the connection may write any
 * byte of it at any time. It holds no pointers (function or data), its
 * locks are futex words that are only compared (sock_lock.h), and the
 * code reads each index, length and state from it once into a local,
 * checks it against its bound (the shm_*() helpers of sock_int.h), and
 * uses the local; a check that fails aborts the connection (EPROTO).
 */
#ifndef TC_SHIM_SOCK_SHM_H
#define TC_SHIM_SOCK_SHM_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "sock.h"
#include "sock_lock.h"
#include "tcpcrypt/tcpcrypt.h"

#define TC_PRE_MAX        65536   /* plaintext written before the keys existed */
#define TC_SESS_SPACE     6016
#define TC_URG_UNREAD     1       /* urgent byte not read with MSG_OOB yet */
#define TC_URG_READ       2       /* read with MSG_OOB; the mark stays until passed */
#define TC_URG_NOWHERE    ((size_t)-1)   /* urg_off of an urgent byte no longer in rx */    /* >= tc_session_head_size() (checked at start-up) */

struct tc_shm {
	tc_lock_t rx_lock, tx_lock, sess_lock;   /* futex words (sock_lock.h) */
	size_t size;                 /* of the whole region */
	uint8_t shared;              /* ever held by another process: never pooled */
	int nprocs;                  /* processes holding the socket (atomic) */
	int state;                   /* enum tc_state (atomic) */
	int error;                   /* errno for I/O once failed */
	int so_error;                /* pending SO_ERROR report */
	uint8_t role, peer_app, fin_rcvd, fin_sent, fin_pending, wr_shut, shut_rd, held;
	uint8_t rekey_due, sessid_len;
	int lowat;                   /* SO_RCVLOWAT we set (0: the kernel's default) */
	uint8_t lowat_guess;         /* set before the frame's length was known */
	uint64_t since_rekey;        /* application bytes sealed since the last rekey */
	uint8_t fresh;               /* keys set, the application has not read data yet */
	uint16_t aead;
	uint8_t nonblock;            /* O_NONBLOCK of the socket, as of the sandbox's start */
	uint8_t sessid[TCPCRYPT_SESSID_MAX];
	size_t rx_len;               /* bytes of the current frame in rx */
	size_t plain_off, plain_len; /* opened plaintext left in rx */
	size_t tx_off, tx_len;       /* ciphertext in tx not yet accepted by the kernel */
	size_t pre_len;              /* plaintext queued before the keys */
	/* urgent data (sock_urg.c) */
	uint8_t oobinline;           /* the application's SO_OOBINLINE (the kernel's is 1) */
	uint8_t urg;                 /* a mark in the current frame: TC_URG_UNREAD or _READ */
	uint8_t urg_byte;            /* the last urgent byte */
	size_t urg_off;              /* the mark: where that byte is in rx */
	size_t tx_urg;               /* 1 + where in tx the byte to send urgent is (0: none) */
	size_t pre_urg;              /* pre's bytes up to the last urgent one (0: none) */
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
extern size_t sess_off, shm_size, pg_size;   /* (state.c, set by sock_region.c) */

#define SESS(sh) ((tc_session *)(void *)(sh)->sess)
#define REGION(sh) ((void *)((uint8_t *)(sh) - sess_off))
/* A value of the region, read once (a peer may change it between reads). */
#define SHM_READ(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* The state, read once: anything but a known state is a failed one. */
static inline int shm_state(const struct tc_shm *sh)
{
	int v = __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE);

	return v >= TC_ST_OPENING && v <= TC_ST_PLAIN ? v : TC_ST_FAILED;
}

/* The errno of a failed connection, read once: a positive errno, else
 * EPROTO (a caller returns -shm_error(): never 0 or a byte count). */
static inline int shm_error(const struct tc_shm *sh)
{
	int e = SHM_READ(sh->error);

	return e > 0 && e < 4096 ? e : EPROTO;
}

#define STATE(sh) shm_state(sh)
#define SET_STATE(sh, v) __atomic_store_n(&(sh)->state, (v), __ATOMIC_RELEASE)

#endif
