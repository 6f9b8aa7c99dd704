/*
 * shim.c - start-up of libtcpcrypt-shim.so: resolve libc, read the
 * settings, prepare the session glue and the fork handlers.
 */
#include "config.h"

#include <sodium.h>

#include "fork.h"
#include "keylog.h"
#include "libc_syms.h"
#include "log.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"

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
