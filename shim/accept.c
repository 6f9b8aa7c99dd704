/*
 * accept.c - accept, accept4: a negotiated child becomes a B session; its
 * Init exchange happens lazily (first I/O or the progress thread), so
 * accept() never waits for Init1.
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "close.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "renew.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"

/* Resets and closes a child that may not be used (TCPCRYPT_REQUIRE). */
static void reject(int c)
{
	struct linger lg = { 1, 0 };

	tc_real_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	tc_real_close(c);
}

/* Sets up the session glue for child c of listener s. Returns c, or -1
 * with errno when the child was refused. */
static int adopt(struct tc_sock *ls, int c)
{
	struct tc_sock *cs;
	int r, last;

	if (!__atomic_load_n(&ls->opted_in, __ATOMIC_RELAXED)) {
		tc_renew_poke(ls);
		if (tc_renew_child_opted(c))
			goto track;     /* another process opted the listener in */
		if (!tc_cfg.require)
			return c;
		tc_err("fd %d: incoming connection without tcpcrypt refused (TCPCRYPT_REQUIRE)", c);
		reject(c);
		errno = ECONNABORTED;
		return -1;
	}
track:
	tc_fd_forget_stale(c);
	cs = tc_sock_new(TC_K_CONN, &ls->prefs);
	if (!cs || tc_sock_make_conn(cs, TC_ST_OPENING) < 0 || tc_fd_set(c, cs) < 0) {
		/* It may have negotiated: never hand it out untracked. */
		if (cs)
			tc_sock_free(cs);
		tc_err("fd %d: cannot track the connection; refused", c);
		reject(c);
		errno = ECONNABORTED;
		return -1;
	}
	cs->opted_in = 1;
	r = tc_sock_start(cs, c, 0);
	if (r < 0 || tc_sock_state(cs) == TC_ST_PLAIN) {
		tc_renew_poke(ls);      /* the daemon may have been restarted */
		tc_progress_lock();
		cs = tc_fd_take(c, &last);
		tc_progress_unlock();
		tc_fd_put(cs);
		if (r < 0) {
			tc_real_close(c);
			errno = ECONNABORTED;
			return -1;
		}
	}
	return c;
}

static int tc_accept(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	struct tc_sock *s = tc_fd_get(fd);
	int c, saved = errno;

	if (!s || s->kind != TC_K_LISTEN) {
		tc_fd_put(s);
		return tc_real_accept4(fd, a, l, flags);
	}
	c = tc_real_accept4(fd, a, l, flags);
	if (c >= 0) {
		tc_in_shim++;
		c = adopt(s, c);
		tc_in_shim--;
		if (c >= 0)
			errno = saved;
	}
	tc_fd_put(s);
	return c;
}

TC_EXPORT int accept(int fd, struct sockaddr *a, socklen_t *l)
{
	if (!tc_fd_maybe(fd))
		return tc_real_accept(fd, a, l);
	return tc_accept(fd, a, l, 0);
}

TC_EXPORT int accept4(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	if (!tc_fd_maybe(fd))
		return tc_real_accept4(fd, a, l, flags);
	return tc_accept(fd, a, l, flags);
}
