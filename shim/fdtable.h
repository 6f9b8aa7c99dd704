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
 * this process refers to the object any more. */
struct tc_sock *tc_fd_take(int fd, int *last);
/* Calls fn(fd, s, arg) for every fd in the table, the table lock held. */
void tc_fd_foreach(void (*fn)(int fd, struct tc_sock *s, void *arg), void *arg);
/* Up to cap fds that refer to s, without the table lock (pointers are
 * compared, never followed): for callers that hold a connection's locks. */
int tc_fd_find(const struct tc_sock *s, int *out, int cap);
/* Highest fd that may be in the table, plus one. */
int tc_fd_limit(void);

/* The connection object of fd (a reference taken), or NULL for anything
 * else: the wrappers' fast path. */
struct tc_sock *tc_conn_get(int fd);

/* Fast path for the wrappers: 0 when fd surely is not ours. */
static inline int tc_fd_maybe(int fd)
{
	extern __thread int tc_in_shim __attribute__((tls_model("initial-exec")));

	return __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) != 0 && fd >= 0 && !tc_in_shim;
}

#endif
