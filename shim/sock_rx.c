/*
 * sock_rx.c - the receive side: frames read and opened (into the
 * application's buffers when they fit), the low-water mark that keeps
 * readiness truthful, recv() and FIONREAD.
 */
#include "config.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "sock.h"
#include "sock_int.h"

/* ---- receiving (rx_lock held) ---- */

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
	sh->urg_off = TC_URG_NOWHERE;   /* an urgent byte not read yet stays for MSG_OOB */
	if (!sh->fin_rcvd)
		rx_arm(sh, fd);
}

/* The kernel stopped a read one byte before the end of the frame: is
 * that byte TCP-urgent (the sender's hint that the frame has URGp)? It is
 * then kept in the kernel while the frame is read, so that the kernel goes
 * on reporting POLLPRI and its mark. */
static int urgent_next(int fd)
{
	int mark = 0;

	return !SANDBOXED() && tc_real_ioctl(fd, SIOCATMARK, &mark) == 0 && mark;
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
	int r, rk, urg_hint = 0;
	uint16_t u = 0;

	for (;;) {
		int fl = blk ? 0 : MSG_DONTWAIT, hold = 0;
		size_t need, have = SHM_READ(sh->rx_len);
		ssize_t n;

		if (have > sizeof(sh->rx))
			return region_corrupt(sh, fd, "shared region: rx_len");
		if (have < TC_FRAME_HDR) {
			need = TC_FRAME_HDR - have;
		} else {
			uint8_t hdr[TC_FRAME_HDR];

			memcpy(hdr, sh->rx, sizeof(hdr));
			flen = tc_frame_len(hdr);
			if (flen < TC_FRAME_OVERHEAD) {
				abort_conn(sh, fd, EBADMSG, "frame too short");
				return -EBADMSG;
			}
			if (flen < have)
				return region_corrupt(sh, fd, "shared region: rx_len past the frame");
			need = flen - have;
			/* (no peeking in a sandbox: the frame is read whole) */
			hold = (peek || urg_hint || flen - TC_FRAME_OVERHEAD > room) && !SANDBOXED();
		}
		if (need == 0)
			break;
		if (hold && need == 1) {
			n = k_recv(fd, sh->rx + have, 1, fl | MSG_PEEK);
			if (n == 1) {
				sh->held = 1;
				sh->rx_len = have + 1;
				sh->lowat_guess = 0;
				set_lowat(sh, fd, 1);
				break;
			}
		} else {
			n = k_recv(fd, sh->rx + have, hold ? need - 1 : need, fl);
			if (n > 0) {
				sh->rx_len = have + (size_t)n;
				if (flen && !hold && (size_t)n == need - 1)
					urg_hint = urgent_next(fd);
				continue;
			}
		}
		if (n == 0 && sh->shut_rd)
			return -ESHUTDOWN;    /* our own shutdown(SHUT_RD), e.g. to wake a reader */
		if (n == 0) {
			abort_conn(sh, fd, ECONNRESET, "TCP FIN without FINp");
			return -ECONNRESET;
		}
		if (n == -EAGAIN && !blk && have > 0) {
			/* Part of a frame is here (poll said readable before its
			 * length was known): EAGAIN now, never a wait for the rest;
			 * from now on the low-water mark keeps poll truthful. */
			rx_arm(sh, fd);
		}
		return (int)n;
	}
	*direct = 0;
	lock(&sh->sess_lock);
	if (!peek && flen - TC_FRAME_OVERHEAD <= room && !sh->held)
		r = tc_session_open_to(SESS(sh), &s->rx_cx, sh->rx, flen, iov, iovcnt, skip,
		                       &data, &dlen, &oflags);
	else
		r = tc_session_open_to(SESS(sh), &s->rx_cx, sh->rx, flen, NULL, 0, 0,
		                       &data, &dlen, &oflags);
	rk = r == 0 && tc_session_rekey_pending(SESS(sh));
	if (r == 0 && (oflags & TC_OPEN_URG))
		u = tc_session_urgent(SESS(sh));
	unlock(&sh->sess_lock);
	if (r < 0) {
		abort_conn(sh, fd, engine_errno(r), tc_strerror(r));
		return -shm_error(sh);
	}
	if (dlen > flen - TC_FRAME_OVERHEAD)
		return region_corrupt(sh, fd, "shared region: frame changed while opened");
	if (data == NULL) {
		*direct = dlen;       /* already in the application's buffers */
		dlen = 0;
	} else {
		if (data < sh->rx + TC_FRAME_HDR + 1 || data + dlen + TC_TAG_LEN != sh->rx + flen)
			return region_corrupt(sh, fd, "shared region: frame changed while opened");
		sh->plain_off = (size_t)(data - sh->rx);
	}
	sh->plain_len = dlen;
	if ((oflags & TC_OPEN_URG) &&
	    urg_frame(sh, u, data == NULL ? *direct : dlen, iov, iovcnt, skip, direct) < 0)
		return region_corrupt(sh, fd, "shared region: urgent mark");
	if (oflags & TC_OPEN_FIN)
		sh->fin_rcvd = 1;
	if (!SHM_READ(sh->plain_len))
		rx_frame_done(sh, fd);
	if (rk) {
		sh->rekey_due = 1;
		if (trylock(&sh->tx_lock) == 0) {
			tx_flush(s, fd, 1);
			unlock(&sh->tx_lock);
		}
		if (tx_pending(sh))
			tc_progress_kick_fd(fd);
	}
	return 1;
}

