/*
 * sock_state.c - what the wrappers ask of a connection or set on it from
 * outside the data path: its state, error, O_NONBLOCK, the sandbox's
 * preparation, and the session's public facts for getsockopt.
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "libc_syms.h"
#include "sock.h"
#include "sock_int.h"

/* The state, checked against what this process knows: once it saw the
 * Init exchange start, a region that says "not negotiated" (plain, or not
 * yet connected) was written by a peer; the connection counts as failed,
 * never as plain TCP to pass through in clear. */
int tc_sock_state(struct tc_sock *s)
{
	int st, sealed;

	if (!s->shm)
		return 0;
	/* sealed first: it is set (release) after the state it follows */
	sealed = __atomic_load_n(&s->sealed, __ATOMIC_ACQUIRE);
	st = STATE(s->shm);
	if (st == TC_ST_HANDSHAKE || st == TC_ST_READY)
		__atomic_store_n(&s->sealed, 1, __ATOMIC_RELEASE);
	else if (st != TC_ST_FAILED && sealed)
		st = TC_ST_FAILED;
	return st;
}

void tc_sock_set_plain(struct tc_sock *s)
{
	if (s->shm)
		SET_STATE(s->shm, TC_ST_PLAIN);
}

void tc_sock_set_connecting(struct tc_sock *s)
{
	if (s->shm && STATE(s->shm) == TC_ST_OPENING)
		SET_STATE(s->shm, TC_ST_CONNECTING);
}

int tc_sock_error(const struct tc_sock *s)
{
	return s->shm ? shm_error(s->shm) : 0;
}

int tc_sock_take_so_error(struct tc_sock *s)
{
	return s->shm ? __atomic_exchange_n(&s->shm->so_error, 0, __ATOMIC_ACQ_REL) : 0;
}

void tc_sock_note_nonblock(struct tc_sock *s, int on)
{
	if (s->shm)
		__atomic_store_n(&s->shm->nonblock, on ? 1 : 0, __ATOMIC_RELAXED);
}

/* ---- seccomp sandbox ---- */

void tc_sock_sandbox(struct tc_sock *s, int fd)
{
	struct tc_shm *sh = s->shm;
	int one = 1;

	if (!sh)
		return;
	tc_sock_note_nonblock(s, tc_fd_nonblocking(fd));
	sh->lowat = 1;
	tc_real_setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
}

/* ---- information ---- */

int tc_sock_sessid(struct tc_sock *s, uint8_t *buf, size_t cap)
{
	struct tc_shm *sh = s->shm;

	if (!sh || tc_sock_state(s) != TC_ST_READY)
		return -ENOTCONN;
	size_t n = SHM_READ(sh->sessid_len);

	if (n > sizeof(sh->sessid))
		return -EPROTO;
	if (cap < n)
		return -EINVAL;
	memcpy(buf, sh->sessid, n);
	return (int)n;
}

int tc_sock_info(struct tc_sock *s, int *role, int *aead, int *peer_app)
{
	struct tc_shm *sh = s->shm;

	if (!sh || STATE(sh) != TC_ST_READY)
		return -ENOTCONN;
	*role = sh->role;
	*aead = sh->aead;
	*peer_app = sh->peer_app;
	return 0;
}
