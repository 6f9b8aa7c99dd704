/*
 * ownfd.c - the shim's own file descriptors (see shim.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "libc_syms.h"

#include "shim.h"
#include "state.h"

static int own_get(int i)
{
	int *p = __atomic_load_n(&tc_own[i], __ATOMIC_ACQUIRE);

	return p ? __atomic_load_n(p, __ATOMIC_ACQUIRE) : -1;
}

void tc_own_fd_add(int *fdp)
{
	for (int i = 0; i < TC_OWN_MAX && *fdp > STDERR_FILENO; i++) {
		int *none = NULL;

		if (__atomic_compare_exchange_n(&tc_own[i], &none, fdp, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return;
	}
}

void tc_own_fd_del(int *fdp)
{
	for (int i = 0; i < TC_OWN_MAX; i++)
		if (__atomic_load_n(&tc_own[i], __ATOMIC_RELAXED) == fdp)
			__atomic_store_n(&tc_own[i], NULL, __ATOMIC_RELEASE);
}

int tc_own_fd(int fd)
{
	for (int i = 0; i < TC_OWN_MAX; i++)
		if (fd >= 0 && own_get(i) == fd)
			return 1;
	return 0;
}

int tc_own_fd_move(int fd)
{
	for (int i = 0; i < TC_OWN_MAX; i++) {
		int *p = __atomic_load_n(&tc_own[i], __ATOMIC_ACQUIRE), n;

		if (!p || fd < 0 || __atomic_load_n(p, __ATOMIC_ACQUIRE) != fd)
			continue;
		n = tc_real_fcntl(fd, F_DUPFD_CLOEXEC, 256);
		if (n < 0)
			n = tc_real_fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		if (n < 0)
			return -errno;
		__atomic_store_n(p, n, __ATOMIC_RELEASE);
		return n;
	}
	return -ENOENT;
}

int tc_own_fds(int *out, int cap)
{
	int n = 0;

	for (int i = 0; i < TC_OWN_MAX && n < cap; i++) {
		int fd = own_get(i);

		if (fd >= 0)
			out[n++] = fd;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			int t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}
