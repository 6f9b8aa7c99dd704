/*
 * close.c - close, close_range.
 */
#include "config.h"

#include <linux/close_range.h>

#include "close.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "progress.h"
#include "shim.h"
#include "sock.h"

void tc_close_fd(int fd)
{
	struct tc_sock *s;
	int last, saved = errno;

	tc_progress_lock();
	s = tc_fd_take(fd, &last);
	tc_progress_unlock();
	if (!s)
		return;
	tc_in_shim++;
	if (last && s->shm && tc_sock_proc_unref(s) == 0)
		tc_sock_final_close(s, fd);
	tc_in_shim--;
	tc_fd_put(s);
	errno = saved;
}

TC_EXPORT int close(int fd)
{
	if (tc_fd_maybe(fd))
		tc_close_fd(fd);
	return tc_real_close(fd);
}

TC_EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC) && __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) &&
	    !tc_in_shim && lo <= hi) {
		unsigned int top = (unsigned int)tc_fd_limit() - 1;

		for (unsigned int fd = lo; fd <= hi && fd <= top; fd++) {
			struct tc_sock *s = tc_fd_get((int)fd);

			if (s) {
				tc_fd_put(s);
				tc_close_fd((int)fd);
			}
		}
	}
	return tc_real_close_range(lo, hi, flags);
}
