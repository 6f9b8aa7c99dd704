/*
 * session.c - one tcpcrypt session (RFC 8548), TEP TCPCRYPT_ECDHE_Curve25519:
 * the Init1/Init2 exchange, the keys, frames in both directions, rekeying;
 * resumed sessions (RFC 8548 3.5), keyed from ss[i] without Init messages.
 * Sans I/O; see session.h for the contract.
 *
 * The session is one flat structure without pointers (the caller may
 * share it between processes after fork; the key-log callback is passed
 * per call, tc_session_handshake_log). A process sharing it may write any
 * byte of it: every length and count that indexes its arrays is read once
 * into a local and checked against the array before use (a session found
 * out of bounds fails with -EPROTO), so such a write can fail the session
 * but never make this code read or write outside it.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
#include "aead.h"
#include "frame.h"
#include "init_msg.h"
#include "keysched.h"
#include "session.h"
#include "traffic_key.h"
#include "session_internal.h"
#include "util.h"

#define TC_TRANSCRIPT_MAX 80
#define TC_OWN_INIT_MAX   TC_INIT1_LEN(TC_MAX_AEADS)

enum tc_state {
	ST_NONE = 0,        /* not initialised, or wiped */
	ST_A_START,         /* A: Init1 not yet emitted */
	ST_A_WAIT_INIT2,    /* A: Init1 emitted, reading Init2 */
	ST_B_WAIT_INIT1,    /* B: reading Init1 */
	ST_KEYED,           /* keys set: frames */
	ST_FAILED,          /* a fatal error happened: err */
};

struct tc_session {
	/* traffic keys first: they hold the 16-byte aligned AES-GCM state */
	tc_aead_key send_key;             /* local generation */
	tc_aead_key recv_key;             /* remote generation */

	uint8_t state;
	uint8_t role;                     /* the role of the keys: the original session's */
	uint8_t eno_role;                 /* this connection's ENO role (tc_session_role) */
	uint8_t resumed;                  /* made by tc_session_init_resumed */
	uint8_t tep_byte;
	uint8_t naeads;
	int err;                          /* the sticky error in ST_FAILED */
	uint16_t aeads[TC_MAX_AEADS];
	uint16_t aead;                    /* chosen AEAD */
	uint8_t transcript[TC_TRANSCRIPT_MAX];
	uint8_t transcript_len;
	uint64_t key_epoch;               /* random: with key_serial, names each traffic key */
	uint64_t key_serial;              /* (for the callers' tc_aead_ctx caches) */

	/* ephemeral key pair and own nonce, wiped once keys are set */
	uint8_t sk[32];
	uint8_t pk[32];
	uint8_t nonce[TC_INIT_NONCELEN];

	/* our Init message (part of the transcript) and the peer's, reassembled */
	uint8_t own_init[TC_OWN_INIT_MAX];
	uint16_t own_init_len;
	uint8_t peer_init[TC_INIT_MAX];
	uint32_t peer_init_have;

	/* key state */
	uint8_t mk_send[TC_KS_SECRETLEN]; /* mk[local generation] */
	uint8_t mk_recv[TC_KS_SECRETLEN]; /* mk[remote generation] */
	uint64_t gen_local;               /* generation of the last frame sealed */
	uint64_t gen_target;              /* generation to reach, one step per frame */
	uint64_t gen_remote;
	uint8_t ss1[TC_KS_SECRETLEN];     /* ss[1], kept for a later resumption */
	uint8_t ss1_avail;                /* ss1 not yet taken (tc_session_take_chain) */
	uint8_t resume[TC_KS_RESUMELEN];
	uint8_t sessid[TC_SESSID_LEN];

	/* stream state */
	uint64_t send_off;
	uint64_t recv_off;
	uint8_t rekey_answer;             /* the peer started a rekey we must answer */
	uint8_t fin_sent;
	uint8_t fin_recvd;
	uint16_t urgent;                  /* last urgent field received (tc_session_urgent) */

	/* reassembly of one frame for tc_session_recv, then its undelivered data */
	uint32_t fbuf_have;               /* bytes of the frame being reassembled */
	uint32_t pend_off;                /* undelivered plaintext: fbuf[pend_off..+pend_len] */
	uint32_t pend_len;
	uint32_t fbuf_hw;                 /* high-water mark of fbuf: what a wipe must clear */
	/* last, and never zeroed as a whole: a caller that does not use
	 * tc_session_recv never touches (never faults in) these pages */
	uint8_t fbuf[TC_FRAME_MAX];
};

/* The part of a session that init clears: everything but fbuf. */
#define TC_SESS_HEAD offsetof(struct tc_session, fbuf)

/* Wipes fbuf as far as it was ever written. */
static void wipe_fbuf(tc_session *s)
{
	size_t hw = s->fbuf_hw < sizeof s->fbuf ? s->fbuf_hw : sizeof s->fbuf;

	sodium_memzero(s->fbuf, hw);
	s->fbuf_hw = 0;
}

