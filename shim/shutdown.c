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
	struct tc_sock *s;
	int saved = errno;
	long r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!(s = tc_conn_get(fd)))
		return tc_real_shutdown(fd, how);
	tc_in_shim++;
	r = tc_sock_shutdown(s, fd, how);
	tc_in_shim--;
	tc_fd_put(s);
	if (r == TC_PASS)
		return tc_real_shutdown(fd, how);
	return (int)tc_ret(r, saved);
}
