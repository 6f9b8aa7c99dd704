/*
 * session.h - one tcpcrypt (RFC 8548) session, TEP TCPCRYPT_ECDHE_Curve25519,
 * sans I/O (the model is picotls): the caller feeds the bytes it received and
 * sends the bytes it is handed.
 *
 *   A: tc_session_handshake(s, NULL, 0, ...)  -> Init1 to send
 *      tc_session_handshake(s, rx, n, ...)     -> consumes Init2; returns 1: keys set
 *   B: tc_session_handshake(s, rx, n, ...)     -> consumes Init1, emits Init2; returns 1
 *   then tc_session_seal() / tc_session_open() one frame at a time, or
 *   tc_session_recv() for any chunking of the incoming stream.
 *
 * A tc_session is one flat structure with no pointers inside, so the caller
 * may place it in memory shared between processes (after fork both sides
 * then use the same send offset and never reuse a nonce); the caller does
 * the locking. Secrets are wiped when no longer needed and by
 * tc_session_wipe().
 *
 * Errors are negative errno values; every error after keys were set is
 * fatal and the session refuses all further work:
 *   -EBADMSG     a frame failed authentication
 *   -EPROTO      a malformed Init message, a frame after FINp, a chosen AEAD that was not offered
 *   -EMSGSIZE    a frame length that no valid frame has (clen < 17)
 *   -ENOTSUP     no AEAD in common, or an unsupported TEP
 *   -EKEYREJECTED the peer's public key gives an all-zero shared secret
 *   -EINVAL      misuse by the caller (wrong state, buffer too small: -ENOSPC)
 */
#ifndef TCPCRYPT_SESSION_H
#define TCPCRYPT_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define TC_FRAME_HDR        3      /* control byte + 2-byte clen */
#define TC_TAG_LEN          16
#define TC_FRAME_OVERHEAD   (TC_FRAME_HDR + 1 + TC_TAG_LEN) /* header, flags byte, tag */
#define TC_FRAME_MAX_DATA   65518  /* application bytes in one frame (clen <= 65535) */
#define TC_FRAME_MAX        (TC_FRAME_HDR + 65535)
#define TC_HANDSHAKE_MAX    1024   /* room for any Init message we send */
#define TC_INIT_MAX         4096   /* Init messages longer than this are refused (-EPROTO) */
#define TC_SESSID_LEN       33
#define TC_MAX_AEADS        8

/* tc_session_seal() flags */
#define TC_SEAL_FIN         0x01   /* set FINp: the last frame of this direction */
#define TC_SEAL_URG         0x02   /* set URGp: the frame's last data byte is urgent (len >= 1) */
/* tc_session_open() / tc_session_recv() output flags */
#define TC_OPEN_FIN         0x01   /* the frame had FINp: authenticated end of stream */
#define TC_OPEN_URG         0x02   /* the frame had URGp: see tc_session_urgent() */

typedef struct tc_session tc_session;

/*
 * The process-local cipher state of one direction of a session: the
 * OpenSSL context that holds the expanded key. Not part of the session,
 * which may sit in memory shared between processes: each process keeps
 * its own (zero-initialised; freed with tc_aead_ctx_free()) and passes it
 * to tc_session_sealv() / tc_session_open_to(). A context follows the
 * session's keys by itself (it loads a key again after a rekey, or when
 * another process moved the session on); it is only ever a cache, so
 * passing the wrong one costs time, never correctness. Use one context
 * from one thread at a time (the caller's session lock).
 */
typedef struct tc_aead_ctx {
	void *evp;                        /* EVP_CIPHER_CTX, made at the first use */
	uint64_t tag;                     /* the key it holds (0: none) */
	uint16_t id;
	uint8_t enc;
} tc_aead_ctx;
void tc_aead_ctx_free(tc_aead_ctx *x);

/* Called when the keys are set, once per line of the key log
 * ("TCPCRYPT_ES <sessid> <es>" and "TCPCRYPT_SS <sessid> <ss>", lower-case
 * hex, no newline; a resumed session logs only "TCPCRYPT_SS <sessid>
 * <ss[i]>", its sn being in the SYN and SYN-ACK options). Only when the
 * caller asked for it. */
