/*
 * setup.c - start-up of the shim's core: resolve libc, read the settings,
 * prepare the session glue, the progress thread's work and the fork
 * handlers. Called once, by the constructor of libtcpcrypt-shim.so
 * (shim.c), or by a test linked with the core (tests/shim-unit).
 */
#include "config.h"

#include "close_later.h"
#include "fork.h"
#include "keylog.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"

void tc_shim_setup(void)
{
	tc_libc_init();
	tc_in_shim++;
	tc_config_init();
	tc_sock_global_init();
	tc_progress_set_work(&tc_progress_conn_work);
	/* sodium_init() (CPUID probes, getrandom) waits for the first TCP
	 * socket that opts in (tc_sock_opt_in): most programs run under
	 * tcpcrypt-run never open one. */
	if (!tc_cfg.disable) {
		tc_keylog_init();
		tc_fork_init();
		tc_close_later_init();   /* its fork handler after fork.c's */
	}
	tc_exec_adopt();              /* connections handed over across exec (exec.c) */
	tc_in_shim--;
	tc_debug("shim loaded%s", tc_cfg.disable ? " (disabled)" : "");
}
