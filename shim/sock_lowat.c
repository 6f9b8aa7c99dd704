/*
 * sock_lowat.c - the receive side's low-water mark (SO_RCVLOWAT), which
 * keeps the kernel's readiness truthful about whole frames.
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "libc_syms.h"
#include "sock.h"
#include "sock_int.h"

/* ---- receiving (rx_lock held) ---- */

/* Readiness: SO_RCVLOWAT makes poll/select/epoll on the real socket report
 * readable only once the bytes that complete the current frame are there
 * (or 1 while a frame's last byte is kept in the kernel). */
void set_lowat(struct tc_shm *sh, int fd, size_t v)
{
	int x = v < 1 ? 1 : v > TC_FRAME_MAX ? TC_FRAME_MAX : (int)v;

	if (sh->lowat == x || SANDBOXED())   /* (tc_sock_sandbox set it to 1) */
		return;
	sh->lowat = x;
	tc_real_setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &x, sizeof(x));
}

/* Sets the low-water mark for the next frame (none is open): its exact
 * length when its header is already there, else the smallest frame. */
void rx_arm(struct tc_shm *sh, int fd)
{
	uint8_t hdr[TC_FRAME_HDR];
	size_t have = SHM_READ(sh->rx_len);   /* (set_lowat bounds what comes of it) */

	sh->lowat_guess = 0;
	if (have >= TC_FRAME_HDR) {
		memcpy(hdr, sh->rx, sizeof(hdr));
		set_lowat(sh, fd, tc_frame_len(hdr) > have ? tc_frame_len(hdr) - have : 1);
		return;
	}
	if (have == 0 && k_recv(fd, hdr, sizeof(hdr), MSG_PEEK | MSG_DONTWAIT) == TC_FRAME_HDR) {
		set_lowat(sh, fd, tc_frame_len(hdr));
		return;
	}
	/* the smallest frame: readiness may come before the frame is whole
	 * (tc_sock_hide_pollin arms again once its header is there) */
	sh->lowat_guess = 1;
	set_lowat(sh, fd, TC_FRAME_OVERHEAD - have);
}