typedef void (*tc_keylog_fn)(void *arg, const char *line);

struct tc_session_params {
	uint8_t role;                     /* TCPCRYPT_ROLE_A or TCPCRYPT_ROLE_B */
	uint8_t tep_byte;                 /* B's suboption byte for the TEP (0x23 fresh) */
	const uint8_t *transcript;        /* ENO transcript: A's option || B's option */
	size_t transcript_len;            /* <= 80 */
	const uint16_t *aeads;            /* A: list offered in Init1; B: preference order. NULL: tc_aead_default_list() */
	size_t naeads;                    /* <= TC_MAX_AEADS */
};

/* Size of a tc_session, for callers that place it in their own memory. */
size_t tc_session_size(void);
/* The bytes a session uses when tc_session_recv() is never called on it:
 * its reassembly buffer (the last ~64 KiB) is left out. A caller that only
 * uses tc_session_handshake(), _seal(), _open() and the queries may place
 * the session in this much memory (16-byte aligned) instead. */
size_t tc_session_head_size(void);

/* Initialises a session in mem (tc_session_size() bytes, 16-byte aligned)
 * and generates the ephemeral X25519 key pair and nonce with randombytes. */
int tc_session_init(tc_session *s, const struct tc_session_params *p);

/* An X25519 key pair and nonce made ahead of a connection (for example on
 * a background thread), so that the connection's critical path skips the
 * public key computation. Never written to disk; used for one connection. */
struct tc_keypair {
	uint8_t sk[32];
	uint8_t pk[32];
	uint8_t nonce[32];
};

/* Fills kp from the CSPRNG. Returns 0 or a negative errno. */
int tc_keypair_make(struct tc_keypair *kp);

/* Like tc_session_init(), with a key pair from tc_keypair_make(); wipes
 * kp whatever the outcome, so it cannot serve a second connection. */
int tc_session_init_keypair(tc_session *s, const struct tc_session_params *p,
                            struct tc_keypair *kp);

/* Allocates and initialises a session; tc_session_free() wipes and frees it. */
int tc_session_new(tc_session **out, const struct tc_session_params *p);
void tc_session_free(tc_session *s);

/* Wipes every secret of a session placed by tc_session_init(). */
void tc_session_wipe(tc_session *s);

/* Handshake step. Feeds inlen received bytes (may be 0); sets *consumed to
 * how many belonged to the Init message (the rest are frames); writes any
 * bytes to send into out (outcap >= TC_HANDSHAKE_MAX) and sets *outlen.
 * Returns 0 while the handshake goes on, 1 once keys are set (seal and
 * open work from then on; B may seal right after sending Init2), or a
 * negative error. Any chunking of the Init message is accepted. */
int tc_session_handshake(tc_session *s, const uint8_t *in, size_t inlen, size_t *consumed,
                         uint8_t *out, size_t outcap, size_t *outlen);

/* tc_session_handshake() with a key log: when the keys are set, keylog
 * (NULL: none) gets the lines, with keylog_arg. The session keeps no
 * pointer to either (it may live in memory another process can write). */
int tc_session_handshake_log(tc_session *s, const uint8_t *in, size_t inlen, size_t *consumed,
                             uint8_t *out, size_t outcap, size_t *outlen,
                             tc_keylog_fn keylog, void *keylog_arg);

/* 1 once keys are set. */
int tc_session_ready(const tc_session *s);

/* Total length of the frame whose 3 header bytes are hdr: 3 + clen. */
size_t tc_frame_len(const uint8_t hdr[TC_FRAME_HDR]);

/* Seals len (<= TC_FRAME_MAX_DATA) application bytes as one frame into out
 * (outcap >= len + TC_FRAME_OVERHEAD), at the current send offset, which it
 * advances by the frame length. Sets rekey=1 on the first frame after a
 * rekey started (tc_session_rekey) or was requested by the peer. Refuses
 * anything after a frame with TC_SEAL_FIN. */
