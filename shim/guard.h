/* guard.h - the shim's side of the eBPF guard (tcpcryptd's optional
 * programs that keep on the host every byte of a negotiated connection
 * the shim did not write). */
#ifndef TC_SHIM_GUARD_H
#define TC_SHIM_GUARD_H

#include <stddef.h>
#include <sys/types.h>

/* What this process learnt of a connection's guard (tc_sock.guard). */
enum { TC_GUARD_UNKNOWN = 0, TC_GUARD_ON, TC_GUARD_OFF };

/* sendto(fd, b, n, flags) of sealed bytes, declared to the guard around
 * it (call with the connection's tx lock held). *known is what this
 * process learnt of fd's guard: once a declaration was refused as
 * "no guard here", none is made again (no failing setsockopt per write).
 * Returns what sendto returns, with errno; ECONNRESET, having aborted the
 * connection, when the guard saw bytes written on fd that the shim did
 * not write. */
ssize_t tc_guard_sendto(int fd, const void *b, size_t n, int flags, int *known);

/* Asks for fd (just opted in to ENO) to be guarded once ENO succeeds. */
void tc_guard_enrol(int fd);

/* Everything may leave on fd from now on: for a process about to enter a
 * seccomp sandbox, where setsockopt is forbidden (and so is io_uring). */
void tc_guard_open(int fd);

#endif
