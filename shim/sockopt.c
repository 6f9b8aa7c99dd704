/*
 * sockopt.c - getsockopt, setsockopt: the TCP_CRYPT_* options at level
 * IPPROTO_TCP, SO_ERROR, which reports handshake failures, and
 * SO_OOBINLINE of encrypted connections.
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "eno_source.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt/tcpcrypt.h"

#define TC_SESSID_WAIT_MS 10000

static int is_crypt_opt(int level, int name)
{
	return level == IPPROTO_TCP && name >= TCP_CRYPT_SESSID && name <= TCP_CRYPT_ENO_RESULT;
}

static int put_int(void *v, socklen_t *l, int x)
{
	if (!v || !l || *l < sizeof(int))
		return -EINVAL;
	memcpy(v, &x, sizeof(x));
	*l = sizeof(int);
	return 0;
}

/* TCP_CRYPT_ENO_RESULT: the ENO result of fd as the kernel's programs
 * hold it, or as the divert daemon does; also for a connection that fell
 * back to plain TCP (which the shim no longer tracks). */
static int eno_result(int fd, void *v, socklen_t *l)
{
	struct tcpcrypt_eno_result res;
	socklen_t len = sizeof(res);
	int r, final;

	if (!v || !l || *l < sizeof(res))
		return -EINVAL;
	memset(&res, 0, sizeof(res));
	r = tc_eno_src->result(fd, &res, &len, &final);
	if (r < 0)
		return r;
	memcpy(v, &res, sizeof(res));
	*l = sizeof(res);
	return 0;
}

static int crypt_get(int fd, int name, void *v, socklen_t *l)
{
	struct tc_sock *s = tc_fd_maybe(fd) ? tc_fd_get(fd) : NULL;
	struct tc_prefs def, *p;
	int r = 0, role, aead, peer;

	if (!s && !tc_is_tcp_socket(fd))
		return TC_PASS;
	if (name == TCP_CRYPT_ENO_RESULT) {
		tc_fd_put(s);
		return eno_result(fd, v, l);
	}
	tc_prefs_default(&def);
	p = s ? &s->prefs : &def;
	if (s && s->kind == TC_K_CONN && name != TCP_CRYPT_ENABLE && name != TCP_CRYPT_APP_AWARE &&
	    name != TCP_CRYPT_PASSIVE && name != TCP_CRYPT_AEAD_LIST &&
	    (tc_sock_state(s) == TC_ST_CONNECTING || tc_sock_state(s) == TC_ST_HANDSHAKE)) {
		/* Negotiated, keys on their way: the answer is a moment off. */
		tc_in_shim++;
		tc_sock_wait_ready(s, fd, TC_SESSID_WAIT_MS);
		tc_in_shim--;
	}
	switch (name) {
	case TCP_CRYPT_SESSID: {
		uint8_t id[TCPCRYPT_SESSID_MAX];

		r = s ? tc_sock_sessid(s, id, sizeof(id)) : -ENOTCONN;
		if (r >= 0) {
			if (!v || !l || *l < (socklen_t)r) {
				r = -EINVAL;
			} else {
				memcpy(v, id, (size_t)r);
				*l = (socklen_t)r;
				r = 0;
			}
		}
		break;
	}
	case TCP_CRYPT_ROLE:
	case TCP_CRYPT_AEAD:
	case TCP_CRYPT_PEER_APP_AWARE:
		r = s ? tc_sock_info(s, &role, &aead, &peer) : -ENOTCONN;
		if (r == 0)
			r = put_int(v, l, name == TCP_CRYPT_ROLE ? role : name == TCP_CRYPT_AEAD ? aead : peer);
		break;
	case TCP_CRYPT_APP_AWARE:
		r = put_int(v, l, p->app_aware);
		break;
	case TCP_CRYPT_PASSIVE:
		r = put_int(v, l, p->passive);
		break;
	case TCP_CRYPT_ENABLE:
		r = put_int(v, l, s && s->kind == TC_K_CONN && (tc_sock_state(s) == TC_ST_READY ||
		                                                 tc_sock_state(s) == TC_ST_HANDSHAKE));
		break;
	case TCP_CRYPT_AEAD_LIST: {
		uint16_t list[TC_MAX_AEADS];
		size_t n = p->naeads ? p->naeads : tc_aead_default_list(list, TC_MAX_AEADS);

		if (p->naeads)
			memcpy(list, p->aeads, n * sizeof(uint16_t));
		if (!v || !l || *l < n * sizeof(uint16_t)) {
			r = -EINVAL;
		} else {
			memcpy(v, list, n * sizeof(uint16_t));
			*l = (socklen_t)(n * sizeof(uint16_t));
		}
		break;
	}
	default:
		r = -ENOPROTOOPT;
	}
	tc_fd_put(s);
	return r;
}

static int get_int(const void *v, socklen_t l, int *x)
{
	if (!v || l < sizeof(int))
		return -EINVAL;
	memcpy(x, v, sizeof(int));
	return 0;
}

