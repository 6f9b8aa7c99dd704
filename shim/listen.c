/*
 * listen.c - listen: opt the listener in (its SYN-ACKs then carry b=1); a
 * listener that finds no daemon is tracked all the same (renew.c).
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "renew.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static int tc_listen(int fd, int backlog)
{
	struct tc_sock *s = tc_fd_get(fd);
	struct tc_prefs prefs;
	int r, saved = errno, fresh = 0, via = 0;

	if (s && s->kind != TC_K_PREFS) {       /* listen() again: a new backlog */
		tc_fd_put(s);
		return tc_real_listen(fd, backlog);
	}
	if (!s && !tc_is_tcp_socket(fd))
		return tc_real_listen(fd, backlog);
	if (s)
		prefs = s->prefs;
	else
		tc_prefs_default(&prefs);
	if (!prefs.enable || !tc_config_port_ok(local_port(fd))) {
		tc_fd_put(s);
		errno = saved;
		return tc_real_listen(fd, backlog);
	}
	r = tc_sock_opt_in_via(fd, &prefs, 1, &via);
	if (r < 0) {
		tc_info("fd %d: listener plain (%s)", fd,
		        r == -ENOPROTOOPT ? "tcpcryptd is not running; opted in when it starts" :
		        strerror(-r));
		/* no daemon: tracked, so that renew.c opts it in once one runs */
		if (!tc_cfg.require && r != -ENOPROTOOPT) {
			tc_fd_put(s);
			errno = saved;
			return tc_real_listen(fd, backlog);
		}
	}
	if (!s) {
		s = tc_sock_new(TC_K_LISTEN, &prefs);
		if (!s || tc_fd_set(fd, s) < 0) {
			tc_sock_free(s);
			errno = saved;
			return tc_real_listen(fd, backlog);
		}
		fresh = 1;
	}
	s->kind = TC_K_LISTEN;
	tc_renew_note(s, r, via);
	if (!fresh)
		tc_fd_put(s);
	r = tc_real_listen(fd, backlog);
	if (r == 0) {
		tc_progress_wake();      /* its timer looks at the listener again */
		errno = saved;
	}
	return r;
}

TC_EXPORT int listen(int fd, int backlog)
{
	if (tc_cfg.disable || tc_in_shim)
		return tc_real_listen(fd, backlog);
	return tc_listen(fd, backlog);
}
