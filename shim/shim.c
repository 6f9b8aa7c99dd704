/*
 * shim.c - start-up of libtcpcrypt-shim.so: resolve libc, read the
 * settings, prepare the session glue and the fork handlers.
 */
#include "config.h"

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
	/* sodium_init() (CPUID probes, getrandom) waits for the first TCP
	 * socket that opts in (tc_sock_opt_in): most programs run under
	 * tcpcrypt-run never open one. */
	if (!tc_cfg.disable) {
		tc_keylog_init();
		tc_fork_init();
	}
	tc_exec_adopt();              /* connections handed over across exec (exec.c) */
	tc_in_shim--;
	tc_debug("shim loaded%s", tc_cfg.disable ? " (disabled)" : "");
}
