/*
 * shim.h - what every file of the shim shares: the export attribute of the
 * interposed symbols, the re-entrancy guard and errno helpers.
 */
#ifndef TC_SHIM_H
#define TC_SHIM_H

#include <errno.h>

/* Interposed libc symbols are the only ones the module exports. */
#define TC_EXPORT __attribute__((visibility("default")))

/* Non-zero while the shim itself is running on this thread (holding or
 * waiting for its locks, or inside a connection's data path). The shim's
 * own I/O on connections uses libc's functions directly (tc_real_*); what
 * still enters a wrapper then is a library the shim called (libcrypto
 * reading its configuration: passed straight through) or a signal handler
 * that interrupted the shim: on a connection that is not plain TCP, the
 * data wrappers refuse it with EAGAIN (tc_reentered_on_conn, fdtable.h)
 * and close() takes the table entry without waiting (close.c); every other
 * fd passes straight through. Never a bypass of encryption. */
extern __thread int tc_in_shim __attribute__((tls_model("initial-exec")));

/* The shim's own file descriptors (log file, key log, progress thread's
 * eventfd): the application's close/close_range/closefrom leave them open,
 * so the shim never writes into an fd the application reused. */
void tc_own_fd_add(int *fdp);   /* the owner's variable: see tc_own_fd_move */
void tc_own_fd_del(int *fdp);
int tc_own_fd(int fd);
/* The application is about to dup2/dup3 onto fd, one of ours: moves it to
 * another number (the owner's variable follows). Returns it, or -errno. */
int tc_own_fd_move(int fd);
/* Fills out (sorted) with the own fds; returns how many. */
int tc_own_fds(int *out, int cap);

/* sandbox.c: seccomp(2) made through syscall() with operation op is about
 * to install a filter: prepares the data path as prctl(PR_SET_SECCOMP). */
void tc_sandbox_seccomp(unsigned int op);

/* Start-up of the shim's core (setup.c): libc, settings, session glue,
 * progress thread's work, fork handlers, adopted connections. Once. */
void tc_shim_setup(void);

/* Turns an internal result (>= 0 or -errno) into the libc convention,
 * restoring the caller's errno on success. */
static inline long tc_ret(long r, int saved_errno)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	errno = saved_errno;
	return r;
}

#endif
