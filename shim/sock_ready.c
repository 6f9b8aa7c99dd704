/*
 * sock_ready.c - progress without the application's data calls: waiting
 * for the keys, readiness as poll/epoll should report it, and the progress
 * thread's work on one connection.
 */
#include "config.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "libc_syms.h"
#include "log.h"
#include "sock.h"
#include "sock_int.h"
#include "state.h"

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

/* Is the next frame whole in the kernel? (READY, no plaintext open, rx_lock
 * held) Its header and the kernel's byte count answer; if it is not, the
 * low-water mark is armed for it (its length now known). */
static int frame_whole(struct tc_shm *sh, int fd)
{
	uint8_t hdr[TC_FRAME_HDR];
	size_t have = SHM_READ(sh->rx_len);
	int avail = 0;

	if (have == 0 && !SANDBOXED() &&
	    k_recv(fd, hdr, sizeof(hdr), MSG_PEEK | MSG_DONTWAIT) == TC_FRAME_HDR &&
	    tc_real_ioctl(fd, SIOCINQ, &avail) == 0 && avail >= 0 &&
	    (size_t)avail >= tc_frame_len(hdr))
		return 1;
	rx_arm(sh, fd);
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		return tc_real_poll(&p, 1, 0) != 0;
	}
}

/* Takes rx_lock to judge a wake-up during the key exchange; -1 when a
 * reader in the kernel holds it (then the event is left alone). The
 * progress thread holds it for non-blocking work only (taking an Init
 * message, setting the keys), however long a loaded machine keeps it off
 * the CPU: waited for, since the wake-up is most likely that very Init
 * message, and a readable socket whose read then answers EAGAIN is an
 * error to some programs (wrk counts a read error). Bounded all the same:
 * the word may name a thread of another process. */
static int lock_for_readiness(struct tc_shm *sh)
{
	long start = now_ms(), end = start + 50;

	while (lock_until(&sh->rx_lock, end) < 0) {
		uint32_t prog = __atomic_load_n(&tc_progress_tid, __ATOMIC_ACQUIRE);

		if (!prog || (__atomic_load_n(&sh->rx_lock, __ATOMIC_RELAXED) & TC_LOCK_TID) != prog ||
		    now_ms() - start >= 2000)
			return -1;
		end = now_ms() + 50;
	}
	return 0;
}

int tc_sock_hide_pollin(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	int hide = 0;

	if (sh && STATE(sh) == TC_ST_READY && !sh->fresh) {
		/* The low-water mark was set before the next frame's header
		 * arrived: part of that frame may have made the socket readable.
		 * Checked without waiting for a reader that holds the lock (its
		 * read answers EAGAIN at once if the frame is not whole). */
		if (!SHM_READ(sh->lowat_guess) || trylock(&sh->rx_lock) != 0)
			return 0;
		if (STATE(sh) == TC_ST_READY && sh->lowat_guess && !sh->plain_len && !sh->held &&
		    !sh->fin_rcvd && !sh->shut_rd)
			hide = !frame_whole(sh, fd);
		unlock(&sh->rx_lock);
		return hide;
	}
	if (!sh || (STATE(sh) != TC_ST_HANDSHAKE && !(STATE(sh) == TC_ST_READY && sh->fresh)))
		return 0;
	if (lock_for_readiness(sh) < 0) {
		tc_debug("fd %d: readiness not checked (receive side busy)", fd);
		return 0;
	}
	if (STATE(sh) == TC_ST_HANDSHAKE)
		rx_handshake(s, fd, 1);
	if (STATE(sh) == TC_ST_HANDSHAKE) {
		hide = 1;                     /* a part of an Init message, taken */
	} else if (STATE(sh) == TC_ST_READY && !sh->plain_len && !sh->held && !sh->fin_rcvd) {
		/* Keys just set (here or by the progress thread, maybe after the
		 * kernel reported the Init message): readable only if a whole
		 * frame is there now. */
		hide = !frame_whole(sh, fd);
	}
	unlock(&sh->rx_lock);
	return hide;
}

/* ---- progress thread ---- */

short tc_sock_progress_events(struct tc_sock *s)
{
	struct tc_shm *sh = __atomic_load_n(&s->shm, __ATOMIC_ACQUIRE);

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

/* (fd may be a newer socket than the one polled, its region not made yet:
 * connect() tracks the socket before tc_sock_make_conn) */
void tc_sock_progress(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = __atomic_load_n(&s->shm, __ATOMIC_ACQUIRE);

	if (!sh)
		return;
	if (STATE(sh) == TC_ST_CONNECTING)
		tc_sock_check_connect(s, fd);
	if (STATE(sh) == TC_ST_HANDSHAKE && trylock(&sh->rx_lock) == 0) {
		rx_handshake(s, fd, 1);
		unlock(&sh->rx_lock);
	}
	if ((STATE(sh) == TC_ST_READY || STATE(sh) == TC_ST_HANDSHAKE) && tx_pending(sh) &&
	    trylock(&sh->tx_lock) == 0) {
		tx_flush(s, fd, 1);
		unlock(&sh->tx_lock);
	}
}
