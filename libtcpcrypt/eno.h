/*
 * eno.h - TCP-ENO (RFC 8547): the option codec and the negotiation rules.
 * Sans I/O: every function takes bytes and returns bytes or a decision.
 *
 * Options are handled whole, exactly as on the wire: kind (69), length,
 * content. The transcript is built from such whole options, never from a
 * re-encoding.
 */
#ifndef TCPCRYPT_ENO_H
#define TCPCRYPT_ENO_H

#include <stddef.h>
#include <stdint.h>
#include "tcpcrypt/eno_abi.h"   /* TCPCRYPT_ENO_KIND, TCPCRYPT_ENO_OPT_MAX, TCPCRYPT_ENO_R_* */

#define TC_ENO_GLOBAL_B     0x01  /* passive-role bit */
#define TC_ENO_GLOBAL_A     0x02  /* application-aware bit */
#define TC_ENO_MAX_SUBOPTS  TCPCRYPT_ENO_OPT_MAX

/* One TEP suboption of a parsed SYN-form option. */
struct tc_eno_tep {
	uint8_t byte;          /* the suboption byte as sent, v bit included */
	uint8_t id;            /* glt: byte & 0x7f */
	uint8_t v;             /* 1 if the suboption carries data */
	uint8_t dlen;          /* data length */
	const uint8_t *data;   /* points into the parsed option */
};

/* A parsed SYN-form ENO option. */
struct tc_eno_syn {
	uint8_t global;        /* first global suboption, or the implicit 0x00 */
	uint8_t has_global;    /* 1 if the option carried one explicitly */
	uint8_t ntep;
	struct tc_eno_tep tep[TC_ENO_MAX_SUBOPTS];
};

/* Parses a whole SYN-form ENO option (opt[0] == 69, opt[1] == len).
 * Returns 0, or -EINVAL for anything ill-formed (wrong kind, length byte
 * that disagrees with len, length byte not followed by a TEP with data,
 * data running past the end). A vacuous option parses (ntep == 0). */
int tc_eno_parse_syn(const uint8_t *opt, size_t len, struct tc_eno_syn *out);

/* Finds ENO options in a TCP options area (the bytes after the fixed
 * 20-byte header). Sets *opt and *len to the first ENO option and returns the
 * number of ENO options found (0, 1, 2...), or -EINVAL if the options
 * area itself is malformed. */
int tc_eno_find(const uint8_t *opts, size_t optslen, const uint8_t **opt, size_t *len);

/* Local policy for negotiation. */
struct tc_eno_policy {
	uint8_t teps[8];       /* TEP ids we accept, rising order of preference */
	uint8_t nteps;
	uint8_t app_aware;     /* 0, 1 (send a=1), 2 (mandatory: require the peer's a=1) */
	uint8_t passive;       /* b bit for an active opener (simultaneous open only) */
};

/* Builds our SYN-form option for an active open into out (whole option).
 * The global suboption is written only when a or b is set. Returns the
 * option length, or -ENOSPC. */
int tc_eno_build_syn(const struct tc_eno_policy *pol, uint8_t *out, size_t cap);

/* Builds the content of our SYN-form option (what goes in
 * struct tcpcrypt_eno_offer.content): for an active opener the same as
 * tc_eno_build_syn without kind and length; for a listener (listener != 0)
 * the global byte with b=1 followed by the accepted TEPs. Returns the
 * content length or -ENOSPC. */
int tc_eno_build_offer(const struct tc_eno_policy *pol, int listener, uint8_t *out, size_t cap);

/* B's answer to A's SYN: given A's whole option (NULL/0 if A sent none)
 * and the number of ENO options A's SYN had, writes B's SYN-ACK option
 * (b=1, our a bit, the one chosen TEP) into out and returns its length,
 * or returns 0 when B must send no ENO, with *reason saying why. */
int tc_eno_answer_syn(const struct tc_eno_policy *pol, const uint8_t *a_opt, size_t a_len,
                      int a_count, uint8_t *out, size_t cap, int *reason);

/* The outcome of a negotiation. */
struct tc_eno_outcome {
	uint8_t negotiated;    /* 1 if ENO selected a TEP */
	uint8_t role;          /* TCPCRYPT_ROLE_A (0) or TCPCRYPT_ROLE_B (1) */
	uint8_t tep_byte;      /* B's suboption byte for the negotiated TEP, v included (session ID byte 0) */
	uint8_t tep;           /* the negotiated TEP id (glt) */
	uint8_t peer_a;        /* the peer's a bit */
	uint8_t reason;        /* TCPCRYPT_ENO_R_* */
	uint8_t transcript_len;
	uint8_t transcript[2 * TCPCRYPT_ENO_OPT_MAX]; /* A's option || B's option, verbatim */
};

/* Decides the negotiation from both SYN-form options exactly as they were
 * on the wire (ours and the peer's; NULL/0 when absent). The role comes
 * from the b bits, not from who connected. Applies every fallback rule of
 * RFC 8547 4.6 that can be judged from the two options. Returns 0 (then
 * out->negotiated says the result) or -EINVAL on bad arguments. */
int tc_eno_negotiate(const struct tc_eno_policy *pol, const uint8_t *local, size_t llen,
                     const uint8_t *peer, size_t plen, struct tc_eno_outcome *out);

/* The non-SYN form (RFC 8547 4.6): writes `45 02` (no content) into out
 * and returns 2, or -ENOSPC. */
int tc_eno_build_nonsyn(uint8_t *out, size_t cap);

/* For a segment without SYN: 1 if its options area carries an ENO option
 * (its content is ignored, several count as one), 0 if not, -EINVAL if the
 * options area is malformed. */
int tc_eno_nonsyn_present(const uint8_t *opts, size_t optslen);

/* A short English description of a TCPCRYPT_ENO_R_* reason. */
const char *tc_eno_reason_str(int reason);

#endif /* TCPCRYPT_ENO_H */
