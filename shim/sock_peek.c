/*
 * sock_peek.c - recv(MSG_PEEK|MSG_WAITALL) past the open frame, as plain
 * TCP does it: the bytes are waited for and returned, nothing consumed.
 *
 * The region holds one frame; the frames behind it stay in the kernel.
 * A waiting peek looks at them there (MSG_PEEK into a buffer of its own,
 * mapped for the call: no memory per connection) and opens them with the
 * offsets, and so the nonces, they will have when they are read
 * (tc_session_peek: no state changes, no nonce is sealed with). It stops
 * where plain TCP's would or where the keys change: at FINp (the end),
 * at an urgent mark (the kernel's peek stops there too), at a frame with
 * rekey=1 (under the next key). A frame that fails authentication aborts
 * the connection as its read would, and the peek fails with that error.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "libc_syms.h"
#include "sock.h"
#include "sock_int.h"

/* Ciphertext a peek looks at, at most. */
#define PEEK_MAX (1u << 20)

/* What the peek has of the kernel's queue: buf[0..have), its next frame
 * at p, ahead bytes of frames after the open one (their offset). */
struct peek {
	uint8_t *buf;
	size_t cap, have, p;
	uint64_t ahead;
};

/* How much of the queue a peek may wait for: what the receive buffer
 * holds for sure while nothing is read, half of SO_RCVBUF (measured on
 * Linux 6.18 with the default 128 KiB: 80% queued over veth, 97% over
 * loopback). Frames that need more might never all be there, where plain
 * TCP would have returned the bytes it has: then the peek returns. */
static size_t peek_room(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) < 0 || v <= 0)
		return 0;
	return (size_t)v / 2 < PEEK_MAX ? (size_t)v / 2 : PEEK_MAX;
}

/* Opens the whole frame at pk->p (flen bytes) into iov after *total.
 * 1: go on; 0: stop there (rekey, FINp, urgent mark, iov full); or
 * -errno (the connection aborted). */
static int peek_frame(struct tc_sock *s, int fd, struct peek *pk, size_t flen,
                      const struct iovec *iov, int iovcnt, size_t len, size_t *total)
{
	struct tc_shm *sh = s->shm;
	uint8_t *data;
	size_t dlen, n;
	unsigned fl;
	uint16_t u;
	int r;

	lock(&sh->sess_lock);
	r = tc_session_peek(SESS(sh), &s->rx_cx, pk->ahead, pk->buf + pk->p, flen, &data, &dlen, &fl, &u);
	unlock(&sh->sess_lock);
	if (r == -EAGAIN)
		return 0;
	if (r < 0) {
		abort_conn(sh, fd, engine_errno(r), tc_strerror(r));
		return -shm_error(sh);
	}
	n = (fl & TC_OPEN_URG) && u < dlen ? u : dlen;   /* a read stops at the mark */
	if (n > len - *total)
		n = len - *total;
	iov_put(iov, iovcnt, *total, data, n);
	*total += n;
	pk->p += flen;
	pk->ahead += flen;
	return !(fl & (TC_OPEN_URG | TC_OPEN_FIN)) && *total < len;
}

/* Opens the whole frames in buf from p on. 1 when the peek needs more of
 * the queue (*need: how much), 0 when it is done, or -errno. */
static int peek_frames(struct tc_sock *s, int fd, struct peek *pk, const struct iovec *iov,
                       int iovcnt, size_t len, size_t *total, size_t *need)
{
	for (;;) {
		size_t flen;
		int r;

		if (pk->have - pk->p < TC_FRAME_HDR) {
			*need = pk->p + TC_FRAME_HDR;
			return 1;
		}
		flen = tc_frame_len(pk->buf + pk->p);
		if (flen > pk->have - pk->p) {
			*need = pk->p + flen;
			return 1;
		}
		r = peek_frame(s, fd, pk, flen, iov, iovcnt, len, total);
		if (r <= 0)
			return r;
	}
}

int rx_peek_more(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, size_t len,
                 size_t *total, int nonblock)
{
	struct tc_shm *sh = s->shm;
	struct peek pk = { 0 };
	size_t need = 0, first;
	ssize_t n;
	int r;

	if (*total >= len || SANDBOXED() || sh->fin_rcvd || sh->shut_rd || STATE(sh) != TC_ST_READY)
		return 0;
	pk.cap = peek_room(fd);
	if (pk.cap < TC_FRAME_OVERHEAD + 2)
		return 0;
	pk.buf = mmap(NULL, pk.cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pk.buf == MAP_FAILED)
		return 0;   /* (the peek returns what it has) */
	pk.p = SHM_READ(sh->held) ? 1 : 0;   /* the open frame's last byte */
	/* what is there (about enough for len), then one frame at a time,
	 * waiting unless nonblocking: the kernel's own MSG_PEEK|MSG_WAITALL
	 * ends the wait where plain TCP's would end (EOF, an error, the
	 * socket's timeout, a signal, an urgent mark) */
	first = len - *total < pk.cap ? pk.p + (len - *total) + TC_FRAME_MAX : pk.cap;
	n = k_recv(fd, pk.buf, first < pk.cap ? first : pk.cap, MSG_PEEK | MSG_DONTWAIT);
	if (n == -EAGAIN)
		n = 0;   /* (nothing queued: no byte held) */
	for (;;) {
		if (n < (ssize_t)pk.p || (need && (size_t)n < need)) {
			r = 0;   /* nothing more now */
			break;
		}
		pk.have = (size_t)n;
		r = peek_frames(s, fd, &pk, iov, iovcnt, len, total, &need);
		if (r <= 0 || need > pk.cap)
			break;
		n = k_recv(fd, pk.buf, need, MSG_PEEK | (nonblock ? MSG_DONTWAIT : MSG_WAITALL));
	}
	if (r > 0)
		r = 0;
	munmap(pk.buf, pk.cap);
	return r;
}
