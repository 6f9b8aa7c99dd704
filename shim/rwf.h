/*
 * rwf.h - the RWF_* flags of preadv2/pwritev2 on a socket, as the kernel
 * reads them (sock_read_iter/sock_write_iter, kiocb_set_rw_flags).
 */
#ifndef TC_SHIM_RWF_H
#define TC_SHIM_RWF_H

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* The MSG_* flags for RWF flags on a socket: RWF_NOWAIT is MSG_DONTWAIT;
 * RWF_HIPRI, RWF_DSYNC, RWF_SYNC, RWF_APPEND are accepted and mean nothing
 * there; anything else is -EOPNOTSUPP (the kernel's answer to an unknown
 * or unsupported flag), so that no unknown flag reaches the kernel with a
 * connection's bytes. */
static inline int tc_rwf_to_msg(int flags)
{
	int known = RWF_NOWAIT | RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND;

	if (flags & ~known)
		return -EOPNOTSUPP;
	return (flags & RWF_NOWAIT) ? MSG_DONTWAIT : 0;
}

#endif
