/*
 * state.h - the shim's process-wide mutable state, all defined in one
 * place (state.c), each with who owns it, what guards it and what a
 * fork() does to it. The owners' headers keep declaring the few that
 * other files use (tc_cfg, tc_log_level, tc_fd_count, tc_fd_lock,
 * tc_sandboxed); the rest are for their owner only.
 *
 * fork: fork.c's pthread_atfork handler is the shim's only one (it
 * calls the progress thread's, tc_progress_atfork_*). What a child must
 * not keep is otherwise recognised by pid where it is used (the pools),
 * which also covers children that run no handler (vfork, posix_spawn,
 * _Fork). Still outside: epoll.c's registration map and fork.c's own
 * walk counter and tc_pid.
 */
#ifndef TC_SHIM_STATE_H
#define TC_SHIM_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "settings.h"

struct tc_sock;
struct tc_progress_work;
struct kp_page;

#define TC_OWN_MAX     6        /* the shim's own fds (ownfd.c) */
#define TC_FD_NCHUNKS  1024     /* fd table chunks of 1024: fds below 1M */
#define TC_FD_DEFER_MAX 16      /* objects left for later by signal handlers */
#define TC_POOL_MAX    16       /* free regions kept per process */
#define TC_CHUNK_SLOTS 64       /* regions per chunk (sock_chunk.c) */

/* settings.c: read at start-up; inherited as they are. */
extern struct tc_config tc_cfg;
/* log.c: the level and the log file (an own fd: survives the
 * application's close; inherited). */
extern int tc_log_level;
extern int tc_log_fd;
/* keylog.c: the key log file (own fd; inherited). */
extern int tc_keylog_fd;
/* ownfd.c: where each owner keeps its own fd (atomic slots). */
extern int *tc_own[TC_OWN_MAX];

/* fdtable.c: fd -> socket object (chunks mmap'ed once; the lock guards
 * references; fork.c holds it across fork). */
extern int tc_fd_count;
/* 1 + the highest fd ever set in the table (atomic, only grows; a fork
 * keeps it): the walks stop there. */
extern int tc_fd_hi;
extern pthread_mutex_t tc_fd_lock;
extern struct tc_sock **tc_fd_chunks[TC_FD_NCHUNKS];
/* cloexec_bits.c: one bit per fd below 1M, set when FD_CLOEXEC is there
 * only because of the shim (atomic words; a fork keeps them: the child's
 * fds are the same). */
#define TC_CLOEXEC_NBITS (1 << 20)
extern unsigned long tc_cloexec_bits[TC_CLOEXEC_NBITS / (8 * sizeof(unsigned long))];
/* epoll.c: set once this process added an fd to an epoll set (atomic;
 * inherited). close() then ends connections itself rather than through a
 * private copy (close_later.h): a copy would keep the socket in epoll sets
 * the shim may not know of, reporting events for a closed fd. */
extern int tc_epoll_used;
/* fdtable.c: objects a signal handler's close() dropped the last
 * reference of, freed by the next tc_fd_put() outside the shim (under
 * tc_fd_lock; inherited: a child frees its copies). */
extern struct tc_sock *tc_fd_deferred[TC_FD_DEFER_MAX];
extern int tc_fd_ndeferred;

/* progress.c: the thread (not in a child: tc_progress_atfork_child resets
 * the locks, the flag and the eventfd) and its work (set at start-up). */
extern pthread_mutex_t tc_progress_mutex, tc_progress_start_mutex;
extern int tc_progress_started;
extern int tc_progress_wake_fd;
/* progress.c: 1 from a kick until the thread's next round (atomic): the
 * kicks in between need no write to the eventfd. */
extern int tc_progress_kicked;
/* progress.c: the thread's epoll set and its number (a child closes the
 * parent's and makes its own: tc_progress_atfork_child); a full look at
 * every connection asked for (atomic); the fds whose connections gained
 * work (kick_fd), a bit each with two levels of summary (atomic ORs and
 * exchanges: lock-free; inherited, harmless: a child's thread first looks
 * at everything). */
extern int tc_progress_ep_fd;
extern unsigned tc_progress_ep_epoch;
extern int tc_progress_rescan;
#define TC_NOTE_FDS (1 << 20)
extern uint64_t tc_progress_notes[TC_NOTE_FDS / 64];
extern uint64_t tc_progress_notes_sum[TC_NOTE_FDS / 64 / 64];
extern uint64_t tc_progress_notes_top[TC_NOTE_FDS / 64 / 64 / 64];
/* progress.c: the thread's id (the region locks' owner word), 0 before it
 * runs (atomic): a lock it holds is held for non-blocking work only. */
extern uint32_t tc_progress_tid;
extern const struct tc_progress_work *tc_progress_work_set;
/* renew.c: when listeners are next looked at (ms, -1: never); dirty: at
 * once (atomic). */
extern long long tc_renew_next_walk;
extern int tc_renew_dirty;
/* keypool.c: key pairs made ahead (one page, MADV_WIPEONFORK; slots
 * carry their maker's pid). */
extern struct kp_page *tc_keypool_page;
extern int tc_keypool_failed;

/* sock_region.c: a region's geometry (set once at start-up), and the
 * pool of free regions (MADV_DONTFORK; dropped when seen from another
 * pid; its lock only ever tried). */
extern size_t sess_off, shm_size, pg_size;
extern pthread_mutex_t tc_pool_lock;
extern void *tc_pool[TC_POOL_MAX];
extern int tc_pool_n;
extern pid_t tc_pool_pid;
/* sock_region.c: regions this process holds that it made (atomic). */
extern long tc_live_regions;
/* sock_io.c: set (never cleared) once in a seccomp sandbox (sandbox.c). */
extern int tc_sandboxed;

/* divert_client.c: when the control socket was last found missing (ms,
 * monotonic; -1: never). */
extern long long tc_divert_absent_since;

#endif
