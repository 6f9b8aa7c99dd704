/*
 * shim.c - the constructor of libtcpcrypt-shim.so: the only part of the
 * module that is not in the shim's core (libtcpcrypt-shim-core.la), so
 * that a test linked with the core starts it itself (tc_shim_setup).
 */
#include "config.h"

#include "shim.h"

__attribute__((constructor)) static void tc_shim_init(void)
{
	tc_shim_setup();
}
