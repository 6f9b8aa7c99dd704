/*
 * tcd_conn.h - the TCP connections of a capture: each direction's stream
 * (pass 1 of tcpcrypt-decrypt), then whether it is tcpcrypt, which key of
 * the key log opens it, and its frames.
 */
#ifndef TCD_CONN_H
#define TCD_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "tcd_frames.h"
#include "tcd_keylog.h"
#include "tcd_pkt.h"
#include "tcd_stream.h"

enum tcd_cstate {
	TCD_C_PLAIN,       /* no tcpcrypt Init messages: left as it is */
	TCD_C_NOHS,        /* SYN or SYN-ACK not captured */
	TCD_C_BADINIT,     /* Init1/Init2 not captured or malformed */
	TCD_C_NOAEAD,      /* the AEAD of Init2 is not usable here */
	TCD_C_NOKEY,       /* no key of the key log opens its frames */
	TCD_C_DECRYPTED,
};

struct tcd_conn {
	int af;
	uint8_t addr[2][16];      /* [0]: the side that sent the SYN (or the first packet) */
	uint16_t port[2];
	uint32_t isn[2];
	uint8_t have_isn[2];
	struct tcd_stream st[2];
	int state;                /* enum tcd_cstate */
	int a_dir;                /* the direction (0 or 1) that sent Init1 */
	uint16_t aead;
	uint8_t sessid[TC_SESSID_LEN];
	struct tcd_dir dir[2];
	struct tcd_conn *next;    /* hash chain */
};

struct tcd_table {
	struct tcd_conn **all;    /* in order of creation */
	size_t n;
	struct tcd_conn *bucket[4096];
};

/* The connection of the segment pk and its direction; a SYN that does not
 * match the ISN of the connection of its 4-tuple starts a new one. NULL
 * on -ENOMEM. */
struct tcd_conn *tcd_conn_get(struct tcd_table *t, const struct tcd_pkt *pk, int *dir);

/* Pass 1: records the segment's ISN or payload. 0 or -ENOMEM. */
int tcd_conn_add(struct tcd_conn *c, int dir, const struct tcd_pkt *pk, const uint8_t *pay);

/* Finds the Init messages, the key and the frames; sets c->state.
 * 0, or -ENOMEM. */
int tcd_conn_decrypt(struct tcd_conn *c, const struct tcd_keylog *kl);

/* Stream offset of seq in direction dir, as a signed distance from
 * ISN + 1 (negative for the SYN). */
int64_t tcd_conn_off(const struct tcd_conn *c, int dir, uint32_t seq);

void tcd_table_free(struct tcd_table *t);

#endif /* TCD_CONN_H */
