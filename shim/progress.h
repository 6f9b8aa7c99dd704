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

/* Starts the thread if needed and wakes it to look at the sockets again. */
void tc_progress_kick(void);
/* Starts the thread (and its eventfd) now if it is not running. */
void tc_progress_start(void);
/* The close path holds this while it takes an fd away, so the thread never
 * works on an fd number that is being closed or reused. */
void tc_progress_lock(void);
void tc_progress_unlock(void);
/* fork(): the child has no thread; the next kick starts one. */
void tc_progress_atfork_prepare(void);
void tc_progress_atfork_parent(void);
void tc_progress_atfork_child(void);

#endif
