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

struct pollfd;

/* The thread's work on each round (progress_work.c), set before the first
 * kick (tc_shim_setup): */
struct tc_progress_work {
	/* fills pfd (at most cap) with the fds to wait for, the first from
	 * the skip-th on (so that every one gets its turn when they do not
	 * all fit); returns how many want waiting for, which may be more than
	 * cap: the thread then grows its set (the progress lock held) */
	int (*collect)(struct pollfd *pfd, int cap, int skip);
	/* between rounds, no lock held: the longest wait in ms (-1: none) */
	int (*idle)(void);
	/* works on the ready ones (the progress lock held); 1 when a ready one
	 * made no progress (the thread then pauses instead of spinning) */
	int (*run)(struct pollfd *pfd, int n);
};
extern const struct tc_progress_work tc_progress_conn_work;
void tc_progress_set_work(const struct tc_progress_work *w);

/* Starts the thread if needed and wakes it to look at the sockets again. */
void tc_progress_kick(void);
/* Starts the thread (and its eventfd) now if it is not running. */
void tc_progress_start(void);
/* The close path holds this while it takes an fd away, so the thread never
 * works on an fd number that is being closed or reused. */
void tc_progress_lock(void);
void tc_progress_unlock(void);
/* The same without waiting (a signal handler): 0 if taken, else EBUSY. */
int tc_progress_trylock(void);
/* fork(): the child has no thread; the next kick starts one. */
void tc_progress_atfork_prepare(void);
void tc_progress_atfork_parent(void);
void tc_progress_atfork_child(void);

#endif
