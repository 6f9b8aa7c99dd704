/*
 * sock_urg.c - urgent data (MSG_OOB) on an encrypted connection: the
 * mark's bookkeeping, below the receive and send paths.
 *
 * RFC 8548 3.7 carries urgent data inside the frames: URGp and an urgent
 * field naming the last urgent byte (here: its position in that frame's
 * data). The sender also makes the frame's last ciphertext byte TCP-urgent,
 * so that the receiving kernel raises SIGURG, POLLPRI and its own mark as
 * it does for plain TCP; that indication is only a hint (TCP's urgent
 * pointer is not authenticated): what the application reads as urgent
 * comes from an authenticated URGp alone. The kernel keeps urgent bytes
 * in the stream (SO_OOBINLINE on the real socket from the negotiation on),
 * so a forged urgent pointer can neither take a ciphertext byte out of the
 * stream nor deliver anything; the application's own SO_OOBINLINE is kept
 * in the region and applied to the plaintext.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "libc_syms.h"
#include "sock.h"
#include "sock_int.h"

void urg_start(struct tc_shm *sh, int fd)
{
	int v = 0, one = 1;
	socklen_t l = sizeof(v);

	if (SANDBOXED())
		return;
	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &v, &l) == 0)
		sh->oobinline = v != 0;
	tc_real_setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
}

void urg_clear(struct tc_shm *sh)
{
	sh->urg = 0;
	sh->urg_off = 0;
}

int urg_frame(struct tc_shm *sh, size_t u, size_t dlen, const struct iovec *iov, int iovcnt,
              size_t skip, size_t *direct)
{
	size_t at;

	if (u >= dlen)
		return -EPROTO;
	if (*direct) {
		/* The data went straight to the application: what starts at the
		 * mark comes back to rx, where the frame's plaintext would have
		 * been opened (it ends where the tag starts), and the caller
		 * delivers only what precedes the mark. */
		size_t len = SHM_READ(sh->rx_len), tail = dlen - u;

		if (len > sizeof(sh->rx) || len < TC_FRAME_OVERHEAD + tail)
			return -EPROTO;
		at = len - TC_TAG_LEN - tail;
		iov_get(iov, iovcnt, skip + u, sh->rx + at, tail);
		sh->plain_off = at;
		sh->plain_len = tail;
		*direct = u;
	} else {
		at = SHM_READ(sh->plain_off) + u;
		if (at >= sizeof(sh->rx))
			return -EPROTO;
	}
	sh->urg_byte = sh->rx[at];
	sh->urg_off = at;
	sh->urg = TC_URG_UNREAD;
	return 0;
}

size_t urg_clip(const struct tc_shm *sh, size_t off, size_t n)
{
	size_t m = SHM_READ(sh->urg_off);

	if (!SHM_READ(sh->urg) || m < off || m >= off + n)
		return n;
	return m - off;
}

/* 1 once the connection negotiated: the option is the shim's to keep. */
static int negotiated(int st)
{
	return st == TC_ST_HANDSHAKE || st == TC_ST_READY || st == TC_ST_FAILED;
}

int tc_sock_oobinline(struct tc_sock *s, int fd, int set, int *val)
{
	struct tc_shm *sh = __atomic_load_n(&s->shm, __ATOMIC_ACQUIRE);
	int r = 0, locked = 0;

	if (!sh)
		return TC_PASS;
	if (!negotiated(STATE(sh))) {
		/* not negotiated (yet): the kernel's own option is the
		 * application's, read or set under tx_lock, as the negotiation's
		 * urg_start, so that nothing is lost or misread between */
		lock(&sh->tx_lock);
		locked = 1;
	}
	if (negotiated(STATE(sh))) {
		if (set)
			sh->oobinline = *val != 0;
		else
			*val = SHM_READ(sh->oobinline) != 0;
	} else {
		socklen_t l = sizeof(*val);

		if ((set ? tc_real_setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, val, sizeof(*val))
		         : tc_real_getsockopt(fd, SOL_SOCKET, SO_OOBINLINE, val, &l)) < 0)
			r = -errno;
		else if (!set)
			*val = *val != 0;
	}
	if (locked)
		unlock(&sh->tx_lock);
	return r;
}
