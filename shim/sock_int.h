/*
 * sock_int.h - what the sock_*.c files share among themselves (none of it
 * is for the wrappers, which use sock.h): the region's layout, its locks,
 * and the internal steps of the receive and send paths.
 *
 * The files form layers; each calls only into layers below it, never
 * up and never in a cycle:
 *   sock_io, sock_iov          kernel I/O, failure; iovec copies
 *   sock_flush, sock_lowat, sock_urg   the send queue; the receive low-water
 *                              mark; urgent data's mark
 *   sock_init                  the Init exchange, keys set
 *   sock_start                 opt-in, ENO outcome, session start, pre_io
 *   sock_peek                  a waiting peek past the open frame
 *   sock_rx, sock_tx, sock_ready   recv/send/shutdown/close, readiness
 *   sock_region, sock_chunk, sock_state, sock_exec   the region (one
 *                                        mapping, or a chunk's slot); accessors; exec
 * Each function keeps the locking rule written on it.
 */
#ifndef TC_SHIM_SOCK_INT_H
#define TC_SHIM_SOCK_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "sock.h"
#include "sock_lock.h"
#include "sock_shm.h"

#define SANDBOXED() __atomic_load_n(&tc_sandboxed, __ATOMIC_RELAXED)

/* The receive buffer as the region describes it: the current frame's bytes
 * (len) and the opened plaintext left in it (off, plen), each read once.
 * 0 when they fit rx and each other (plaintext ends where the frame's tag
 * starts), else -EPROTO. */
struct rx_view {
	size_t len, off, plen;
};

static inline int rx_view(const struct tc_shm *sh, struct rx_view *v)
{
	v->len = SHM_READ(sh->rx_len);
	v->off = SHM_READ(sh->plain_off);
	v->plen = SHM_READ(sh->plain_len);
	if (v->len > sizeof(sh->rx))
		return -EPROTO;
	if (v->plen && (v->off < TC_FRAME_HDR + 1 || v->off > v->len || v->plen > v->len - v->off ||
	                v->len - v->off - v->plen != TC_TAG_LEN))
		return -EPROTO;
	return 0;
}

/* The send queue as the region describes it: ciphertext tx[off..len),
 * each read once. 0 when it fits tx, else -EPROTO. */
static inline int tx_view(const struct tc_shm *sh, size_t *off, size_t *len)
{
	*off = SHM_READ(sh->tx_off);
	*len = SHM_READ(sh->tx_len);
	return *len <= sizeof(sh->tx) && *off <= *len ? 0 : -EPROTO;
}

/* Plaintext queued before the keys, read once: 0 when it fits pre. */
static inline int pre_view(const struct tc_shm *sh, size_t *len)
{
	*len = SHM_READ(sh->pre_len);
	return *len <= sizeof(sh->pre) ? 0 : -EPROTO;
}

/* sock_io.c: aborts the connection whose region failed a check (EPROTO);
 * returns -EPROTO. */
int region_corrupt(struct tc_shm *sh, int fd, const char *what);

/* sock_io.c: O_NONBLOCK of a connection (the recorded flag in a sandbox). */
int nonblocking(const struct tc_shm *sh, int fd);
/* sock_io.c: the kernel's recv/send/poll, -errno on failure. */
ssize_t k_recv(int fd, void *b, size_t n, int flags);
ssize_t k_send(struct tc_sock *s, int fd, const void *b, size_t n, int flags);
int k_wait(int fd, short events, int ms);
/* sock_io.c: marks the connection failed with err and resets it. */
void abort_conn(struct tc_shm *sh, int fd, int err, const char *why);
/* sock_io.c: the errno the application sees for an engine error. */
int engine_errno(int r);

/* sock_iov.c */
size_t iov_total(const struct iovec *iov, int cnt);
void iov_put(const struct iovec *iov, int cnt, size_t off, const uint8_t *src, size_t n);
void iov_get(const struct iovec *iov, int cnt, size_t off, uint8_t *dst, size_t n);

/* sock_flush.c (tx_lock held): seals len bytes of iov from skip (or a
 * control frame) into tx. 0 or -errno. */
int seal_into_tx(struct tc_shm *sh, tc_aead_ctx *x, const struct iovec *iov, int iovcnt,
                 size_t skip, size_t len, unsigned flags);
/* sock_flush.c (tx_lock held): sends what is queued; 0 or -errno. */
int tx_flush(struct tc_sock *s, int fd, int nonblock);
/* sock_flush.c: 1 when something waits to be sent. */
int tx_pending(const struct tc_shm *sh);

/* sock_init.c (rx_lock held): runs the Init exchange as far as it can. */
int rx_handshake(struct tc_sock *s, int fd, int nonblock);
/* sock_init.c: the keys are set. */
void keys_set(struct tc_sock *s, int fd);

/* sock_chunk.c: a region in a chunk (a mapping shared by up to
 * TC_CHUNK_SLOTS regions), zero or wiped; *c names the chunk. NULL when
 * none can be had. */
void *tc_chunk_take(struct tc_chunk **c);
/* sock_chunk.c: gives a region of chunk c back. reuse: wiped, and never
 * shared with another process (it may be handed out again); else it is
 * unmapped here. */
void tc_chunk_release(struct tc_chunk *c, void *slot, int reuse);
/* sock_chunk.c: fork handlers (start-up). */
void tc_chunk_init(void);

/* sock_lowat.c: sets SO_RCVLOWAT to v (bounded), unless it is already. */
void set_lowat(struct tc_shm *sh, int fd, size_t v);
/* sock_lowat.c: sets the low-water mark for the next frame. */
void rx_arm(struct tc_shm *sh, int fd);

/* sock_urg.c: records the application's SO_OOBINLINE and keeps urgent
 * bytes in the real socket's stream (at the negotiation). */
void urg_start(struct tc_shm *sh, int fd);
/* sock_urg.c (rx_lock held): no mark any more. */
void urg_clear(struct tc_shm *sh);
/* sock_urg.c (rx_lock held): the frame just opened had URGp naming its
 * data byte u (of dlen). *direct bytes of them went to the application's
 * iov from skip: those from the mark on come back to rx and *direct
 * becomes u. 0, or -EPROTO (u outside the data, or the region). */
int urg_frame(struct tc_shm *sh, size_t u, size_t dlen, const struct iovec *iov, int iovcnt,
              size_t skip, size_t *direct);
/* sock_urg.c (rx_lock held): how many of the n plaintext bytes at rx
 * offset off may be read together: up to the mark, not across it. */
size_t urg_clip(const struct tc_shm *sh, size_t off, size_t n);

/* sock_peek.c (rx_lock held): recv(MSG_PEEK|MSG_WAITALL) after the open
 * frame's whole plaintext went to iov (*total bytes): the frames queued
 * in the kernel behind it, opened without consuming them or changing the
 * session, into iov up to len, waiting for them unless nonblock; stops
 * at FINp, an urgent mark or a rekey. 0 (*total updated) or -errno (a
 * frame failed: the connection aborted; the caller returns the error). */
int rx_peek_more(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, size_t len,
                 size_t *total, int nonblock);

/* sock_start.c: common entry of the data calls: TC_PASS, -errno or 0. */
int pre_io(struct tc_sock *s, int fd, int nonblock);

#endif