/*
 * The stream offset of the first frame in each direction: the literal
 * reading of RFC 8548 4.2.3 (RFC-NOTES 2.7), counting the Init message
 * that starts the stream. The one place that decides the offset base.
 */
static uint64_t first_frame_offset(size_t init_msg_len)
{
	return init_msg_len;
}

size_t tc_session_size(void)
{
	return sizeof(struct tc_session);
}

size_t tc_session_head_size(void)
{
	return TC_SESS_HEAD;
}

/* Wipes every secret and fails the session for good with err. */
static int fail(tc_session *s, int err)
{
	tc_aead_key_wipe(&s->send_key);
	tc_aead_key_wipe(&s->recv_key);
	sodium_memzero(s->sk, sizeof s->sk);
	sodium_memzero(s->mk_send, sizeof s->mk_send);
	sodium_memzero(s->mk_recv, sizeof s->mk_recv);
	sodium_memzero(s->ss1, sizeof s->ss1);
	s->ss1_avail = 0;
	sodium_memzero(s->resume, sizeof s->resume);
	wipe_fbuf(s);
	s->fbuf_have = s->pend_len = s->pend_off = 0;
	s->state = ST_FAILED;
	s->err = err;
	return err;
}

static int init_common(tc_session *s, const struct tc_session_params *p,
                       const uint8_t *sk, const uint8_t *nonce, const uint8_t *pk)
{
	uint16_t def[TC_MAX_AEADS];
	const uint16_t *list;
	size_t n, i;

	if (s == NULL || p == NULL || ((uintptr_t)s & 15) != 0)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	if (p->role != TCPCRYPT_ROLE_A && p->role != TCPCRYPT_ROLE_B)
		return -EINVAL;
	/* fresh key exchange only (v = 0); resumption has no Init messages */
	if (p->tep_byte != TCPCRYPT_TEP_ECDHE_CURVE25519)
		return -ENOTSUP;
	if (p->transcript_len > TC_TRANSCRIPT_MAX || (p->transcript_len > 0 && p->transcript == NULL))
		return -EINVAL;
	if (p->aeads == NULL) {
		n = tc_aead_default_list(def, TC_MAX_AEADS);
		list = def;
	} else {
		if (p->naeads > TC_MAX_AEADS)
			return -EINVAL;
		n = p->naeads;
		list = p->aeads;
	}

	memset(s, 0, TC_SESS_HEAD);
	/* only the AEADs this host can use are offered or chosen */
	for (i = 0; i < n; i++)
		if (tc_aead_supported(list[i]))
			s->aeads[s->naeads++] = list[i];
	if (s->naeads == 0)
		return -ENOTSUP;
	s->role = s->eno_role = p->role;
	s->tep_byte = p->tep_byte;
	if (p->transcript_len > 0)
		memcpy(s->transcript, p->transcript, p->transcript_len);
	s->transcript_len = (uint8_t)p->transcript_len;

	randombytes_buf(&s->key_epoch, sizeof s->key_epoch);
	if (sk != NULL) {
		memcpy(s->sk, sk, sizeof s->sk);
		memcpy(s->nonce, nonce, sizeof s->nonce);
	} else {
		randombytes_buf(s->sk, sizeof s->sk);
		randombytes_buf(s->nonce, sizeof s->nonce);
	}
	if (pk != NULL)
		memcpy(s->pk, pk, sizeof s->pk);      /* made ahead (tc_keypair_make) */
	else if (crypto_scalarmult_base(s->pk, s->sk) != 0) {
		sodium_memzero(s, TC_SESS_HEAD);
		return -EINVAL;
	}
	s->state = s->role == TCPCRYPT_ROLE_A ? ST_A_START : ST_B_WAIT_INIT1;
	return 0;
}

int tc_session_init(tc_session *s, const struct tc_session_params *p)
{
	return init_common(s, p, NULL, NULL, NULL);
}

int tc_session_init_fixed(tc_session *s, const struct tc_session_params *p,
                          const uint8_t sk[32], const uint8_t nonce[32])
{
	if (sk == NULL || nonce == NULL)
		return -EINVAL;
	return init_common(s, p, sk, nonce, NULL);
}

int tc_keypair_make(struct tc_keypair *kp)
{
	if (kp == NULL)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(kp->sk, sizeof kp->sk);
	randombytes_buf(kp->nonce, sizeof kp->nonce);
	if (crypto_scalarmult_base(kp->pk, kp->sk) != 0) {
		sodium_memzero(kp, sizeof *kp);
		return -EINVAL;
	}
	return 0;
}

int tc_session_init_keypair(tc_session *s, const struct tc_session_params *p,
                            struct tc_keypair *kp)
{
	int r;

	if (kp == NULL)
		return -EINVAL;
	r = init_common(s, p, kp->sk, kp->nonce, kp->pk);
	sodium_memzero(kp, sizeof *kp);          /* one key pair, one connection */
	return r;
}

