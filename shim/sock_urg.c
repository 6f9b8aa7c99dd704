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

int tc_sock_oobinline(struct tc_sock *s, int set, int *val)
{
	struct tc_shm *sh = s->shm;
	int st = sh ? STATE(sh) : TC_ST_PLAIN;

	if (st != TC_ST_HANDSHAKE && st != TC_ST_READY && st != TC_ST_FAILED)
		return TC_PASS;       /* the kernel's own option is the application's */
	if (set)
		sh->oobinline = *val != 0;
	else
		*val = SHM_READ(sh->oobinline) != 0;
	return 0;
}
