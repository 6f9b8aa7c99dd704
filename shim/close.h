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

/* Inside the shim (a signal handler that interrupted it): takes fd's
 * table entry without waiting for a lock the interrupted frame may hold,
 * before the caller closes fd (the object's free is deferred). 0: done, or
 * fd was not in the table; -EAGAIN: the table stayed busy (~10 ms), fd
 * must stay open; -EBUSY: fd is the one this thread's interrupted close()
 * is closing, which must be left to it. */
int tc_close_forget_inside(int fd);

#endif
