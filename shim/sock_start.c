/*
 * sock_start.c - the start of a connection: opt-in, reading the ENO
 * result, creating the session, finishing a non-blocking connect, and the
 * common entry of the data calls.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "cloexec.h"
#include "eno.h"
#include "eno_source.h"
#include "keylog.h"
#include "keypool.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"
#include "sock_int.h"
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt/tcpcrypt.h"

/* ---- start of a connection ---- */

static void policy_of(const struct tc_prefs *p, struct tc_eno_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->teps[0] = TCPCRYPT_TEP_ECDHE_CURVE25519;
	pol->nteps = 1;
	pol->app_aware = p->app_aware;
	pol->passive = p->passive;
}

void tc_crypto_warm(void)
{
	/* libcrypto's one-time set-up reads openssl.cnf and fclose()s it:
	 * through our fclose, whose close path takes the progress lock.
	 * Here, no lock of ours is held, and tc_in_shim makes that fclose
	 * pass straight to libc. Later first uses (under tx_lock, or on the
	 * progress thread holding its lock) would deadlock. */
	tc_in_shim++;
	(void)tc_aead_supported(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	tc_in_shim--;
}

int tc_sock_opt_in(int fd, const struct tc_prefs *p, int listener)
{
	int via;

	return tc_sock_opt_in_via(fd, p, listener, &via);
}

int tc_sock_opt_in_via(int fd, const struct tc_prefs *p, int listener, int *via_divert)
{
	struct tcpcrypt_eno_offer offer;
	struct tc_eno_policy pol;
	int n;

	*via_divert = 0;

	/* libsodium starts here, at the first connection (not at load) */
	if (sodium_init() < 0) {
		tc_err("libsodium failed to start; tcpcrypt disabled");
		return -EIO;
	}
	tc_crypto_warm();
	policy_of(p, &pol);
	memset(&offer, 0, sizeof(offer));
	offer.version = TCPCRYPT_ENO_ABI_VERSION;
	offer.flags = p->app_aware >= 2 ? TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE : 0;
	n = tc_eno_build_offer(&pol, listener, offer.content, sizeof(offer.content));
	if (n <= 0)
		return n < 0 ? n : -EINVAL;
	offer.len = (uint8_t)n;
	return tc_eno_src->opt_in(fd, &offer, via_divert);
}

/* Reads the ENO result and sets the session up (tx_lock held). */
static int start_locked(struct tc_sock *s, int fd, int blocking)
{
	struct tc_shm *sh = s->shm;
	struct tcpcrypt_eno_result res;
	struct tc_eno_outcome out;
	struct tc_eno_policy pol;
	struct tc_session_params p;
	struct tc_keypair kp;
	socklen_t len = sizeof(res);
	uint8_t hs[TC_HANDSHAKE_MAX];
	size_t consumed = 0, hslen = 0;
	int r, have_kp, final = 0;

	/* The application can see the connection established a moment before
	 * the kernel program has judged the handshake (another CPU, still in
	 * the softirq): wait for the final result, briefly. */
	for (int i = 0;; i++) {
		struct timespec ts = { 0, 100000 };

		memset(&res, 0, sizeof(res));
		len = sizeof(res);
		r = tc_eno_src->result(fd, &res, &len, &final);
		if (final || r < 0 || !(res.flags & TCPCRYPT_RES_F_OPTED_IN) || (res.flags & TCPCRYPT_RES_F_DONE) ||
		    i == 500)
			break;
		nanosleep(&ts, NULL);
	}
	if (r < 0 || !(res.flags & TCPCRYPT_RES_F_ENO_OK)) {
		int reason = len >= 3 ? res.reason : TCPCRYPT_ENO_R_NOT_OPTED_IN;

		if (r == 0 && reason == TCPCRYPT_ENO_R_STATE_LOST) {
			/* the peer may have negotiated: never plain (RST) */
			abort_conn(sh, fd, ECONNRESET, tc_eno_reason_str(reason));
			return -ECONNRESET;
		}
		if (tc_cfg.require) {
			tc_err("fd %d: tcpcrypt not negotiated (%s); TCPCRYPT_REQUIRE: refusing", fd,
			       tc_eno_reason_str(reason));
			abort_conn(sh, fd, ECONNREFUSED, "tcpcrypt required");
			return -ECONNREFUSED;
		}
		tc_info("fd %d: plain TCP (%s)", fd, tc_eno_reason_str(reason));
		SET_STATE(sh, TC_ST_PLAIN);
		return 0;
	}
	policy_of(&s->prefs, &pol);
	r = tc_eno_negotiate(&pol, res.local_opt, res.local_len, res.peer_opt, res.peer_len, &out);
	if (r < 0 || !out.negotiated ||
	    out.role != ((res.flags & TCPCRYPT_RES_F_ROLE_B) ? TCPCRYPT_ROLE_B : TCPCRYPT_ROLE_A)) {
		abort_conn(sh, fd, EPROTO, "the kernel's ENO result disagrees with the negotiation rules");
		return -EPROTO;
	}
	memset(&p, 0, sizeof(p));
	p.role = out.role;
	p.tep_byte = out.tep_byte;
	p.transcript = out.transcript;
	p.transcript_len = out.transcript_len;
	p.aeads = s->prefs.naeads ? s->prefs.aeads : NULL;
	p.naeads = s->prefs.naeads;
	/* a key pair the progress thread made ahead, else one made now */
	have_kp = tc_keypool_take(&kp) == 0;
	lock(&sh->sess_lock);
	r = have_kp ? tc_session_init_keypair(SESS(sh), &p, &kp) : tc_session_init(SESS(sh), &p);
	if (r == 0 && out.role == TCPCRYPT_ROLE_A)
		r = tc_session_handshake_log(SESS(sh), NULL, 0, &consumed, hs, sizeof(hs), &hslen,
		                             tc_keylog_enabled() ? tc_keylog_line : NULL, NULL);
	unlock(&sh->sess_lock);
	tc_progress_wake();           /* makes the next key pair */
	if (r < 0) {
		abort_conn(sh, fd, engine_errno(r), tc_strerror(r));
		return -shm_error(sh);
	}
	sh->role = out.role;
	sh->peer_app = out.peer_a;
	urg_start(sh, fd);              /* before any frame can arrive */
	SET_STATE(sh, TC_ST_HANDSHAKE);
	/* (after the state: another thread that sees sealed with the state
	 * still CONNECTING takes the connection for failed) */
	__atomic_store_n(&s->sealed, 1, __ATOMIC_RELEASE);
	tc_cloexec_negotiated(s, fd);   /* no raw socket for children without our hooks */
	tc_debug("fd %d: ENO negotiated, role %c", fd, out.role ? 'B' : 'A');
	if (hslen) {
		size_t qoff, qlen;

		if (tx_view(sh, &qoff, &qlen) < 0 || hslen > sizeof(sh->tx) - qlen)
			return region_corrupt(sh, fd, "shared region: send queue");
		memcpy(sh->tx + qlen, hs, hslen);
		sh->tx_len = qlen + hslen;
		r = tx_flush(s, fd, !blocking);
		if (r < 0 && r != -EAGAIN && r != -EINTR) {
			abort_conn(sh, fd, -r, "cannot send Init1");
			return r;
		}
	}
	return 0;
}

int tc_sock_start(struct tc_sock *s, int fd, int blocking)
{
	struct tc_shm *sh = s->shm;
	int r;

	lock(&sh->tx_lock);
	if (STATE(sh) == TC_ST_OPENING || STATE(sh) == TC_ST_CONNECTING)
		r = start_locked(s, fd, blocking);
	else
		r = STATE(sh) == TC_ST_FAILED ? -shm_error(sh) : 0;
	unlock(&sh->tx_lock);
	if (r < 0 || STATE(sh) != TC_ST_HANDSHAKE)
		return r;
	if (!blocking) {
		tc_progress_kick_fd(fd);
		return 0;
	}
	lock(&sh->rx_lock);
	r = rx_handshake(s, fd, 0);
	unlock(&sh->rx_lock);
	if (r < 0 && STATE(sh) != TC_ST_FAILED)
		abort_conn(sh, fd, r == -EAGAIN ? ETIMEDOUT : -r, "Init exchange did not finish");
	return r < 0 ? -shm_error(sh) : 0;
}

int tc_sock_check_connect(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int r = 0;

	if (STATE(sh) != TC_ST_CONNECTING)
		return 0;
	if (tc_real_poll(&p, 1, 0) <= 0)
		return 0;
	lock(&sh->tx_lock);
	if (STATE(sh) == TC_ST_CONNECTING) {
		if ((p.revents & (POLLERR | POLLHUP)) || getpeername(fd, (struct sockaddr *)&ss, &l) < 0)
			SET_STATE(sh, TC_ST_PLAIN);     /* the connect failed: the kernel tells why */
		else
			r = start_locked(s, fd, 0);
	}
	unlock(&sh->tx_lock);
	if (STATE(sh) == TC_ST_HANDSHAKE)
		tc_progress_kick_fd(fd);
	return r;
}

/* Common entry of the data calls: completes a pending connect, and says
 * whether to pass through (TC_PASS), fail, or go on. */
int pre_io(struct tc_sock *s, int fd, int nonblock)
{
	struct tc_shm *sh = s->shm;

	for (;;) {
		switch (tc_sock_state(s)) {
		case TC_ST_CONNECTING: {
			int r = tc_sock_check_connect(s, fd);

			if (r < 0)
				return r;
			if (STATE(sh) != TC_ST_CONNECTING)
				continue;
			if (nonblock)
				return -EAGAIN;
			k_wait(fd, POLLOUT, -1);
			continue;
		}
		case TC_ST_OPENING:
			return -ENOTCONN;     /* another thread is inside connect() */
		case TC_ST_PLAIN:
			return TC_PASS;
		case TC_ST_FAILED:
			return -shm_error(sh);
		default:
			return 0;
		}
	}
}
