/*
 * sock_init.c - the Init exchange on the receive side, and what happens
 * when the keys are set.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <sodium.h>

#include "eno_source.h"
#include "keylog.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "sock.h"
#include "sock_int.h"
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt/tcpcrypt.h"

/* ---- keys ---- */

/* The keys are set: remember the session's public facts, tell the kernel
 * programs (tcnetstat), and flush what the application already wrote. */
void keys_set(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	struct tcpcrypt_eno_report rep;
	char hex[2 * TCPCRYPT_SESSID_MAX + 1];
	int n;

	lock(&sh->sess_lock);
	n = tc_session_sessid(SESS(sh), sh->sessid, sizeof(sh->sessid));
	sh->aead = tc_session_aead(SESS(sh));
	unlock(&sh->sess_lock);
	n = n > 0 && (size_t)n <= sizeof(sh->sessid) ? n : 0;
	sh->sessid_len = (uint8_t)n;
	sh->fresh = 1;
	SET_STATE(sh, TC_ST_READY);
	rx_arm(sh, fd);

	memset(&rep, 0, sizeof(rep));
	rep.version = TCPCRYPT_ENO_ABI_VERSION;
	rep.role = sh->role;
	rep.aead = sh->aead;
	rep.sessid_len = (uint8_t)n;
	memcpy(rep.sessid, sh->sessid, (size_t)n);
	if (!SANDBOXED())
		tc_eno_src->report(fd, &rep);

	if (tc_log_level >= TC_LOG_INFO) {
		sodium_bin2hex(hex, sizeof(hex), sh->sessid, (size_t)n);
		tc_info("fd %d: tcpcrypt session, role %c, %s, id %s", fd, sh->role ? 'B' : 'A',
		        tc_aead_name(sh->aead), hex);
	}
	if (trylock(&sh->tx_lock) == 0) {
		tx_flush(s, fd, 1);
		unlock(&sh->tx_lock);
	}
	if (tx_pending(sh))
		tc_progress_kick_fd(fd);
}

/* Runs the Init exchange on the receive side (rx_lock held): peeks at the
 * stream, hands the engine what it has, and reads exactly the bytes that
 * belonged to the Init message, so frames stay in the kernel. */
int rx_handshake(struct tc_sock *s, int fd, int nonblock)
{
	struct tc_shm *sh = s->shm;
	uint8_t in[TC_INIT_MAX], out[TC_HANDSHAKE_MAX];
	size_t want = sizeof(in);
	int waitall = 0;

	while (STATE(sh) == TC_ST_HANDSHAKE) {
		size_t consumed = 0, outlen = 0;
		ssize_t n;
		int r;

		n = k_recv(fd, in, want, MSG_PEEK | (nonblock ? MSG_DONTWAIT : 0) | (waitall ? MSG_WAITALL : 0));
		if (n == 0 && sh->shut_rd)
			return 0;
		if (n == 0) {
			abort_conn(sh, fd, ECONNRESET, "connection closed during the Init exchange");
			return -ECONNRESET;
		}
		if (n < 0)
			return (int)n;
		lock(&sh->sess_lock);
		/* (the key log's callback per call: the session holds no pointer) */
		r = tc_session_handshake_log(SESS(sh), in, (size_t)n, &consumed, out, sizeof(out), &outlen,
		                             tc_keylog_enabled() ? tc_keylog_line : NULL, NULL);
		unlock(&sh->sess_lock);
		if (consumed > (size_t)n)
			consumed = (size_t)n;
		while (consumed) {
			ssize_t d = k_recv(fd, in, consumed, MSG_DONTWAIT);

			if (d <= 0)
				break;
			consumed -= (size_t)d;
		}
		if (r < 0) {
			if (tc_log_level >= TC_LOG_DEBUG) {
				char hex[2 * 24 + 1];

				sodium_bin2hex(hex, sizeof(hex), in, (size_t)n < 24 ? (size_t)n : 24);
				tc_debug("fd %d: bad Init message (%zd bytes: %s...)", fd, n, hex);
			}
			abort_conn(sh, fd, engine_errno(r), tc_strerror(r));
			return -shm_error(sh);
		}
		if (outlen) {
			size_t off, len;

			lock(&sh->tx_lock);
			if (tx_view(sh, &off, &len) < 0 || outlen > sizeof(sh->tx) - len) {
				unlock(&sh->tx_lock);
				return region_corrupt(sh, fd, "shared region: send queue");
			}
			memcpy(sh->tx + len, out, outlen);
			sh->tx_len = len + outlen;
			tx_flush(s, fd, 1);
			unlock(&sh->tx_lock);
			if (tx_pending(sh))
				tc_progress_kick_fd(fd);
		}
		if (r == 1) {
			keys_set(s, fd);
			break;
		}
		/* The engine took nothing: it needs more than is there. */
		if (r == 0 && consumed == 0 && outlen == 0) {
			if (nonblock)
				return -EAGAIN;
			want = (size_t)n + 1 < sizeof(in) ? (size_t)n + 1 : sizeof(in);
			waitall = 1;
		} else {
			want = sizeof(in);
			waitall = 0;
		}
	}
	return STATE(sh) == TC_ST_FAILED ? -shm_error(sh) : 0;
}
