/*
 * recv_trunc.h - MSG_TRUNC (discard) on an encrypted connection.
 */
#ifndef TC_SHIM_RECV_TRUNC_H
#define TC_SHIM_RECV_TRUNC_H

#include <stddef.h>
#include <sys/types.h>

struct tc_sock;

/* recv(fd, ignored, n, flags) with MSG_TRUNC in flags on connection s:
 * discards up to n bytes of plaintext (with MSG_PEEK: counts them) and
 * returns how many, or -errno, or TC_PASS for plain TCP. */
ssize_t tc_recv_trunc(struct tc_sock *s, int fd, size_t n, int flags);

#endif
