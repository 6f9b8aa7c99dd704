/*
 * cloexec.h - an encrypted connection is close-on-exec in the kernel.
 *
 * Whatever starts a new program past the shim's exec wrappers (system(),
 * popen() and posix_spawn() inside glibc, vfork() or clone() children,
 * raw execve system calls) must not hand it the raw socket: a `printf
 * SECRET >&3` there would put SECRET in clear on the wire, and a read
 * would return frames as data. So every fd of a negotiated connection
 * carries FD_CLOEXEC in the kernel, from negotiation (or from its dup,
 * accept or adoption) on; such a child sees EBADF. The shim's own exec
 * path (exec.c) clears the flag just before the real execve for the
 * connections it hands over (TCPCRYPT_INHERIT), and sets it back if the
 * exec fails.
 *
 * The application keeps its own view: a bit per fd remembers that the
 * flag is set only because of us ("hidden"), and the fcntl(F_GETFD/
 * F_SETFD), ioctl(FIOCLEX/FIONCLEX), close_range(CLOSE_RANGE_CLOEXEC)
 * wrappers report and record what the application set. A bit is cleared
 * when its fd leaves the shim's table (tc_fd_take), so it never outlives
 * the connection.
 */
#ifndef TC_SHIM_CLOEXEC_H
#define TC_SHIM_CLOEXEC_H

#include "cloexec_bits.h"

struct tc_sock;

/* 1 if s is a connection that negotiated (or failed): its fds must be
 * close-on-exec. */
int tc_cloexec_needed(struct tc_sock *s);
/* fd now refers to such a connection: FD_CLOEXEC in the kernel; if the
 * application had not set it, the bit remembers that it is ours. */
void tc_cloexec_mark(int fd);
/* s has just negotiated on fd: marks fd and every other fd of s in this
 * process (no table lock: called with the connection's locks held). */
void tc_cloexec_negotiated(struct tc_sock *s, int fd);
/* Marks every fd of this process whose connection needs it and is not
 * marked yet (the other process of a fork completed the negotiation):
 * before system(), popen(), posix_spawn(). */
void tc_cloexec_sweep(void);
/* exec.c: the kernel flag of a connection handed over goes (0) or comes
 * back (1). */
void tc_cloexec_kernel(int fd, int on);
/* fcntl(F_GETFD/F_SETFD) and ioctl(FIOCLEX/FIONCLEX) as the application
 * sees them: the result, or -1 with errno. */
int tc_cloexec_getfd(int fd);
int tc_cloexec_setfd(int fd, long arg);
int tc_cloexec_ioctl(int fd, int on);

#endif
