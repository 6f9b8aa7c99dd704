/*
 * close.h - the end of an fd that the shim tracks.
 */
#ifndef TC_SHIM_CLOSE_H
#define TC_SHIM_CLOSE_H

/* Forgets fd (before the real close); when it was the socket's last fd in
 * the last process, flushes pending frames and sends FINp first. */
void tc_close_fd(int fd);
/* Forgets a stale entry for an fd number the kernel just handed out
 * (its earlier socket was closed behind the shim's back). */
void tc_fd_forget_stale(int fd);

#endif
