/*
 * ownfd.c - the shim's own file descriptors (see shim.h).
 */
#include "config.h"

#include <unistd.h>

#include "shim.h"

#define TC_OWN_MAX 4
static int own[TC_OWN_MAX] = { -1, -1, -1, -1 };

void tc_own_fd_add(int fd)
{
	for (int i = 0; i < TC_OWN_MAX && fd > STDERR_FILENO; i++)
		if (__atomic_load_n(&own[i], __ATOMIC_RELAXED) < 0) {
			__atomic_store_n(&own[i], fd, __ATOMIC_RELEASE);
			return;
		}
}

void tc_own_fd_del(int fd)
{
	for (int i = 0; i < TC_OWN_MAX; i++)
		if (__atomic_load_n(&own[i], __ATOMIC_RELAXED) == fd)
			__atomic_store_n(&own[i], -1, __ATOMIC_RELEASE);
}

int tc_own_fd(int fd)
{
	for (int i = 0; i < TC_OWN_MAX; i++)
		if (fd >= 0 && __atomic_load_n(&own[i], __ATOMIC_ACQUIRE) == fd)
			return 1;
	return 0;
}

int tc_own_fds(int *out, int cap)
{
	int n = 0;

	for (int i = 0; i < TC_OWN_MAX && n < cap; i++) {
		int fd = __atomic_load_n(&own[i], __ATOMIC_ACQUIRE);

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
