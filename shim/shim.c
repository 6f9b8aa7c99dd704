/*
 * shim.c - start-up of libtcpcrypt-shim.so: resolve libc, read the
 * settings, prepare the session glue and the fork handlers.
 */
#include "config.h"

#include <unistd.h>

#include <sodium.h>

#include "fork.h"
#include "keylog.h"
#include "libc_syms.h"
#include "log.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"

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

__attribute__((constructor)) static void tc_shim_init(void)
{
	tc_libc_init();
	tc_in_shim++;
	tc_config_init();
	tc_sock_global_init();
	if (!tc_cfg.disable) {
		if (sodium_init() < 0) {
			tc_err("libsodium failed to start; tcpcrypt disabled");
			tc_cfg.disable = 1;
		}
		tc_keylog_init();
		tc_fork_init();
	}
	tc_in_shim--;
	tc_debug("shim loaded%s", tc_cfg.disable ? " (disabled)" : "");
}
