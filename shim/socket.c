/*
 * socket.c - socket: a new socket never inherits the state of an earlier
 * one that was closed behind the shim's back (fclose, raw syscalls) under
 * the same fd number.
 */
#include "config.h"

#include "close.h"
#include "libc_syms.h"
#include "shim.h"

TC_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = tc_real_socket(domain, type, protocol);

	if (fd >= 0) {
		int saved = errno;

		tc_fd_forget_stale(fd);
		errno = saved;
	}
	return fd;
}
