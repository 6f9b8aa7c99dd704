/*
 * state.c - the shim's process-wide mutable state (see state.h for who
 * owns each and what fork does to it).
 */
#include "config.h"

#include "state.h"

struct tc_config tc_cfg;
int tc_log_level;
int tc_log_fd = -1;
int tc_keylog_fd = -1;
int tc_epoll_used;
int *tc_own[TC_OWN_MAX];

int tc_fd_count;
pthread_mutex_t tc_fd_lock = PTHREAD_MUTEX_INITIALIZER;
struct tc_sock **tc_fd_chunks[TC_FD_NCHUNKS];
int tc_fd_hi;
unsigned long tc_cloexec_bits[TC_CLOEXEC_NBITS / (8 * sizeof(unsigned long))];
struct tc_sock *tc_fd_deferred[TC_FD_DEFER_MAX];
int tc_fd_ndeferred;

pthread_mutex_t tc_progress_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t tc_progress_start_mutex = PTHREAD_MUTEX_INITIALIZER;
int tc_progress_started;
int tc_progress_wake_fd = -1;
int tc_progress_kicked;
int tc_progress_ep_fd = -1;
unsigned tc_progress_ep_epoch;
int tc_progress_rescan;
uint64_t tc_progress_notes[TC_NOTE_FDS / 64];
uint64_t tc_progress_notes_sum[TC_NOTE_FDS / 64 / 64];
uint64_t tc_progress_notes_top[TC_NOTE_FDS / 64 / 64 / 64];
uint32_t tc_progress_tid;
const struct tc_progress_work *tc_progress_work_set;
long long tc_renew_next_walk = -1;
int tc_renew_dirty;
struct kp_page *tc_keypool_page;
int tc_keypool_failed;

size_t sess_off, shm_size, pg_size = 4096;
pthread_mutex_t tc_pool_lock = PTHREAD_MUTEX_INITIALIZER;
void *tc_pool[TC_POOL_MAX];
int tc_pool_n;
pid_t tc_pool_pid;
long tc_live_regions;
int tc_sandboxed;

long long tc_divert_absent_since = -1;