int tc_session_seal(tc_session *s, const uint8_t *data, size_t len, unsigned flags,
                    uint8_t *out, size_t outcap, size_t *outlen);

/* The same, with no copy: the data are the len bytes at offset skip of
 * the iovcnt pieces iov[], encrypted straight into the frame at out. x is
 * the caller's send context (NULL: a temporary one, slower). */
int tc_session_sealv(tc_session *s, tc_aead_ctx *x, const struct iovec *iov, int iovcnt,
                     size_t skip, size_t len, unsigned flags,
                     uint8_t *out, size_t outcap, size_t *outlen);

/* Opens one whole frame (framelen == tc_frame_len(frame)) in place, at the
 * current receive offset. On success *data and *datalen give the application
 * bytes (inside frame) and *flags has TC_OPEN_FIN when it was the last. */
int tc_session_open(tc_session *s, uint8_t *frame, size_t framelen,
                    uint8_t **data, size_t *datalen, unsigned *flags);

/* Opens one whole frame with the caller's receive context x (NULL: a
 * temporary one). With dst (ndst pieces, from offset skip, room for at
 * least framelen - TC_FRAME_OVERHEAD bytes) the data are decrypted
 * straight into dst and *data is NULL; without, in place as
 * tc_session_open(). On an authentication failure every byte written to
 * dst is zeroed: the caller never holds unauthenticated data. */
int tc_session_open_to(tc_session *s, tc_aead_ctx *x, uint8_t *frame, size_t framelen,
                       const struct iovec *dst, int ndst, size_t skip,
                       uint8_t **data, size_t *datalen, unsigned *flags);

/* A look ahead that changes nothing in s: opens, in place, the whole
 * frame that follows ahead bytes of frames after the current receive
 * offset (those not opened yet), giving what tc_session_open() of it will
 * give then: *data, *datalen, *flags, and with TC_OPEN_URG the urgent
 * position in *urgent. Opening the same ciphertext twice is harmless (no
 * nonce is used to seal). Returns 0; -EAGAIN for a frame with rekey=1
 * (under the next key: not opened); the error tc_session_open() would
 * give (the session is not failed by it: the caller decides); -EPROTO
 * after a frame with FINp was opened. On an error the frame's data bytes
 * are zeroed. */
int tc_session_peek(const tc_session *s, tc_aead_ctx *x, uint64_t ahead, uint8_t *frame,
                    size_t framelen, uint8_t **data, size_t *datalen, unsigned *flags,
                    uint16_t *urgent);

/* Feeds received stream bytes in any chunking (after the handshake, or
 * handshake and frames together for B and A alike: Init bytes are routed
 * to tc_session_handshake, whose output, if any, is appended to
 * hs_out / *hs_outlen). Decrypted application bytes are written to plain
 * (at most plaincap); consumption stops when plain is full. Returns the
 * number of input bytes consumed (>= 0), or a negative fatal error.
 * *flags gets TC_OPEN_FIN once the authenticated end was reached. */
ssize_t tc_session_recv(tc_session *s, const uint8_t *in, size_t inlen,
                        uint8_t *plain, size_t plaincap, size_t *plainlen, unsigned *flags,
                        uint8_t *hs_out, size_t hs_outcap, size_t *hs_outlen);

/* Starts a rekey: the next sealed frame uses the next key generation. */
int tc_session_rekey(tc_session *s);

/* 1 when the peer started a rekey that we must answer with a frame with
 * rekey=1 (the caller sends an empty frame if it has nothing else). The
 * peer counts one generation per rekey frame, so if it rekeyed n times
 * before we sent anything, this stays 1 for n sealed frames. */
int tc_session_rekey_pending(const tc_session *s);

/* After a frame opened with TC_OPEN_URG: the position in that frame's data
 * of the last urgent byte (always inside the data: frames whose urgent
 * field points elsewhere fail with -EPROTO). */
uint16_t tc_session_urgent(const tc_session *s);

