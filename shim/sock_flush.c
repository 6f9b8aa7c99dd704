/*
 * sock_flush.c - the send side's queue (tx_lock held): sealing into tx and
 * flushing it: the tail of a frame, plaintext queued before the keys, a
 * rekey answer, FINp.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "libc_syms.h"
#include "sock.h"
#include "sock_int.h"

/* ---- sending (tx_lock held) ---- */

int seal_into_tx(struct tc_shm *sh, tc_aead_ctx *x, const struct iovec *iov, int iovcnt,
                        size_t skip, size_t len, unsigned flags)
{
	size_t out = 0, off, have;
	int r;

	if (tx_view(sh, &off, &have) < 0)
		return -EPROTO;
	lock(&sh->sess_lock);
	r = tc_session_sealv(SESS(sh), x, iov, iovcnt, skip, len, flags, sh->tx + have,
	                     sizeof(sh->tx) - have, &out);
	unlock(&sh->sess_lock);
	if (r < 0)
		return r;
	if (out > sizeof(sh->tx) - have)
		return -EPROTO;
	sh->tx_len = have + out;
	sh->rekey_due = 0;
	return 0;
}

/* Sends what is queued: the tail of the last frame first, then the
 * plaintext queued before the keys, a rekey answer, FINp. Returns 0 when
 * everything went out, or -errno (-EAGAIN: try again later). */
int tx_flush(struct tc_sock *s, int fd, int nonblock)
{
	struct tc_shm *sh = s->shm;
	int r;

	for (;;) {
		size_t off, len, pre;

		for (;;) {
			size_t end, urg = SHM_READ(sh->tx_urg);
			int fl = nonblock ? MSG_DONTWAIT : 0;
			ssize_t n;

			if (tx_view(sh, &off, &len) < 0)
				return region_corrupt(sh, fd, "shared region: send queue");
			if (off == len)
				break;
			end = len;
			if (urg > off && urg <= len) {
				/* the frame's last byte is TCP-urgent: sent alone */
				if (urg - 1 > off)
					end = urg - 1;
				else
					fl |= MSG_OOB;
			}
			/* FINp's last bytes wait for the FIN that follows at once
			 * (shutdown below): one segment carries both */
			if (!(fl & MSG_OOB) && end == len && sh->fin_sent && !sh->wr_shut)
				fl |= MSG_MORE;
			n = k_send(s, fd, sh->tx + off, (fl & MSG_OOB) ? 1 : end - off, fl);
			if (n < 0)
				return (int)n;
			if (fl & MSG_OOB)
				sh->tx_urg = 0;
			sh->tx_off = off + (size_t)n;
		}
		sh->tx_off = sh->tx_len = sh->tx_urg = 0;
		if (STATE(sh) != TC_ST_READY)
			return 0;
		if (pre_view(sh, &pre) < 0)
			return region_corrupt(sh, fd, "shared region: pre_len");
		if (pre) {
			size_t n = pre < TC_FRAME_MAX_DATA ? pre : TC_FRAME_MAX_DATA;
			size_t purg = SHM_READ(sh->pre_urg);
			unsigned fl = 0;

			if (purg > pre)
				purg = 0;
			if (purg && purg <= n) {
				/* the urgent byte ends a frame of its own with URGp */
				if (purg <= TC_FRAME_MAX_DATA - 2)
					fl = TC_SEAL_URG;
				n = fl ? purg : purg - 1;
			}
			struct iovec v = { sh->pre, n };

			if ((r = seal_into_tx(sh, NULL, &v, 1, 0, n, fl)) < 0)
				return r == -EPROTO ? region_corrupt(sh, fd, "shared region: send queue") : r;
			memmove(sh->pre, sh->pre + n, pre - n);
			sh->pre_len = pre - n;
			sh->pre_urg = purg ? purg - n : 0;
			if (fl)
				sh->tx_urg = sh->tx_len;
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

int tx_pending(const struct tc_shm *sh)
{
	return sh->tx_off < sh->tx_len ||
	       (STATE(sh) == TC_ST_READY &&
	        (sh->pre_len || sh->rekey_due || (sh->fin_pending && !sh->wr_shut)));
}