/* Opens the next frame if no frame's plaintext is waiting and the frame
 * is all there, without waiting and without consuming it (so that an
 * urgent mark at its start is known). 0 or -errno. */
static int rx_open_next(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	size_t direct = 0;
	int r;

	if (SHM_READ(sh->plain_len) || sh->fin_rcvd || sh->shut_rd || STATE(sh) != TC_ST_READY)
		return 0;
	r = rx_frame(s, fd, 0, 0, 1, NULL, 0, 0, &direct);
	return r < 0 && r != -EAGAIN && r != -ESHUTDOWN ? r : 0;
}

/* Is urgent data announced by the kernel that the shim has not read yet? */
static int kernel_urgent(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };

	return tc_real_poll(&p, 1, 0) == 1 && (p.revents & POLLPRI);
}

/* recv(MSG_OOB): the last urgent byte, as plain TCP gives it: EINVAL with
 * SO_OOBINLINE, when there is none or it was read; EAGAIN while it is
 * announced but not reached yet (the frames before it not read: the shim
 * holds one frame at a time). */
static ssize_t recv_oob(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct tc_shm *sh = s->shm;
	size_t len = iov_total(iov, iovcnt);
	ssize_t r;
	int u;

	if (STATE(sh) != TC_ST_READY || SHM_READ(sh->oobinline))
		return STATE(sh) == TC_ST_FAILED ? -shm_error(sh) : -EINVAL;
	lock(&sh->rx_lock);
	r = rx_open_next(s, fd);
	u = SHM_READ(sh->urg);
	if (r < 0) {
		/* (the connection failed) */
	} else if (u == TC_URG_UNREAD) {
		uint8_t b = sh->urg_byte;
		struct rx_view v;

		if (len)
			iov_put(iov, iovcnt, 0, &b, 1);
		r = len ? 1 : 0;
		if (!(flags & MSG_PEEK) && len) {
			sh->urg = TC_URG_READ;
			/* Only the urgent byte left in the frame: nothing left to
			 * read in band, so the frame's last byte kept in the kernel
			 * goes, and with it the kernel's POLLPRI (as after plain
			 * TCP's MSG_OOB). The mark stays until a read passes it. */
			if (rx_view(sh, &v) == 0 && v.plen == 1 && SHM_READ(sh->urg_off) == v.off &&
			    sh->held) {
				k_recv(fd, &b, 1, MSG_DONTWAIT);
				sh->held = 0;
			}
		}
	} else if (u == TC_URG_READ) {
		r = -EINVAL;
	} else {
		r = kernel_urgent(fd) ? -EAGAIN : -EINVAL;
	}
	unlock(&sh->rx_lock);
	return r;
}

int tc_sock_atmark(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	struct rx_view v;
	int st = tc_sock_state(s), at;

	if (st == TC_ST_PLAIN)
		return TC_PASS;
	if (st != TC_ST_READY)
		return 0;
	lock(&sh->rx_lock);
	rx_open_next(s, fd);
	at = rx_view(sh, &v) == 0 && v.plen && SHM_READ(sh->urg) && SHM_READ(sh->urg_off) == v.off;
	unlock(&sh->rx_lock);
	return at;
}

