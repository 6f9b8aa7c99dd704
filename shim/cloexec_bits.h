/*
 * cloexec_bits.h - which fds are close-on-exec only because of the shim
 * (cloexec.h): one bit per fd, so that fcntl(F_GETFD) reports what the
 * application set. A base-layer file of its own: the fd table clears a
 * bit when an fd leaves it, and cloexec.c, above the table, sets them.
 */
#ifndef TC_CLOEXEC_BITS_H
#define TC_CLOEXEC_BITS_H

/* Sets (on) or clears fd's bit; fds beyond the table's reach are ignored. */
void tc_cloexec_bit_set(int fd, int on);
/* 1 if fd's FD_CLOEXEC was set by the shim, not by the application. */
int tc_cloexec_hidden(int fd);
/* fd left the table: forgets its bit. */
void tc_cloexec_forget(int fd);
/* The application set the flag on fds lo..hi itself (close_range). */
void tc_cloexec_app_set_range(unsigned int lo, unsigned int hi);

#endif
