/* tcnetstat_diag.h - live byte counts of sockets from the kernel's socket
 * diagnostics (NETLINK_SOCK_DIAG), matched by socket cookie. */
#ifndef TCNETSTAT_DIAG_H
#define TCNETSTAT_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include "tcpcrypt_maps.h"	/* tools/tcpcryptd/bpf/progs/ */

/* For each of the n sessions without byte counts (has_bytes == 0) whose
 * socket lives in the caller's network namespace, fills bytes_acked and
 * bytes_received from tcp_info. cookies[i] is sessions[i]'s socket cookie.
 * Returns the number filled or a negative errno. */
int tcd_fill_bytes(const uint64_t *cookies, struct tc_session **sessions, size_t n);

#endif
