/* close_later.h - a connection's end (the rest of its frames, FINp) that
 * close() left to the progress thread: close() returns at once, as plain
 * TCP's does, while the shim finishes on a private copy of the socket. */
#ifndef TC_SHIM_CLOSE_LATER_H
#define TC_SHIM_CLOSE_LATER_H

#include "sock.h"

/* Hands the end of s (fd still open, out of the table, this process's
 * reference on the region already dropped) to the progress thread, to be
 * done by deadline (monotonic ms). 0, or -errno: the caller then waits. */
int tc_close_later(struct tc_sock *s, int fd, long deadline);

/* The progress thread, between rounds: closes the private copies whose
 * end is done or whose deadline passed. Returns the ms to the next
 * deadline (-1: none). */
int tc_close_later_reap(void);

/* Start-up (after tc_fork_init): in a fork() child, the copies are the
 * parent's work and are closed. */
void tc_close_later_init(void);

#endif