ssize_t tc_sock_recv(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct tc_shm *sh = s->shm;
	size_t len = iov_total(iov, iovcnt), total = 0, direct = 0;
	int peek = flags & MSG_PEEK, waitall = (flags & MSG_WAITALL) && !peek;
	int nonblock = (flags & MSG_DONTWAIT) || nonblocking(sh, fd), whole = 0;
	ssize_t r;

	r = pre_io(s, fd, nonblock);
	if (r)
		return r;
	if (flags & MSG_OOB)
		return recv_oob(s, fd, iov, iovcnt, flags);
	lock(&sh->rx_lock);
	if (STATE(sh) == TC_ST_HANDSHAKE && (r = rx_handshake(s, fd, nonblock)) < 0)
		goto out;
	r = 0;
	while (total < len) {
		struct rx_view v;

		if (rx_view(sh, &v) < 0) {
			r = region_corrupt(sh, fd, "shared region: receive buffer");
			break;
		}
		if (v.plen) {
			size_t n = v.plen < len - total ? v.plen : len - total;

			if (SHM_READ(sh->urg) && SHM_READ(sh->urg_off) == v.off) {
				/* at the urgent mark: a read stops before it */
				if (total)
					break;
				if (!SHM_READ(sh->oobinline)) {
					/* out of band: the urgent byte is not in the stream
					 * (a peek at the mark passes it too) */
					sh->plain_off = v.off + 1;
					sh->plain_len = v.plen - 1;
					sh->urg_off = TC_URG_NOWHERE;
					if (!peek)
						urg_clear(sh);
					if (v.plen == 1)
						rx_frame_done(sh, fd);
					continue;
				}
				if (!peek)
					urg_clear(sh);   /* inline: read from the mark on */
			} else {
				n = urg_clip(sh, v.off, n);
			}
			iov_put(iov, iovcnt, total, sh->rx + v.off, n);
			total += n;
			if (peek) {
				whole = n == v.plen;   /* the open frame's plaintext, all of it */
				break;
			}
			sh->plain_off = v.off + n;
			sh->plain_len = v.plen - n;
			if (v.plen == n)
				rx_frame_done(sh, fd);
			continue;
		}
		if (sh->fin_rcvd || sh->shut_rd)
			break;
		if (STATE(sh) == TC_ST_FAILED) {
			r = -shm_error(sh);
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
	/* MSG_PEEK|MSG_WAITALL: on into the frames behind the open one; a
	 * frame there that aborts the connection fails the peek (what it
	 * had can no longer be read) */
	if (whole && r == 0 && (flags & MSG_WAITALL) &&
	    (r = rx_peek_more(s, fd, iov, iovcnt, len, &total, nonblock)) < 0)
		total = 0;
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
	struct rx_view v;
	size_t avail, have, p, base;
	ssize_t n;
	int st, held;

	st = tc_sock_state(s);
	if (st != TC_ST_READY)
		return st == TC_ST_PLAIN ? TC_PASS : 0;
	lock(&sh->rx_lock);
	if (rx_view(sh, &v) < 0) {
		unlock(&sh->rx_lock);
		return 0;
	}
	held = SHM_READ(sh->held) != 0;
	avail = v.plen;
	if (avail && SHM_READ(sh->urg) && !SHM_READ(sh->oobinline) &&
	    urg_clip(sh, v.off, v.plen) < v.plen) {
		/* as plain TCP without SO_OOBINLINE: the bytes up to the mark */
		unlock(&sh->rx_lock);
		return (int)urg_clip(sh, v.off, v.plen);
	}
	n = k_recv(fd, sh->peekbuf, sizeof(sh->peekbuf), MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) {
		int inq = 0;

		/* A peek stops at the kernel's urgent mark: then the byte after
		 * what it gave is the last one of an urgent frame (sock_urg.c). */
		if (tc_real_ioctl(fd, SIOCINQ, &inq) < 0 || inq <= n)
			inq = 0;
		/* The stream from here: the partial frame in rx (none while a frame
		 * is open), then the kernel's bytes (after the held byte, if any). */
		base = held ? 0 : v.len;
		size_t skip = held ? 1 : 0;
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
			if (flen >= TC_FRAME_OVERHEAD + 3 && inq && p + flen == have + 1) {
				/* the urgent frame (with its 2-byte urgent field):
				 * up to its mark (its last data byte), or all of it
				 * with SO_OOBINLINE */
				avail += flen - TC_FRAME_OVERHEAD - 2 - !SHM_READ(sh->oobinline);
				break;
			}
			if (flen < TC_FRAME_OVERHEAD || p + flen > have)
				break;
			avail += flen - TC_FRAME_OVERHEAD;
			p += flen;
		}
	}
	unlock(&sh->rx_lock);
	return avail > 0x7fffffff ? 0x7fffffff : (int)avail;
}
