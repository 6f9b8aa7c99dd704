/* tcpcryptd_bpf.h - the eBPF backend: load, attach, pin, recover, detach. */
#ifndef TCPCRYPTD_BPF_H
#define TCPCRYPTD_BPF_H

#include <stdint.h>
#include <stdio.h>
#include "tcpcryptd.h"
#include "tcpcrypt_maps.h"	/* tools/tcpcryptd/bpf/progs/ */

struct tc_backend;

/* Takes the pin dir and cgroup (refusing if another daemon holds them),
 * loads the programs, replaces stale ones of a crashed daemon and attaches
 * and pins everything. Returns 0 or a negative errno (already logged). */
int tcb_start(const struct tcpcryptd_cfg *cfg, struct tc_backend **out);

/* Detaches and unpins everything tcb_start made, and frees it. */
void tcb_stop(struct tc_backend *b);

/* Calls fn for each live session. */
int tcb_foreach_session(struct tc_backend *b,
                        int (*fn)(uint64_t cookie, const struct tc_session *s, void *arg),
                        void *arg);

/* Writes one "feature NAME STATE DETAIL" line per kernel feature: eno
 * (essential), sessions_iter and sessions_table (optional listing), guard
 * (optional). */
void tcb_features(struct tc_backend *b, FILE *out);

/* Sums the per-CPU counters into c[TC_C_MAX]. */
int tcb_counters(struct tc_backend *b, uint64_t *c);

/* Ensures a bpffs is mounted at /sys/fs/bpf when path lies under it. */
int tcb_ensure_bpffs(const char *path);

/* Finds the cgroup v2 mount point (into buf). */
int tcb_find_cgroup2(char *buf, size_t len);

#endif
