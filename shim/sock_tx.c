/*
 * sock_tx.c - the send side seen by the application: send(), shutdown()
 * and the last close (the queue itself is sock_flush.c).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "settings.h"
#include "sock.h"
#include "sock_int.h"

#define TC_CLOSE_WAIT_MS  2000    /* how long close() may wait to flush and send FINp */

/* ---- sending ---- */

/* When a blocking send on fd gives up (SO_SNDTIMEO), in now_ms() time;
 * -1 when it never does. */
static long sndtimeo_deadline(int fd)
{
	struct timeval tv = { 0, 0 };
	socklen_t l = sizeof(tv);

	if (SANDBOXED() || tc_real_getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) < 0 ||
	    (tv.tv_sec <= 0 && tv.tv_usec <= 0))
		return -1;
	return now_ms() + (long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

ssize_t tc_sock_send(struct tc_sock *s, int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct tc_shm *sh = s->shm;
	size_t len = iov_total(iov, iovcnt), done = 0;
	int nonblock = (flags & MSG_DONTWAIT) || nonblocking(sh, fd);
	long until = 0;               /* SO_SNDTIMEO's end, once waiting */
	int r;

	r = pre_io(s, fd, nonblock);
	if (r == -EPIPE || (r == 0 && (sh->fin_sent || sh->fin_pending)))
		goto epipe;
	if (r)
		return r;
	if (len == 0)
		return 0;
	lock(&sh->tx_lock);
	while (STATE(sh) == TC_ST_HANDSHAKE) {
		size_t n, pre;

		if (pre_view(sh, &pre) < 0) {
			r = region_corrupt(sh, fd, "shared region: pre_len");
			unlock(&sh->tx_lock);
			return r;
		}
		if (pre == TC_PRE_MAX) {
			/* The queue waits for the keys: a full one blocks the caller
			 * as a full send buffer does, SO_SNDTIMEO included. */
			unlock(&sh->tx_lock);
			tc_progress_kick_fd(fd);
			if (nonblock)
				return -EAGAIN;
			if (!until)
				until = sndtimeo_deadline(fd);
			if (until > 0 && now_ms() >= until)
				return -EAGAIN;
			tc_real_poll(NULL, 0, 10);
			lock(&sh->tx_lock);
			continue;
		}
		n = TC_PRE_MAX - pre < len ? TC_PRE_MAX - pre : len;
		iov_get(iov, iovcnt, 0, sh->pre + pre, n);
		sh->pre_len = pre + n;
		if ((flags & MSG_OOB) && n == len)
			sh->pre_urg = pre + n;    /* sealed with URGp with the keys */
		unlock(&sh->tx_lock);
		tc_progress_kick_fd(fd);
		return (ssize_t)n;
	}
	if (STATE(sh) != TC_ST_READY) {
		unlock(&sh->tx_lock);
		return STATE(sh) == TC_ST_FAILED ? -shm_error(sh) : -EPIPE;
	}
	r = tx_flush(s, fd, nonblock);
	while (r == 0 && done < len) {
		size_t chunk = len - done < TC_FRAME_MAX_DATA ? len - done : TC_FRAME_MAX_DATA;
		unsigned sf = 0;

		if ((flags & MSG_OOB) && done + chunk == len) {
			/* the last byte is urgent: it ends a frame with URGp (RFC 8548
			 * 3.7), whose last ciphertext byte goes TCP-urgent */
			if (chunk > TC_FRAME_MAX_DATA - 2)
				chunk = TC_FRAME_MAX_DATA - 2;
			else
				sf = TC_SEAL_URG;
		}

		if (tc_cfg.rekey_bytes && sh->since_rekey >= tc_cfg.rekey_bytes) {
			lock(&sh->sess_lock);
			tc_session_rekey(SESS(sh));
			unlock(&sh->sess_lock);
			sh->since_rekey = 0;
			tc_debug("fd %d: rekey", fd);
		}
		sh->since_rekey += chunk;
		/* the application's bytes are encrypted straight into tx */
		r = seal_into_tx(sh, &s->tx_cx, iov, iovcnt, done, chunk, sf);
		if (r < 0) {
			r = -EPIPE;
			break;
		}
		if (sf)
			sh->tx_urg = sh->tx_len;
		done += chunk;
		r = tx_flush(s, fd, nonblock);
	}
	unlock(&sh->tx_lock);
	if (tx_pending(sh))
		tc_progress_kick_fd(fd);
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
		/* never waits for the peer (plain TCP's shutdown does not): what
		 * does not go now, the progress thread sends */
		if (STATE(sh) == TC_ST_READY)
			r = tx_flush(s, fd, 1);
		unlock(&sh->tx_lock);
		if (tx_pending(sh) || STATE(sh) == TC_ST_HANDSHAKE)
			tc_progress_kick_fd(fd);
		if (r == -EAGAIN || r == -EINTR)
			r = 0;
	}
	return r;
}

long tc_sock_close_deadline(void)
{
	return now_ms() + TC_CLOSE_WAIT_MS;
}

int tc_sock_abort_later(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	int st = STATE(sh), one = 1;

	if ((st != TC_ST_CONNECTING && st != TC_ST_HANDSHAKE) || !SHM_READ(sh->pre_len))
		return 0;
	tc_real_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 1;
}

/* One turn of a connection's end, without waiting (fin_pending set):
 * 1 while work is left, 0 once done or nothing can be done. */
static int end_step(struct tc_sock *s, int fd, long deadline)
{
	struct tc_shm *sh = s->shm;
	int r = 0, st = STATE(sh);

	if (st == TC_ST_HANDSHAKE && trylock(&sh->rx_lock) == 0) {
		r = rx_handshake(s, fd, 1);
		unlock(&sh->rx_lock);
	}
	st = STATE(sh);
	if (st == TC_ST_FAILED)
		return 0;
	if (st == TC_ST_READY) {
		if (lock_until(&sh->tx_lock, deadline) < 0)
			return 0;
		r = tx_flush(s, fd, 1);
		unlock(&sh->tx_lock);
		if (r == 0 && !tx_pending(sh))
			return 0;
		if (r < 0 && r != -EAGAIN && r != -EINTR)
			return 0;
	}
	return 1;
}

/* Marks the end (FINp after what is queued): 1 if there is an end to make. */
static int end_begin(struct tc_sock *s, int fd, long deadline)
{
	struct tc_shm *sh = s->shm;

	if (STATE(sh) == TC_ST_CONNECTING)
		tc_sock_check_connect(s, fd);
	if (STATE(sh) != TC_ST_HANDSHAKE && STATE(sh) != TC_ST_READY)
		return 0;
	if (lock_until(&sh->tx_lock, deadline) < 0)
		return 0;
	sh->fin_pending = 1;
	unlock(&sh->tx_lock);
	return 1;
}

int tc_sock_end_try(struct tc_sock *s, int fd, long deadline)
{
	return end_begin(s, fd, deadline) && end_step(s, fd, deadline);
}

void tc_sock_final_close_by(struct tc_sock *s, int fd, long deadline)
{
	struct tc_shm *sh = s->shm;

	if (!s->closing && !end_begin(s, fd, deadline))
		return;
	while (end_step(s, fd, deadline)) {
		int st = STATE(sh);
		long left = deadline - now_ms();

		if (left <= 0) {
			tc_info("fd %d: closed before its last frames could be sent", fd);
			return;
		}
		k_wait(fd, st == TC_ST_READY ? POLLOUT : POLLIN, left < 50 ? (int)left : 50);
	}
}
