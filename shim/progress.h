/*
 * progress.h - the per-process progress thread: it finishes work that the
 * application will not drive (a non-blocking connect that completed, Init
 * messages to answer, frame tails and plaintext queued before the keys,
 * FINp after shutdown(), rekey answers), and looks at listeners' opt-in
 * once a second (renew.c). Created lazily (first connection or listener),
 * all signals blocked.
 */
#ifndef TC_SHIM_PROGRESS_H
#define TC_SHIM_PROGRESS_H

#include <stdint.h>

/* The thread waits in epoll for the connections that have work (each
 * registered one-shot, through one of its fds, when it gains work; armed
 * again after each event while work is left; dropped when done), and for
 * an eventfd that wakes it. An fd that leaves the fd table forgets its
 * registration (tc_fd_take). Its epoll entry lives on while another fd
 * (a dup, a close_later copy) keeps the socket open, since epoll keys its
 * entries by fd number and open file: it may still report the closed, or
 * reused, fd number, so each registration carries a tag that the event
 * must match, and being one-shot such an entry fires at most once more.
 *
 * The thread's work on each round (progress_work.c), set before the first
 * kick (tc_shim_setup); all but idle run in the thread with the progress
 * lock held: */
struct tc_progress_work {
	/* brings every connection's registration up to date
	 * (tc_progress_watch); returns how many have work */
	int (*scan)(void);
	/* the same for the connection of fd (tc_progress_kick_fd); 1 if it
	 * has work */
	int (*note)(int fd);
	/* between rounds, no lock held: the longest wait in ms (-1: none) */
	int (*idle)(void);
	/* works on fd, whose registration tag reported events ev; 1 when it
	 * is still ready for what it waits for (no progress made: the thread
	 * then pauses instead of spinning) */
	int (*run)(int fd, uint32_t tag, uint32_t ev);
};
extern const struct tc_progress_work tc_progress_conn_work;
void tc_progress_set_work(const struct tc_progress_work *w);

/* For the work (the thread, the progress lock held): arms fd's one-shot
 * registration for ev (EPOLLIN, EPOLLOUT) under tag (fresh: none is
 * expected yet); 0 or -errno. */
int tc_progress_watch(int fd, uint32_t ev, uint32_t tag, int fresh);
/* Drops fd's registration (fd still open on the same socket). */
void tc_progress_unwatch(int fd);
/* The epoll instance's number: a registration made under another one
 * (before a fork, in the parent) is not in this process's set. */
unsigned tc_progress_epoch(void);

/* Starts the thread if needed and wakes it to look at every connection
 * again (a caller that cannot say which one changed). */
void tc_progress_kick(void);
/* The same for fd's connection only (it gained work): lock-free once the
 * thread runs, so it may be called with a connection's locks held. */
void tc_progress_kick_fd(int fd);
/* Wakes the thread for its work between rounds only (key pairs,
 * listeners, timers). */
void tc_progress_wake(void);
/* Starts the thread (its eventfd and epoll set) now if it is not running. */
void tc_progress_start(void);
/* The close path holds this while it takes an fd away, so the thread never
 * works on an fd number that is being closed or reused. */
void tc_progress_lock(void);
void tc_progress_unlock(void);
/* The same without waiting (a signal handler): 0 if taken, else EBUSY. */
int tc_progress_trylock(void);
/* fork(): the child has no thread; the next kick starts one, with an
 * epoll set of its own. */
void tc_progress_atfork_prepare(void);
void tc_progress_atfork_parent(void);
void tc_progress_atfork_child(void);

#endif