/* Information on an established session. */
int tc_session_sessid(const tc_session *s, uint8_t *buf, size_t cap);   /* returns the length (33) */
uint16_t tc_session_aead(const tc_session *s);                         /* AEAD id in use */
int tc_session_role(const tc_session *s);                                /* this connection's ENO role */
int tc_session_resume_id(const tc_session *s, uint8_t out[18]);        /* resume[i] of the session's ss[i] */
uint64_t tc_session_send_offset(const tc_session *s);
uint64_t tc_session_recv_offset(const tc_session *s);

/*
 * Session resumption (RFC 8548 3.5), the engine part. A fresh session
 * used ss[0]; its chain ss[1], ss[2], ... (ss[i+1] = Expand(ss[i],
 * CONST_NEXTK)) may each key one later connection, ever, with no key
 * exchange and no Init messages:
 *
 *   after a fresh session:  tc_session_take_chain(s, &chain)  (once: ss[1])
 *   active opener:          tc_resume_chain_take(&chain, &sec)  -> ss[i], i lowest not tried
 *                           SYN suboption: tc_resume_subopt_build() (resume_opt.h)
 *                           B's answer:    tc_resume_check_answer()
 *   passive opener:         A's suboption: tc_resume_subopt_parse()
 *                           tc_resume_chain_match(&chain, half, ...) -> ss[j]
 *                           SYN-ACK suboption: tc_resume_subopt_build()
 *   both, once agreed:      tc_session_init_resumed(s, &sec, &params)
 *
 * A chain serves active opens only or passive opens only (RFC 8548 3.5's
 * safe policy: each ss[i] then keys one connection even though both hosts
 * hold the chain); the first take or match decides, the other then fails
 * with -EPERM. Chains and secrets are flat structures without pointers (a
 * cache may keep them in its own memory); the caller wipes them
 * (tc_resume_chain_wipe, tc_resume_secret_wipe; tc_session_init_resumed
 * wipes the secret it consumes) and never writes them to disk.
 */
#define TC_RESUME_ID_LEN     18    /* resume[i] */
#define TC_RESUME_HALF_LEN   9     /* the half of resume[i] one host sends */
#define TC_RESUME_NONCE_MAX  8     /* nonce_a, nonce_b: 0-8 bytes; ours are always 8 */
#define TC_RESUME_SS_LEN     32

#define TC_RESUME_USE_ANY     0    /* a chain not used yet */
#define TC_RESUME_USE_ACTIVE  1    /* handed out by tc_resume_chain_take */
#define TC_RESUME_USE_PASSIVE 2    /* handed out by tc_resume_chain_match */

/* The rest of one original session's chain: ss[next] is the lowest
 * secret not handed out yet. */
struct tc_resume_chain {
	uint8_t ss[TC_RESUME_SS_LEN];     /* ss[next] */
	uint64_t next;                    /* i of ss (>= 1) */
	uint8_t orig_role;                /* this host's role in the original session */
	uint8_t tep;                      /* TEP id of the original session (0x23) */
	uint8_t use;                      /* TC_RESUME_USE_* */
	uint16_t aead;                    /* AEAD of the original session */
};

/* One secret handed out of a chain, for one connection. */
struct tc_resume_secret {
	uint8_t ss[TC_RESUME_SS_LEN];     /* ss[i] */
	uint8_t resume[TC_RESUME_ID_LEN]; /* resume[i] */
	uint8_t nonce[TC_RESUME_NONCE_MAX]; /* this host's nonce for this connection (CSPRNG) */
	uint64_t index;                   /* i */
	uint8_t orig_role;                /* as in the chain: decides the half sent, k_ab or k_ba */
	uint8_t tep;
	uint16_t aead;
};

/* Moves the chain of a fresh, keyed session (ss[1]) into *out, at index
 * 1, with the session's role, TEP and AEAD; the session's copy is wiped,
 * so a second call fails (-ENOENT), as for a resumed session (whose chain
 * is the one it was taken from). -EINVAL before keys are set. */
int tc_session_take_chain(tc_session *s, struct tc_resume_chain *out);

