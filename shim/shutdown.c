/*
 * shutdown.c - shutdown: SHUT_WR sends FINp (after anything still queued),
 * then the real shutdown; reading goes on.
 */
#include "config.h"

#include "fdtable.h"
#include "libc_syms.h"
#include "shim.h"
#include "sock.h"

TC_EXPORT int shutdown(int fd, int how)
{
	struct tc_sock *s = tc_conn_get(fd);
	int saved = errno;
	long r;

	if (!s)
		return tc_real_shutdown(fd, how);
	tc_in_shim++;
	r = tc_sock_shutdown(s, fd, how);
	tc_in_shim--;
	tc_fd_put(s);
	if (r == TC_PASS)
		return tc_real_shutdown(fd, how);
	return (int)tc_ret(r, saved);
}
