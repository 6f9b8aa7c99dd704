/* tcpcryptd_divert_tab.h - the divert backend's state: the offers that
 * opted-in sockets made (a socket's SO_MARK names its offer) and the
 * handshakes in progress or done, by 4-tuple. Bounded: a full bucket
 * evicts its oldest entry, entries expire after DV_TTL_MS. */
#ifndef TCPCRYPTD_DIVERT_TAB_H
#define TCPCRYPTD_DIVERT_TAB_H

#include <stdint.h>
#include <sys/types.h>
#include "tcpcrypt/eno_abi.h"
#include "eno.h"

#define DV_MARK        0x54430000u   /* SO_MARK of opted-in sockets: DV_MARK | offer id */
#define DV_MARK_MASK   0xffff0000u
#define DV_MAX_OFFERS  4096
#define DV_MAX_OFFERS_PER_UID 32
#define DV_TTL_MS      120000

/* Returns the offer id (1..DV_MAX_OFFERS) of an offer, adding it if new
 * (on behalf of uid), or -ENOSPC. */
int dv_offer_intern(const struct tcpcrypt_eno_offer *o, uid_t uid);
/* The offer of id, or NULL. */
const struct tcpcrypt_eno_offer *dv_offer_get(unsigned id);
/* The negotiation policy an offer stands for. Returns 0 or -EINVAL. */
int dv_offer_policy(const struct tcpcrypt_eno_offer *o, struct tc_eno_policy *pol);

struct dv_key {
	uint8_t family;
	uint8_t pad;
	uint16_t lport, rport;   /* host order */
	uint8_t laddr[16], raddr[16];
};

enum dv_state {
	DV_A_SYN = 1,        /* A: our SYN went out (with or without ENO) */
	DV_A_ENO,            /* A: negotiated; our segments carry 45 02 */
	DV_A_DONE,           /* A: fell back */
	DV_B_SYN,            /* B: A's SYN seen (its option kept) */
	DV_B_WAIT_ACK,       /* B: our SYN-ACK carried ENO; A's first ACK decides */
	DV_B_DONE,           /* B: decided */
};

struct dv_conn {
	struct dv_key key;
	uint64_t t_ms;       /* creation; 0 = free */
	uint8_t state;
	int8_t a_count;      /* B: ENO options in A's SYN (-1: ill-formed options) */
	uint16_t offer_id;
	uint8_t syn_data;    /* B: A's SYN carried data */
	struct tcpcrypt_eno_result res;
};

/* Finds the live entry of key, or NULL. */
struct dv_conn *dv_conn_find(const struct dv_key *key, uint64_t now_ms);
/* Finds or makes the entry of key (a new one is zeroed but for the key). */
struct dv_conn *dv_conn_get(const struct dv_key *key, uint64_t now_ms);
/* Live entries. */
unsigned dv_conn_count(uint64_t now_ms);

#endif
