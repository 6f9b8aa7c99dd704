/* guard.h - grants to the eBPF guard (tcpcryptd's optional sk_msg program,
 * which refuses on a negotiated socket every byte not granted). */
#ifndef TC_SHIM_GUARD_H
#define TC_SHIM_GUARD_H

#include <stddef.h>

/* The next write of n sealed bytes on fd may pass the guard. */
void tc_guard_grant(int fd, size_t n);

/* Everything may pass on fd from now on: for a process about to enter a
 * seccomp sandbox, where setsockopt is forbidden (and so is io_uring). */
void tc_guard_open(int fd);

#endif
