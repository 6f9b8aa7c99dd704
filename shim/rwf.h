/*
 * rwf.h - the RWF_* flags of preadv2/pwritev2 on a socket, as the kernel
 * reads them (sock_read_iter/sock_write_iter, kiocb_set_rw_flags).
 */
#ifndef TC_SHIM_RWF_H
#define TC_SHIM_RWF_H

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Newer than some C library headers. */
#define TC_RWF_NOAPPEND 0x00000020
#define TC_RWF_NOSIGNAL 0x00000100   /* MSG_NOSIGNAL on a socket */

/* The MSG_* flags for RWF flags on a socket: RWF_NOWAIT is MSG_DONTWAIT,
 * RWF_NOSIGNAL is MSG_NOSIGNAL; RWF_HIPRI, RWF_DSYNC, RWF_SYNC, RWF_APPEND,
 * RWF_NOAPPEND are accepted and mean nothing there; anything else (such as
 * RWF_ATOMIC, RWF_DONTCACHE) is -EOPNOTSUPP, the kernel's answer on a
 * socket, so that no flag the shim does not know reaches the kernel with
 * a connection's bytes. */
static inline int tc_rwf_to_msg(int flags)
{
	int known = RWF_NOWAIT | RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND |
	            TC_RWF_NOAPPEND | TC_RWF_NOSIGNAL;

	if (flags & ~known)
		return -EOPNOTSUPP;
	return ((flags & RWF_NOWAIT) ? MSG_DONTWAIT : 0) | ((flags & TC_RWF_NOSIGNAL) ? MSG_NOSIGNAL : 0);
}

#endif