int tc_session_new(tc_session **out, const struct tc_session_params *p)
{
	tc_session *s;
	int r;

	*out = NULL;
	s = aligned_alloc(16, sizeof *s);
	if (s == NULL)
		return -ENOMEM;
	r = tc_session_init(s, p);
	if (r < 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* Wipes the session: its head (keys, secrets, state) and as much of the
 * reassembly buffer as was ever written (the rest was never touched). */
void tc_session_wipe(tc_session *s)
{
	if (s != NULL) {
		wipe_fbuf(s);
		sodium_memzero(s, TC_SESS_HEAD);
	}
}

void tc_session_free(tc_session *s)
{
	if (s != NULL) {
		tc_session_wipe(s);
		free(s);
	}
}

/* The caller's key-log callback for one call (NULL fn: none). */
struct keylog {
	tc_keylog_fn fn;
	void *arg;
};

/* Hands one key-log line "TCPCRYPT_<label> <sessid> <secret>" (label two
 * letters) to the caller's callback; the hex copies are wiped after. */
static void keylog_line(const tc_session *s, const struct keylog *kl, const char label[2],
                        const uint8_t secret[32])
{
	char line[16 + 2 * TC_SESSID_LEN + 1 + 64 + 1];
	char sid[2 * TC_SESSID_LEN + 1], sec[65];

	tc_hex(sid, sizeof sid, s->sessid, TC_SESSID_LEN);
	tc_hex(sec, sizeof sec, secret, 32);
	memcpy(line, "TCPCRYPT_", 9);
	memcpy(line + 9, label, 2);
	line[11] = ' ';
	memcpy(line + 12, sid, 2 * TC_SESSID_LEN);
	line[12 + 2 * TC_SESSID_LEN] = ' ';
	memcpy(line + 13 + 2 * TC_SESSID_LEN, sec, 65);
	kl->fn(kl->arg, line);
	sodium_memzero(sec, sizeof sec);
	sodium_memzero(line, sizeof line);
}

/* The key log of a fresh session: ES, then ss[0]. */
static void keylog_lines(const tc_session *s, const struct keylog *kl, const uint8_t es[32],
                         const uint8_t ss0[32])
{
	keylog_line(s, kl, "ES", es);
	keylog_line(s, kl, "SS", ss0);
}

/* Sets the keys of generation j (mk) for one direction. */
static void set_traffic_key(tc_session *s, tc_aead_key *k, const uint8_t mk[32], int a_to_b)
{
	(void)tc_traffic_key_tagged(k, s->aead, mk, a_to_b, s->key_epoch + ++s->key_serial);
}

/* Both Init messages are complete: ES, ss[0], mk[0], the session ID and
 * the generation-0 traffic keys; the ephemeral secret goes away. */
static int derive_keys(tc_session *s, const struct keylog *kl, const uint8_t *peer_pub,
                       const uint8_t *n_a, const uint8_t *init1, size_t l1,
                       const uint8_t *init2, size_t l2)
{
	struct tc_ks_session ks;
	uint8_t es[32], ss0[32];
	size_t tl = s->transcript_len;
	int r, a = s->role == TCPCRYPT_ROLE_A;

	if (tl > sizeof s->transcript)
		return -EPROTO;
	r = tc_ks_ecdh(es, s->sk, peer_pub);
	sodium_memzero(s->sk, sizeof s->sk);
	if (r < 0)
		return r;
	tc_ks_ss0(ss0, n_a, s->transcript, tl, init1, l1, init2, l2, es);
	tc_ks_from_ss0(&ks, s->tep_byte, ss0);
	memcpy(s->sessid, ks.sessid, sizeof s->sessid);
	memcpy(s->resume, ks.resume, sizeof s->resume);
	memcpy(s->ss1, ks.ss1, sizeof s->ss1);
	s->ss1_avail = 1;
	memcpy(s->mk_send, ks.mk0, sizeof s->mk_send);
	memcpy(s->mk_recv, ks.mk0, sizeof s->mk_recv);
	sodium_memzero(&ks, sizeof ks);
	set_traffic_key(s, &s->send_key, s->mk_send, a);
	set_traffic_key(s, &s->recv_key, s->mk_recv, !a);
	if (kl->fn != NULL)
		keylog_lines(s, kl, es, ss0);
	sodium_memzero(es, sizeof es);
	sodium_memzero(ss0, sizeof ss0);
	s->gen_local = s->gen_target = s->gen_remote = 0;
	s->state = ST_KEYED;
	return 1;
}

/* Checks the arguments of tc_session_init_resumed; 0 or a negative errno. */
static int resume_args_ok(const tc_session *s, const struct tc_resume_secret *sec,
                          const struct tc_resume_params *p)
{
	size_t i;
	int found = 0;

	if (s == NULL || sec == NULL || p == NULL || ((uintptr_t)s & 15) != 0)
		return -EINVAL;
	if ((p->role != TCPCRYPT_ROLE_A && p->role != TCPCRYPT_ROLE_B) ||
	    (sec->orig_role != TCPCRYPT_ROLE_A && sec->orig_role != TCPCRYPT_ROLE_B))
		return -EINVAL;
	if (p->nonce_a_len > TC_RESUME_NONCE_MAX || p->nonce_b_len > TC_RESUME_NONCE_MAX ||
	    (p->nonce_a == NULL && p->nonce_a_len > 0) || (p->nonce_b == NULL && p->nonce_b_len > 0))
		return -EINVAL;
	/* ss[0] keyed the original session: never a second connection */
	if (sec->index == 0)
		return -EINVAL;
	if (sec->tep != TCPCRYPT_TEP_ECDHE_CURVE25519 || !tc_aead_supported(sec->aead))
		return -ENOTSUP;
	if (p->aeads == NULL)
		return 0;
	if (p->naeads > TC_MAX_AEADS)
		return -EINVAL;
	for (i = 0; i < p->naeads; i++)
		found |= p->aeads[i] == sec->aead;
	return found ? 0 : -ENOTSUP;
}

/* The keys of a resumed session from ss[i] and sn[i] = nonce_a | nonce_b:
 * mk[0], the session ID and resume[i]; the traffic keys by the original role. */
static void derive_resumed(tc_session *s, const uint8_t ss[32], const struct tc_resume_params *p)
{
	struct tc_ks_session ks;
	uint8_t sn[TC_KS_SN_MAX];
	int a = s->role == TCPCRYPT_ROLE_A;

	if (p->nonce_a_len > 0)
		memcpy(sn, p->nonce_a, p->nonce_a_len);
	if (p->nonce_b_len > 0)
		memcpy(sn + p->nonce_a_len, p->nonce_b, p->nonce_b_len);
	(void)tc_ks_from_ss(&ks, s->tep_byte, ss, sn, p->nonce_a_len + p->nonce_b_len);
	memcpy(s->sessid, ks.sessid, sizeof s->sessid);
	memcpy(s->resume, ks.resume, sizeof s->resume);
	memcpy(s->mk_send, ks.mk0, sizeof s->mk_send);
	memcpy(s->mk_recv, ks.mk0, sizeof s->mk_recv);
	sodium_memzero(&ks, sizeof ks);          /* ss[i+1] included: the chain has it */
	sodium_memzero(sn, sizeof sn);
	set_traffic_key(s, &s->send_key, s->mk_send, a);
	set_traffic_key(s, &s->recv_key, s->mk_recv, !a);
}

int tc_session_init_resumed(tc_session *s, struct tc_resume_secret *sec,
                            const struct tc_resume_params *p)
{
	struct keylog kl;
	int r = resume_args_ok(s, sec, p);

	if (r == 0 && sodium_init() < 0)
		r = -EIO;
	if (r < 0) {
		tc_resume_secret_wipe(sec);
		return r;
	}
	memset(s, 0, TC_SESS_HEAD);
	s->role = sec->orig_role;
	s->eno_role = p->role;
	s->resumed = 1;
	s->tep_byte = (uint8_t)(sec->tep | 0x80);
	s->aead = s->aeads[0] = sec->aead;
	s->naeads = 1;
	randombytes_buf(&s->key_epoch, sizeof s->key_epoch);
	derive_resumed(s, sec->ss, p);
	kl.fn = p->keylog;
	kl.arg = p->keylog_arg;
	if (kl.fn != NULL)
		keylog_line(s, &kl, "SS", sec->ss);
	tc_resume_secret_wipe(sec);
	/* no Init messages: both streams are frames from their first byte */
	s->send_off = s->recv_off = first_frame_offset(0);
	s->state = ST_KEYED;
	return 0;
}

int tc_session_take_chain(tc_session *s, struct tc_resume_chain *out)
{
	int r;

	if (s == NULL || out == NULL)
		return -EINVAL;
	if (s->state == ST_FAILED)
		return s->err;
	if (s->state != ST_KEYED)
		return -EINVAL;
	if (s->resumed || !s->ss1_avail)
		return -ENOENT;
	r = tc_resume_chain_init(out, s->ss1, 1, s->role, (uint8_t)(s->tep_byte & 0x7f), s->aead);
	sodium_memzero(s->ss1, sizeof s->ss1);
	s->ss1_avail = 0;
	return r;
}

/* A: emits Init1. */
static int emit_init1(tc_session *s, uint8_t *out, size_t outcap, size_t *outlen)
{
	size_t na = s->naeads;
	int n;

	if (na > TC_MAX_AEADS)
		return -EPROTO;
	n = tc_init1_build(s->own_init, sizeof s->own_init, s->aeads, na, s->nonce, s->pk);
	if (n < 0)
		return n;
	if (outcap < (size_t)n)
		return -ENOSPC;
	memcpy(out, s->own_init, (size_t)n);
	*outlen = (size_t)n;
	s->own_init_len = (uint16_t)n;
	s->send_off = first_frame_offset((size_t)n);
	s->state = ST_A_WAIT_INIT2;
	return 0;
}

/* Appends received bytes to the peer's Init message. Returns 1 when it is
 * complete, 0 when more is needed, or -EPROTO. *consumed counts the bytes
 * taken; none beyond the message's length M. */
static int gather_init(tc_session *s, uint32_t magic, const uint8_t *in, size_t inlen,
                       size_t *consumed)
{
	long need;
	size_t take, have;

	*consumed = 0;
	for (;;) {
		have = s->peer_init_have;
		if (have > sizeof s->peer_init)
			return -EPROTO;
		need = tc_init_msg_len(magic, s->peer_init, have, TC_INIT_MAX);
		if (need < 0)
			return (int)need;
		if ((size_t)need < have || (size_t)need > sizeof s->peer_init)
			return -EPROTO;
		if ((size_t)need == have && have >= 9)
			return 1;
		if (*consumed == inlen)
			return 0;
		take = (size_t)need - have;
		if (take > inlen - *consumed)
			take = inlen - *consumed;
		memcpy(s->peer_init + have, in + *consumed, take);
		s->peer_init_have = (uint32_t)(have + take);
		*consumed += take;
	}
}

/* B: Init1 is complete; choose the AEAD, emit Init2 into out (room for
 * TC_INIT2_LEN checked by the caller), set the keys. */
static int on_init1(tc_session *s, const struct keylog *kl, uint8_t *out, size_t *outlen)
{
	struct tc_init1 m;
	size_t i, na = s->naeads, pl = s->peer_init_have;
	uint16_t aead = 0;
	int n, r;

	if (na > TC_MAX_AEADS || pl > sizeof s->peer_init)
		return -EPROTO;
	r = tc_init1_parse(s->peer_init, pl, &m);
	if (r < 0)
		return r;
	for (i = 0; i < na && aead == 0; i++)
		if (tc_init1_offers(&m, s->aeads[i]))
			aead = s->aeads[i];
	if (aead == 0)
		return -ENOTSUP;
	s->aead = aead;
	n = tc_init2_build(s->own_init, sizeof s->own_init, aead, s->nonce, s->pk);
	if (n < 0)
		return n;
	s->own_init_len = (uint16_t)n;
	r = derive_keys(s, kl, m.pub, m.nonce, s->peer_init, pl, s->own_init, (size_t)n);
	if (r < 0)
		return r;
	memcpy(out, s->own_init, (size_t)n);
	*outlen = (size_t)n;
	s->send_off = first_frame_offset((size_t)n);
	s->recv_off = first_frame_offset(pl);
	return 1;
}

/* A: Init2 is complete; check the AEAD and set the keys. */
static int on_init2(tc_session *s, const struct keylog *kl)
{
	struct tc_init2 m;
	size_t i, na = s->naeads, pl = s->peer_init_have, ol = s->own_init_len;
	int r, offered = 0;

	if (na > TC_MAX_AEADS || pl > sizeof s->peer_init || ol > sizeof s->own_init)
		return -EPROTO;
	r = tc_init2_parse(s->peer_init, pl, &m);
	if (r < 0)
		return r;
	for (i = 0; i < na; i++)
		if (s->aeads[i] == m.aead)
			offered = 1;
	if (!offered)
		return -EPROTO;
	s->aead = m.aead;
	r = derive_keys(s, kl, m.pub, s->nonce, s->own_init, ol, s->peer_init, pl);
	if (r < 0)
		return r;
	s->recv_off = first_frame_offset(pl);
	return 1;
}

int tc_session_handshake(tc_session *s, const uint8_t *in, size_t inlen, size_t *consumed,
                         uint8_t *out, size_t outcap, size_t *outlen)
{
	return tc_session_handshake_log(s, in, inlen, consumed, out, outcap, outlen, NULL, NULL);
}

int tc_session_handshake_log(tc_session *s, const uint8_t *in, size_t inlen, size_t *consumed,
                             uint8_t *out, size_t outcap, size_t *outlen,
                             tc_keylog_fn keylog, void *keylog_arg)
{
	struct keylog kl = { keylog, keylog_arg };
	size_t used = 0;
	int r;

	*consumed = 0;
	*outlen = 0;
	if (s == NULL || (in == NULL && inlen > 0))
		return -EINVAL;
	switch (s->state) {
	case ST_KEYED:
		return 1;
	case ST_FAILED:
		return s->err;
	case ST_A_START:
		r = emit_init1(s, out, outcap, outlen);
		if (r < 0)
			return r;
		/* B's Init2 can not come before Init1; any input is read as Init2 */
		/* fall through */
	case ST_A_WAIT_INIT2:
		r = gather_init(s, TC_INIT2_MAGIC, in, inlen, &used);
		*consumed = used;
		if (r <= 0)
			return r < 0 ? fail(s, r) : 0;
		r = on_init2(s, &kl);
		return r < 0 ? fail(s, r) : r;
	case ST_B_WAIT_INIT1:
		/* room for Init2 before anything is taken */
		if (outcap < TC_INIT2_LEN)
			return -ENOSPC;
		r = gather_init(s, TC_INIT1_MAGIC, in, inlen, &used);
		*consumed = used;
		if (r <= 0)
			return r < 0 ? fail(s, r) : 0;
		r = on_init1(s, &kl, out, outlen);
		return r < 0 ? fail(s, r) : r;
	default:
		return -EINVAL;
	}
}

int tc_session_ready(const tc_session *s)
{
	return s != NULL && s->state == ST_KEYED;
}

size_t tc_frame_len(const uint8_t hdr[TC_FRAME_HDR])
{
	return TC_FRAME_HDR + (size_t)tc_get_be16(hdr + 1);
}

/* Moves the local generation one step: the new send key; the frame
 * about to be sealed carries rekey=1. The peer counts one generation per
 * rekey frame, so a jump of several generations (the peer rekeyed several
 * times before we sent anything) takes as many frames. */
static void next_local_generation(tc_session *s)
{
	tc_ks_next_mk(s->mk_send);
	s->gen_local++;
	set_traffic_key(s, &s->send_key, s->mk_send, s->role == TCPCRYPT_ROLE_A);
}

int tc_session_sealv(tc_session *s, tc_aead_ctx *x, const struct iovec *iov, int iovcnt,
                     size_t skip, size_t len, unsigned flags,
                     uint8_t *out, size_t outcap, size_t *outlen)
{
	size_t ufield;                /* the urgent field's 2 bytes, with URGp */
	long n;
	int rekey;

	*outlen = 0;
	if (s == NULL)
		return -EINVAL;
	if (s->state == ST_FAILED)
		return s->err;
	if (s->state != ST_KEYED || s->fin_sent || (iov == NULL && len > 0) || iovcnt < 0)
		return -EINVAL;
	if ((flags & TC_SEAL_URG) && len == 0)
		return -EINVAL;
	ufield = (flags & TC_SEAL_URG) ? 2 : 0;
	if (len > TC_FRAME_MAX_DATA - ufield)
		return -EMSGSIZE;
	if (outcap < len + TC_FRAME_OVERHEAD + ufield)
		return -ENOSPC;
	if (s->send_off > UINT64_MAX - (len + TC_FRAME_OVERHEAD + 2))
		return fail(s, -EOVERFLOW);
	rekey = s->gen_target > s->gen_local;
	if (rekey)
		next_local_generation(s);
	if (flags & TC_SEAL_URG)
		n = tc_frame_sealv_urgent(x, &s->send_key, s->send_off, rekey,
		                          (flags & TC_SEAL_FIN) ? TC_FRAME_FL_FIN : 0, (uint16_t)(len - 1),
		                          iov, iovcnt, skip, len, out, outcap);
	else
		n = tc_frame_sealv(x, &s->send_key, s->send_off, rekey,
		                   (flags & TC_SEAL_FIN) ? TC_FRAME_FL_FIN : 0, iov, iovcnt, skip, len,
		                   out, outcap);
	if (n < 0)
		return fail(s, (int)n);   /* libcrypto failed, or iov was short: nothing goes out */
	s->send_off += (uint64_t)n;
	if (s->gen_target == s->gen_local)
		s->rekey_answer = 0;
	if (flags & TC_SEAL_FIN)
		s->fin_sent = 1;
	*outlen = (size_t)n;
	return 0;
}

int tc_session_seal(tc_session *s, const uint8_t *data, size_t len, unsigned flags,
                    uint8_t *out, size_t outcap, size_t *outlen)
{
	struct iovec v = { (void *)(uintptr_t)data, len };
	size_t u = (flags & TC_SEAL_URG) ? 2 : 0;   /* the urgent field */
	uint8_t *at = out + 4 + u;                  /* where the data go */

	*outlen = 0;
	if (data == NULL && len > 0)
		return -EINVAL;
	/* data in the frame's room other than where they go are moved there first */
	if (len > 0 && len <= TC_FRAME_MAX_DATA - u && outcap >= len + TC_FRAME_OVERHEAD + u &&
	    data != at && data < out + outcap && data + len > out) {
		if (s == NULL || s->state != ST_KEYED || s->fin_sent)
			return s != NULL && s->state == ST_FAILED ? s->err : -EINVAL;
		memmove(at, data, len);
		v.iov_base = at;
	}
	return tc_session_sealv(s, NULL, &v, 1, 0, len, flags, out, outcap, outlen);
}

/* Opens one whole frame at the receive offset; fatal errors are sticky. */
int tc_session_open(tc_session *s, uint8_t *frame, size_t framelen,
                    uint8_t **data, size_t *datalen, unsigned *flags)
{
	return tc_session_open_to(s, NULL, frame, framelen, NULL, 0, 0, data, datalen, flags);
}

int tc_session_open_to(tc_session *s, tc_aead_ctx *x, uint8_t *frame, size_t framelen,
                       const struct iovec *dst, int ndst, size_t skip,
                       uint8_t **data, size_t *datalen, unsigned *flags)
{
	struct tc_frame_plain pl;
	int r;

	*data = NULL;
	*datalen = 0;
	*flags = 0;
	if (s == NULL || frame == NULL)
		return -EINVAL;
	if (s->state == ST_FAILED)
		return s->err;
	if (s->state != ST_KEYED)
		return -EINVAL;
	if (s->fin_recvd)
		return fail(s, -EPROTO);
	if (framelen < TC_FRAME_HDR)
		return -EINVAL;
	if (tc_get_be16(frame + 1) < 1 + TC_TAG_LEN)
		return fail(s, -EMSGSIZE);
	if (framelen != tc_frame_len(frame))
		return -EINVAL;
	if (frame[0] & TC_FRAME_CTL_REKEY) {
		/* the peer's next generation; the old receive key is no longer needed */
		tc_ks_next_mk(s->mk_recv);
		s->gen_remote++;
		set_traffic_key(s, &s->recv_key, s->mk_recv, s->role != TCPCRYPT_ROLE_A);
	}
	r = tc_frame_open_to(x, &s->recv_key, s->recv_off, frame, framelen, dst, ndst, skip, &pl);
	if (r < 0)
		return fail(s, r);
	s->recv_off += framelen;
	if (s->gen_remote > s->gen_target) {
		/* the peer started a rekey: follow it and answer with rekey=1 */
		s->gen_target = s->gen_remote;
		if (!s->fin_sent)
			s->rekey_answer = 1;
	}
	if (pl.flags & TC_FRAME_FL_URG) {
		s->urgent = pl.urgent;
		*flags |= TC_OPEN_URG;
	}
	if (pl.flags & TC_FRAME_FL_FIN) {
		s->fin_recvd = 1;
		*flags |= TC_OPEN_FIN;
	}
	*data = pl.data;
	*datalen = pl.datalen;
	return 0;
}

/* Opens, in place and changing nothing in the session, the frame that
 * will be at the receive offset once ahead more bytes are opened. */
int tc_session_peek(const tc_session *s, tc_aead_ctx *x, uint64_t ahead, uint8_t *frame,
                    size_t framelen, uint8_t **data, size_t *datalen, unsigned *flags,
                    uint16_t *urgent)
{
	struct tc_frame_plain pl;
	int r;

	*data = NULL;
	*datalen = 0;
	*flags = 0;
	*urgent = 0;
	if (s == NULL || frame == NULL || framelen < TC_FRAME_HDR)
		return -EINVAL;
	if (s->state == ST_FAILED)
		return s->err;
	if (s->state != ST_KEYED)
		return -EINVAL;
	if (s->fin_recvd)
		return -EPROTO;
	if (tc_get_be16(frame + 1) < 1 + TC_TAG_LEN)
		return -EMSGSIZE;
	if (framelen != tc_frame_len(frame) || s->recv_off > UINT64_MAX - ahead)
		return -EINVAL;
	if (frame[0] & TC_FRAME_CTL_REKEY)
		return -EAGAIN;      /* the next key: not until the frames before are opened */
	r = tc_frame_open_to(x, &s->recv_key, s->recv_off + ahead, frame, framelen, NULL, 0, 0, &pl);
	if (r < 0)
		return r;
	if (pl.flags & TC_FRAME_FL_URG) {
		*urgent = pl.urgent;
		*flags |= TC_OPEN_URG;
	}
	if (pl.flags & TC_FRAME_FL_FIN)
		*flags |= TC_OPEN_FIN;
	*data = pl.data;
	*datalen = pl.datalen;
	return 0;
}

/* Copies undelivered plaintext of the last opened frame into plain. */
static void drain(tc_session *s, uint8_t *plain, size_t plaincap, size_t *plainlen)
{
	size_t n = plaincap - *plainlen;

	if (n > s->pend_len)
		n = s->pend_len;
	if (n > 0) {
		memcpy(plain + *plainlen, s->fbuf + s->pend_off, n);
		*plainlen += n;
		s->pend_off += (uint32_t)n;
		s->pend_len -= (uint32_t)n;
	}
}

/*
 * The stream reader: Init bytes go to the handshake, then frames are
 * reassembled in s->fbuf (so any chunking gives the same result), opened in
 * place and their data copied out. Data that does not fit stays pending
 * and is handed out first by the next call; no input is taken while data
 * is pending or plain is full (call again with inlen 0 to drain it). An
 * error after some plaintext was handed out in this call is reported by
 * the next call (it is sticky). *hs_outlen is set to the bytes this call
 * wrote to hs_out (its earlier value is not read); B needs hs_outcap >=
 * TC_INIT2_LEN until its keys are set.
 */
ssize_t tc_session_recv(tc_session *s, const uint8_t *in, size_t inlen,
                        uint8_t *plain, size_t plaincap, size_t *plainlen, unsigned *flags,
                        uint8_t *hs_out, size_t hs_outcap, size_t *hs_outlen)
{
	size_t used = 0, n, need, datalen;
	unsigned fl;
	uint8_t *data;
	int r;

	*plainlen = 0;
	*flags = 0;
	*hs_outlen = 0;
	if (s == NULL || (in == NULL && inlen > 0) || (plain == NULL && plaincap > 0))
		return -EINVAL;
	if (s->state == ST_FAILED)
		return s->err;
	if (s->state != ST_KEYED) {
		r = tc_session_handshake(s, in, inlen, &used, hs_out, hs_outcap, hs_outlen);
		if (r <= 0)
			return r < 0 ? r : (ssize_t)used;
	}
	drain(s, plain, plaincap, plainlen);
	while (used < inlen && s->pend_len == 0 && *plainlen < plaincap && !s->fin_recvd) {
		need = s->fbuf_have < TC_FRAME_HDR ? TC_FRAME_HDR : tc_frame_len(s->fbuf);
		n = need - s->fbuf_have;
		if (n > inlen - used)
			n = inlen - used;
		memcpy(s->fbuf + s->fbuf_have, in + used, n);
		s->fbuf_have += (uint32_t)n;
		if (s->fbuf_have > s->fbuf_hw)
			s->fbuf_hw = s->fbuf_have;
		used += n;
		if (s->fbuf_have < TC_FRAME_HDR)
			break;
		if (tc_get_be16(s->fbuf + 1) < 1 + TC_TAG_LEN) {
			r = fail(s, -EMSGSIZE);
			goto error;
		}
		if (s->fbuf_have < tc_frame_len(s->fbuf))
			continue;
		r = tc_session_open(s, s->fbuf, s->fbuf_have, &data, &datalen, &fl);
		s->fbuf_have = 0;
		if (r < 0)
			goto error;
		s->pend_off = (uint32_t)(data - s->fbuf);
		s->pend_len = (uint32_t)datalen;
		drain(s, plain, plaincap, plainlen);
	}
	/* a frame after FINp is a protocol error, even a partial one (once
	 * the FINp frame's own data is out, so every chunking agrees) */
	if (used < inlen && s->fin_recvd && s->pend_len == 0) {
		r = fail(s, -EPROTO);
		goto error;
	}
	if (s->fin_recvd && s->pend_len == 0)
		*flags = TC_OPEN_FIN;
	return (ssize_t)used;
error:
	if (*plainlen > 0)
		return (ssize_t)used;
	return r;
}

int tc_session_rekey(tc_session *s)
{
	if (s == NULL)
		return -EINVAL;
	if (s->state == ST_FAILED)
		return s->err;
	if (s->state != ST_KEYED || s->fin_sent)
		return -EINVAL;
	/* one generation per rekey frame: a rekey not yet sent is not repeated */
	if (s->gen_target == s->gen_local)
		s->gen_target++;
	return 0;
}

int tc_session_rekey_pending(const tc_session *s)
{
	return s != NULL && s->state == ST_KEYED && s->rekey_answer && !s->fin_sent &&
	       s->gen_target > s->gen_local;
}

int tc_session_sessid(const tc_session *s, uint8_t *buf, size_t cap)
{
	if (s == NULL || s->state != ST_KEYED)
		return -EINVAL;
	if (cap < TC_SESSID_LEN)
		return -ENOSPC;
	memcpy(buf, s->sessid, TC_SESSID_LEN);
	return TC_SESSID_LEN;
}

uint16_t tc_session_aead(const tc_session *s)
{
	return s != NULL && s->state == ST_KEYED ? s->aead : 0;
}

int tc_session_role(const tc_session *s)
{
	return s != NULL ? s->eno_role : -EINVAL;
}

int tc_session_resumed(const tc_session *s)
{
	return s != NULL && s->resumed;
}

int tc_session_resume_id(const tc_session *s, uint8_t out[18])
{
	if (s == NULL || s->state != ST_KEYED)
		return -EINVAL;
	memcpy(out, s->resume, TC_KS_RESUMELEN);
	return 0;
}

uint16_t tc_session_urgent(const tc_session *s)
{
	return s != NULL ? s->urgent : 0;
}

uint64_t tc_session_send_offset(const tc_session *s)
{
	return s != NULL ? s->send_off : 0;
}

uint64_t tc_session_recv_offset(const tc_session *s)
{
	return s != NULL ? s->recv_off : 0;
}