/* Sets a chain from a stored ss[index] (index >= 1; orig_role
 * TCPCRYPT_ROLE_A/B; a TEP and AEAD this engine supports). ss is copied,
 * not wiped. 0, -EINVAL or -ENOTSUP. */
int tc_resume_chain_init(struct tc_resume_chain *c, const uint8_t ss[TC_RESUME_SS_LEN],
                         uint64_t index, uint8_t orig_role, uint8_t tep, uint16_t aead);

/* Active use: hands out ss[i] for the lowest i not yet tried, with
 * resume[i] and a fresh 8-byte nonce, and steps the chain to ss[i+1]
 * (ss[i] is overwritten in the chain: it is never handed out again,
 * whatever becomes of the connection). 0, -EPERM on a chain used
 * passively, -EOVERFLOW at the end of the index space, -EINVAL. */
int tc_resume_chain_take(struct tc_resume_chain *c, struct tc_resume_secret *out);

/* Passive use: looks for the peer's half-identifier (the half of the
 * peer's original role, from its SYN suboption) among resume[next] ..
 * resume[next + window - 1] (window 1..64; a peer skips indices whose
 * connections never reached us). On a match at j: hands out ss[j] as
 * tc_resume_chain_take does, steps the chain to ss[j+1] (the secrets
 * skipped are wiped with it) and returns 1. Returns 0 when nothing
 * matches (chain unchanged: the connection is fresh), -EPERM on a chain
 * used actively, -EINVAL. The halves are compared in constant time. */
int tc_resume_chain_match(struct tc_resume_chain *c, const uint8_t half[TC_RESUME_HALF_LEN],
                          unsigned window, struct tc_resume_secret *out);

void tc_resume_chain_wipe(struct tc_resume_chain *c);
void tc_resume_secret_wipe(struct tc_resume_secret *sec);

/* What a resumed connection adds to its secret. */
struct tc_resume_params {
	uint8_t role;                     /* this connection's ENO role (b bit), for tc_session_role() */
	const uint8_t *nonce_a;           /* the nonce of the original-A host (its SYN or SYN-ACK suboption) */
	size_t nonce_a_len;               /* 0..TC_RESUME_NONCE_MAX */
	const uint8_t *nonce_b;           /* the nonce of the original-B host */
	size_t nonce_b_len;
	const uint16_t *aeads;            /* NULL, or this host's acceptable AEADs: the secret's must be one */
	size_t naeads;
	tc_keylog_fn keylog;              /* NULL, or "TCPCRYPT_SS <sessid> <ss[i]>" once */
	void *keylog_arg;
};

/*
 * Initialises s (as tc_session_init) as a resumed session from the secret
 * sec (ss[i], its original role and AEAD): sn[i] = nonce_a | nonce_b;
 * mk[0] and the session ID from ss[i] and sn[i], the ID's first byte
 * TEP | 0x80 (0xa3); the host that was A seals with k_ab, B with k_ba,
 * whatever this connection's role. No Init messages: the session is keyed
 * at once and frames start at stream offset 0 both ways. sec is wiped
 * whatever the outcome (one secret, one connection). 0, -EINVAL,
 * -ENOTSUP (TEP or AEAD not usable here).
 */
int tc_session_init_resumed(tc_session *s, struct tc_resume_secret *sec,
                            const struct tc_resume_params *p);

/* 1 if s was made by tc_session_init_resumed. */
int tc_session_resumed(const tc_session *s);

/* The default AEAD list (A's offer and B's preference): AES-128-GCM,
 * AES-256-GCM (where the CPU has AES-NI), ChaCha20-Poly1305. Returns the
 * number written. */
size_t tc_aead_default_list(uint16_t *out, size_t cap);
/* 1 if this host can use the AEAD. */
int tc_aead_supported(uint16_t id);
/* Parses a list like "aes256gcm,chacha20" (names or 0x ids); returns the count or -EINVAL. */
int tc_aead_parse_list(const char *s, uint16_t *out, size_t cap);
const char *tc_aead_name(uint16_t id);

/* A short English description of a negative error of this library. */
const char *tc_strerror(int err);

#endif /* TCPCRYPT_SESSION_H */
