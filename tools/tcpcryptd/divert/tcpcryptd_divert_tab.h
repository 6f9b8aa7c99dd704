/* tcpcryptd_divert_tab.h - the divert backend's state: the offers that
 * opted-in sockets made (a socket's SO_MARK names its offer) and the
 * handshakes in progress or done, by 4-tuple, in the shared table file
 * (include/tcpcrypt/divert_proto.h). Bounded: an entry's place is a
 * keyed hash of its 4-tuple (a secret per daemon) and a window of
 * TCD_TAB_PROBE slots from there; a full window takes the place of a
 * half-open entry of B's older than DV_HALFOPEN_MS, else refuses the new
 * entry (never evicts a live one). Entries expire after DV_TTL_MS. */
#ifndef TCPCRYPTD_DIVERT_TAB_H
#define TCPCRYPTD_DIVERT_TAB_H

#include <stdint.h>
#include <sys/types.h>
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt/divert_proto.h"
#include "eno.h"

#define DV_MARK        TCD_MARK      /* SO_MARK of opted-in sockets: DV_MARK | offer id */
#define DV_MARK_MASK   TCD_MARK_MASK
#define DV_MAX_OFFERS  4096
#define DV_MAX_OFFERS_PER_UID 32
#define DV_TTL_MS      TCD_TAB_TTL_MS
/* default for half-open entries: tcp_synack_retries=5 (1+2+4+8+16+32 s), + 1 s */
#define DV_HALFOPEN_MS 64000

/* Returns the offer id (1..DV_MAX_OFFERS) of an offer, adding it if new
 * (on behalf of uid), or -ENOSPC. */
int dv_offer_intern(const struct tcpcrypt_eno_offer *o, uid_t uid);
/* The offer of id, or NULL. */
const struct tcpcrypt_eno_offer *dv_offer_get(unsigned id);
/* The negotiation policy an offer stands for. Returns 0 or -EINVAL. */
int dv_offer_policy(const struct tcpcrypt_eno_offer *o, struct tc_eno_policy *pol);

/* Maps the table file at path (created or truncated, mode 0644); without
 * it (or before it) the table lives in private memory. Returns 0 or a
 * negative errno. */
int dv_tab_open(const char *path);
/* Unmaps it and removes the file (a clean stop). */
void dv_tab_close(const char *path);

/* Moves the offers to memory shared with processes forked later (the
 * watchdog). Returns 0 or a negative errno. */
int dv_offer_share(void);

/* Draws the secret of the table's hash (getrandom). Call it before the
 * watchdog is cloned, so that both place entries alike. Returns 0 or a
 * negative errno. */
int dv_tab_seed(void);
/* How long a half-open entry of B's may be live (the kernel's SYN-ACK
 * retransmissions); older ones give their place to new entries. */
void dv_tab_set_halfopen_ms(uint64_t ms);

/* Finds the live entry of key, or NULL. The entry returned (by this or
 * dv_conn_get) is a working copy, one at a time: changes reach the table
 * at dv_conn_commit(). */
struct tcd_slot *dv_conn_find(const struct tcd_key *key, uint64_t now_ms);
/* Finds or makes the entry of key (a new one is zeroed but for the key);
 * NULL when the table has no room for it (no working copy then). */
struct tcd_slot *dv_conn_get(const struct tcd_key *key, uint64_t now_ms);
/* Writes the working copy back (one pwrite on the table's fd), if it
 * changed. Returns 0 or a negative errno (the fd was revoked). */
int dv_conn_commit(void);
/* Drops the working copy without writing it (read-only lookups). */
void dv_conn_forget(void);
/* The fd the table is written through, and a replacement for it (the
 * watchdog writes through its own duplicate). */
int dv_tab_fd(void);
void dv_tab_set_fd(int fd);
/* Records in the table's header that the queue was found empty after
 * t_ms (judged_ms), through the table's fd like a slot, so that a revoked
 * daemon cannot write it. Monotone within a process; at most one write
 * per ms. Returns 0 or a negative errno. */
int dv_tab_judged(uint64_t t_ms);
/* Live entries. */
unsigned dv_conn_count(uint64_t now_ms);

#endif
