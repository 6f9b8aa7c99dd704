/* tct_probe.h - tcpcrypt-test's probe of one peer: opts a socket in to
 * TCP-ENO, connects, reads the kernel's ENO result and, when tcpcrypt was
 * negotiated, runs the Init exchange with the libtcpcrypt engine over the
 * socket, then closes with a FINp frame. */
#ifndef TCT_PROBE_H
#define TCT_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "tcpcrypt/eno_abi.h"

enum tct_probe_status {
	TCT_PROBE_ENCRYPTED = 0,    /* ENO negotiated and the Init exchange set keys */
	TCT_PROBE_FALLBACK,         /* ENO did not negotiate: plain TCP, reason says why */
	TCT_PROBE_NO_DAEMON,        /* the opt-in setsockopt answered ENOPROTOOPT */
	TCT_PROBE_ERROR,            /* resolution, connect or Init exchange failed: err says */
};

struct tct_probe_result {
	enum tct_probe_status status;
	int reason;                              /* TCPCRYPT_ENO_R_* of the kernel's result */
	uint8_t eno_flags;                       /* TCPCRYPT_RES_F_* */
	uint8_t local_len, peer_len;
	uint8_t local_opt[TCPCRYPT_ENO_OPT_MAX]; /* our SYN-form option as sent */
	uint8_t peer_opt[TCPCRYPT_ENO_OPT_MAX];  /* the peer's, as received */
	int role;                                /* TCPCRYPT_ROLE_A or _B */
	uint16_t aead;
	uint8_t sessid[64];
	size_t sessid_len;
	int clean_close;                         /* 1: the peer's FINp arrived after ours */
	char addr[1100];                          /* the address connected to */
	char err[256];
};

/* Probes host:port; timeout_ms bounds each wait. Fills *r and returns
 * r->status. */
enum tct_probe_status tct_probe(const char *host, const char *port, int timeout_ms,
                                struct tct_probe_result *r);

/* Writes len bytes as lower-case hex into out (2 * len + 1 bytes). */
void tct_hex(const uint8_t *p, size_t len, char *out);

#endif
