/*
 * fdtable.h - which file descriptors carry a tcpcrypt socket.
 *
 * A two-level array indexed by fd number points at the socket's object
 * (struct tc_sock, one per open file description in this process: dup'd
 * fds share it). Looking up an fd the shim does not know costs two loads
 * and takes no lock; a hit takes the table lock just long enough to add a
 * reference.
 */
#ifndef TC_SHIM_FDTABLE_H
#define TC_SHIM_FDTABLE_H

#include <errno.h>
#include <pthread.h>

struct tc_sock;

extern int tc_fd_count;          /* fds in the table (0: nothing to look at) */
extern pthread_mutex_t tc_fd_lock;

/* The socket object of fd with a reference taken, or NULL. */
struct tc_sock *tc_fd_get(int fd);
/* Drops a reference taken by tc_fd_get()/tc_fd_set(). */
void tc_fd_put(struct tc_sock *s);
/* Makes fd refer to s (replacing nothing: fd must be free in the table);
 * returns 0 or -ENOMEM / -EBADF. */
int tc_fd_set(int fd, struct tc_sock *s);
/* Removes fd from the table; returns its object (the table's reference is
 * handed to the caller), or NULL. *last is set to 1 when no other fd of
 * this process refers to the object any more. The caller holds the
 * progress lock (tc_progress_lock), as for tc_fd_take_nowait. */
struct tc_sock *tc_fd_take(int fd, int *last);
/* Calls fn(fd, s, arg) for every fd in the table, the table lock held. */
void tc_fd_foreach(void (*fn)(int fd, struct tc_sock *s, void *arg), void *arg);
/* Up to cap fds that refer to s, without the table lock (pointers are
 * compared, never followed): for callers that hold a connection's locks. */
int tc_fd_find(const struct tc_sock *s, int *out, int cap);
/* The lowest fd >= from in the table now (a lock-free look that skips
 * absent chunks), or -1. */
int tc_fd_next_present(int from);
/* Highest fd that may be in the table, plus one. */
int tc_fd_limit(void);

/* The connection object of fd (a reference taken), or NULL for anything
 * else: the wrappers' fast path. */
struct tc_sock *tc_conn_get(int fd);

extern __thread int tc_in_shim __attribute__((tls_model("initial-exec")));

/* Fast path for the wrappers: 0 when fd surely is not ours. */
static inline int tc_fd_maybe(int fd)
{
	return __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) != 0 && fd >= 0 && !tc_in_shim;
}

/* The fd tc_close_fd() is closing on this thread (-1: none): out of the
 * table already, still open in the kernel. */
extern __thread int tc_fd_closing __attribute__((tls_model("initial-exec")));

/* Without ever blocking (for a wrapper entered while its thread is inside
 * the shim, e.g. from a signal handler): 1 if fd is a connection that is
 * not plain TCP, or may be one (the table is busy), or is being closed by
 * this thread; 0 if it is none of the shim's business. */
int tc_fd_conn_nowait(int fd);

/* First thing in every wrapper that moves a connection's bytes: 1 (errno
 * EAGAIN) when the thread is already inside the shim (a signal handler
 * interrupted it, or a library it called calls back) and fd is a
 * connection the shim encrypts: the shim cannot serve it there without
 * risking a deadlock on the locks the interrupted frame holds, and the
 * real function would put clear text on the wire. 0: go on. */
static inline int tc_reentered_on_conn(int fd)
{
	if (__builtin_expect(!tc_in_shim, 1) || !tc_fd_conn_nowait(fd))
		return 0;
	errno = EAGAIN;
	return 1;
}

/* close() entered inside the shim (a signal handler): without blocking,
 * takes fd out of the table (its object's release is left to the next
 * tc_fd_put() outside the shim when no one else holds it). Returns 1 if
 * it did, 0 if fd was not in the table, -EAGAIN if the table was busy. */
int tc_fd_take_nowait(int fd);
/* 1 if fd is in the table now (a lock-free look). */
int tc_fd_present(int fd);

#endif