static int crypt_set(int fd, int name, const void *v, socklen_t l)
{
	struct tc_sock *s = tc_in_shim ? NULL : tc_fd_get(fd);
	int r = 0, x = 0, fresh = 0;

	if (!s) {
		if (!tc_is_tcp_socket(fd))
			return TC_PASS;
		s = tc_sock_new(TC_K_PREFS, NULL);
		if (!s)
			return -ENOMEM;
		if ((r = tc_fd_set(fd, s)) < 0) {
			tc_sock_free(s);
			return r;
		}
		fresh = 1;
	}
	if (s->kind != TC_K_PREFS) {
		r = s->kind == TC_K_CONN ? -EISCONN : -EINVAL;
		goto out;
	}
	switch (name) {
	case TCP_CRYPT_APP_AWARE:
		if ((r = get_int(v, l, &x)) == 0 && (x < 0 || x > 2))
			r = -EINVAL;
		if (r == 0)
			s->prefs.app_aware = (uint8_t)x;
		break;
	case TCP_CRYPT_PASSIVE:
		if ((r = get_int(v, l, &x)) == 0)
			s->prefs.passive = x != 0;
		break;
	case TCP_CRYPT_ENABLE:
		if ((r = get_int(v, l, &x)) == 0)
			s->prefs.enable = x != 0;
		break;
	case TCP_CRYPT_AEAD_LIST: {
		uint16_t list[TC_MAX_AEADS];
		size_t n = l / sizeof(uint16_t);

		if (!v || l == 0 || l % sizeof(uint16_t) || n > TC_MAX_AEADS) {
			r = -EINVAL;
			break;
		}
		memcpy(list, v, l);
		for (size_t i = 0; i < n; i++)
			if (!tc_aead_supported(list[i]))
				r = -EINVAL;
		if (r == 0) {
			memcpy(s->prefs.aeads, list, l);
			s->prefs.naeads = (uint8_t)n;
		}
		break;
	}
	default:
		r = -ENOPROTOOPT;   /* the get-only options */
	}
out:
	if (!fresh)
		tc_fd_put(s);
	return r;
}

/* SO_ERROR: completes a pending connect (whose handshake may fail) and
 * reports the shim's error, if any, before the kernel's. */
static int so_error(int fd, void *v, socklen_t *l, int *handled)
{
	struct tc_sock *s = tc_conn_get(fd);
	int e;

	*handled = 0;
	if (!s)
		return 0;
	tc_in_shim++;
	if (tc_sock_state(s) == TC_ST_CONNECTING)
		tc_sock_check_connect(s, fd);
	tc_in_shim--;
	e = tc_sock_take_so_error(s);
	tc_fd_put(s);
	if (!e)
		return 0;
	*handled = 1;
	return put_int(v, l, e);
}

/* SO_OOBINLINE of an encrypted connection: the application's value,
 * applied to the plaintext (the kernel's stays 1, sock_urg.c). */
static int oobinline(int fd, int set, void *v, socklen_t *l, socklen_t setlen, int *handled)
{
	struct tc_sock *s = tc_conn_get(fd);
	int r, x = 0;

	*handled = 0;
	if (!s)
		return 0;
	if (set && (r = get_int(v, setlen, &x)) < 0) {
		tc_fd_put(s);
		*handled = 1;
		return r;
	}
	r = tc_sock_oobinline(s, fd, set, &x);
	tc_fd_put(s);
	if (r == TC_PASS)
		return 0;
	*handled = 1;
	return set ? r : put_int(v, l, x);
}

TC_EXPORT int getsockopt(int fd, int level, int name, void *v, socklen_t *l)
{
	int saved = errno, r, handled;

	if (tc_cfg.disable || tc_in_shim)
		return tc_real_getsockopt(fd, level, name, v, l);
	if (is_crypt_opt(level, name)) {
		r = crypt_get(fd, name, v, l);
		if (r == TC_PASS)
			return tc_real_getsockopt(fd, level, name, v, l);
		return (int)tc_ret(r, saved);
	}
	if (level == SOL_SOCKET && name == SO_ERROR && tc_fd_maybe(fd)) {
		r = so_error(fd, v, l, &handled);
		if (handled)
			return (int)tc_ret(r, saved);
	}
	if (level == SOL_SOCKET && name == SO_OOBINLINE && tc_fd_maybe(fd)) {
		r = oobinline(fd, 0, v, l, 0, &handled);
		if (handled)
			return (int)tc_ret(r, saved);
	}
	return tc_real_getsockopt(fd, level, name, v, l);
}

TC_EXPORT int setsockopt(int fd, int level, int name, const void *v, socklen_t l)
{
	int saved = errno, r;

	if (tc_cfg.disable || tc_in_shim)
		return tc_real_setsockopt(fd, level, name, v, l);
	if (level == IPPROTO_TCP && name == TCP_FASTOPEN_CONNECT && tc_is_tcp_socket(fd)) {
		/* Data in the SYN is not allowed with ENO: accept the option and
		 * let connect() be an ordinary one. */
		errno = saved;
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_OOBINLINE && tc_fd_maybe(fd)) {
		int handled;

		r = oobinline(fd, 1, (void *)(uintptr_t)v, NULL, l, &handled);
		if (handled)
			return (int)tc_ret(r, saved);
	}
	if (!is_crypt_opt(level, name))
		return tc_real_setsockopt(fd, level, name, v, l);
	r = crypt_set(fd, name, v, l);
	if (r == TC_PASS)
		return tc_real_setsockopt(fd, level, name, v, l);
	return (int)tc_ret(r, saved);
}
