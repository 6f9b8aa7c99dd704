/*
 * connect.c - connect: the opt-in, then the real connect; it returns when
 * TCP's handshake is done (Init1 sent), as plain TCP's does, and the Init
 * exchange ends in the background.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "close.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"

static uint16_t addr_port(const struct sockaddr *a, socklen_t len)
{
	if (a->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return 0;
}

/* A repeated connect() on a socket already connecting (non-blocking
 * retries, EALREADY/EISCONN): the kernel answers; then look at completion. */
static int reconnect(struct tc_sock *s, int fd, const struct sockaddr *a, socklen_t len)
{
	int r = tc_real_connect(fd, a, len), e = errno;

	if (tc_sock_state(s) == TC_ST_CONNECTING && (r == 0 || e == EISCONN)) {
		int q = tc_sock_check_connect(s, fd);

		if (q < 0) {
			errno = -q;
			return -1;
		}
	}
	errno = e;
	return r;
}

static int tc_connect(int fd, const struct sockaddr *a, socklen_t len)
{
	struct tc_sock *s;
	struct tc_prefs prefs;
	int r, e, saved = errno, fresh = 0;

	s = tc_fd_get(fd);
	if (s && s->kind == TC_K_CONN) {
		r = reconnect(s, fd, a, len);
		tc_fd_put(s);
		return r;
	}
	if (!s && !tc_is_tcp_socket(fd))
		return tc_real_connect(fd, a, len);
	if (s)
		prefs = s->prefs;
	else
		tc_prefs_default(&prefs);
	if (!prefs.enable || !tc_config_port_ok(addr_port(a, len))) {
		tc_fd_put(s);
		errno = saved;
		return tc_real_connect(fd, a, len);
	}
	r = tc_sock_opt_in(fd, &prefs, 0);
	if (r < 0) {
		tc_fd_put(s);
		if (tc_cfg.require) {
			tc_err("fd %d: tcpcrypt unavailable (%s); TCPCRYPT_REQUIRE: connect refused",
			       fd, r == -ENOPROTOOPT ? "tcpcryptd is not running" : strerror(-r));
			errno = ECONNREFUSED;
			return -1;
		}
		tc_info("fd %d: plain TCP (%s)", fd,
		        r == -ENOPROTOOPT ? "tcpcryptd is not running" : strerror(-r));
		errno = saved;
		return tc_real_connect(fd, a, len);
	}
	if (!s) {
		s = tc_sock_new(TC_K_CONN, &prefs);
		if (!s || tc_fd_set(fd, s) < 0) {
			if (s)
				tc_sock_free(s);
			tc_err("fd %d: cannot track the socket; connect refused", fd);
			errno = ENOBUFS;
			return -1;
		}
		fresh = 1;       /* our use rides on the table's reference */
	}
	s->opted_in = 1;
	if (tc_sock_make_conn(s, TC_ST_OPENING) < 0) {
		/* The kernel has our offer: never let this socket go out plain. */
		tc_err("fd %d: no memory for the session; connect refused", fd);
		s->kind = TC_K_PREFS;
		if (!fresh)
			tc_fd_put(s);
		errno = ENOBUFS;
		return -1;
	}
	r = tc_real_connect(fd, a, len);
	e = errno;
	if (r < 0 && (e == EINPROGRESS || e == EINTR))
		tc_sock_set_connecting(s);
	if (r == 0) {
		/* Returns now, as plain TCP's connect does once the handshake
		 * is done: the Init exchange ends in the background (progress
		 * thread, or the first read), data written meanwhile waits for
		 * the keys; waiting here for Init2 would wait for the server
		 * program's accept() (forever, if it never accepts, or if this
		 * very thread is to accept it). */
		tc_in_shim++;         /* a signal handler must not wait for our locks */
		r = tc_sock_start(s, fd, 0);
		tc_in_shim--;
		if (r < 0) {
			e = -r;
			r = -1;
		} else {
			e = saved;
		}
	} else if (e == EINPROGRESS || e == EINTR) {
		tc_progress_kick_fd(fd);
	} else {
		/* Failed outright: nothing to encrypt; the kernel's error stands. */
		tc_sock_set_plain(s);
	}
	if (!fresh)
		tc_fd_put(s);
	errno = e;
	return r;
}

TC_EXPORT int connect(int fd, const struct sockaddr *a, socklen_t len)
{
	if (a && len >= sizeof(sa_family_t) && a->sa_family == AF_UNSPEC && !tc_in_shim) {
		/* Disconnect (the kernel resets the connection): the session ends
		 * with it, and the socket may connect again afresh. */
		tc_fd_forget_stale(fd);
		return tc_real_connect(fd, a, len);
	}
	if (tc_cfg.disable || tc_in_shim || !a || len < sizeof(sa_family_t) ||
	    (a->sa_family != AF_INET && a->sa_family != AF_INET6))
		return tc_real_connect(fd, a, len);
	return tc_connect(fd, a, len);
}
