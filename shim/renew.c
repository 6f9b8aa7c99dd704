/*
 * renew.c - see renew.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "divert_client.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "renew.h"
#include "shim.h"
#include "sock.h"
#include "tcpcrypt/divert_proto.h"
#include "tcpcrypt/eno_abi.h"
#include "state.h"

#define MAX_DUE 64

long long tc_renew_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tc_renew_note(struct tc_sock *s, int r, int via_divert)
{
	s->opted_in = r == 0;
	s->divert_id = r == 0 && via_divert ? tc_divert_id() : 0;
	s->renew_ms = tc_renew_now() + TC_RENEW_MS;
	__atomic_store_n(&tc_renew_dirty, 1, __ATOMIC_RELEASE);
}

void tc_renew_poke(struct tc_sock *s)
{
	if (tc_renew_now() < __atomic_load_n(&s->renew_ms, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&tc_renew_dirty, 1, __ATOMIC_RELEASE);
	tc_progress_wake();
}

/* 1 if fd carries the divert backend's mark. */
static int divert_marked(int fd)
{
	uint32_t mark = 0;
	socklen_t ml = sizeof(mark);

	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &ml) < 0)
		return 0;
	return (mark & TCD_MARK_MASK) == TCD_MARK;
}

/* Does the daemon serving us now know listener fd's opt-in? 1 yes, 0 no,
 * -1 cannot tell. */
static int probe(const struct tc_sock *s, int fd)
{
	struct tcpcrypt_eno_result res;
	socklen_t len = sizeof(res);
	uint64_t id;

	if (tc_real_getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &res, &len) == 0)
		return (res.flags & TCPCRYPT_RES_F_OPTED_IN) != 0;
	if (errno == ENOENT)
		return 0;                /* eBPF programs there, opt-in gone */
	if (errno != ENOPROTOOPT)
		return -1;
	/* no eBPF programs: divert, if its daemon is the one we asked */
	id = __atomic_load_n(&s->divert_id, __ATOMIC_RELAXED);
	if (!id || id != tc_divert_id())
		return 0;
	return divert_marked(fd);
}

/* Looks at listener s (fd: a private copy of the application's lfd) if
 * due: opts it in again when the daemon does not know it. */
static void check(struct tc_sock *s, int fd, int lfd)
{
	long long now = tc_renew_now(), due = __atomic_load_n(&s->renew_ms, __ATOMIC_RELAXED);
	int saved = errno, was, ok, r, via = 0;

	if (now < due || tc_sandboxed ||
	    !__atomic_compare_exchange_n(&s->renew_ms, &due, now + TC_RENEW_MS, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return;
	tc_in_shim++;
	was = __atomic_load_n(&s->opted_in, __ATOMIC_RELAXED);
	ok = probe(s, fd);
	if (ok > 0) {
		if (!was)
			tc_info("fd %d: listener now opted in (by another process)", lfd);
		__atomic_store_n(&s->opted_in, 1, __ATOMIC_RELAXED);
		goto out;
	}
	if (ok < 0)
		goto out;
	r = tc_sock_opt_in_via(fd, &s->prefs, 1, &via);
	if (r == 0 || r == -EOPNOTSUPP) {
		__atomic_store_n(&s->divert_id, via ? tc_divert_id() : 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->opted_in, 1, __ATOMIC_RELAXED);
		if (r == -EOPNOTSUPP && !s->renew_said) {
			s->renew_said = 1;
			tc_info("fd %d: this kernel cannot opt in a socket that already listens "
				"(Linux >= 6.12 can): the listener stays plain until the program "
				"listens again", lfd);
		} else if (r == 0) {
			tc_info("fd %d: listener opted in again (tcpcryptd started or restarted)", lfd);
		}
	} else {
		if (was)
			tc_info("fd %d: listener plain until tcpcryptd returns (%s)", lfd,
				r == -ENOPROTOOPT ? "tcpcryptd is not running" : strerror(-r));
		__atomic_store_n(&s->opted_in, 0, __ATOMIC_RELAXED);
	}
out:
	tc_in_shim--;
	errno = saved;
}

int tc_renew_child_opted(int c)
{
	struct tcpcrypt_eno_result res;
	socklen_t len = sizeof(res);
	int saved = errno, r;

	if (tc_real_getsockopt(c, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &res, &len) == 0)
		r = (res.flags & TCPCRYPT_RES_F_OPTED_IN) != 0;
	else
		r = errno == ENOPROTOOPT && divert_marked(c);
	errno = saved;
	return r;
}

struct due {
	int n, nlisten;
	long long now, next;
	int fd[MAX_DUE], lfd[MAX_DUE];
	struct tc_sock *s[MAX_DUE];
};

/* Table walk (tc_fd_lock held): takes a reference and a private fd of
 * each due listener, so that the work is done without any lock and on a
 * socket the application cannot close or replace under us. */
static void collect(int fd, struct tc_sock *s, void *arg)
{
	struct due *d = arg;
	long long at;
	int c;

	if (s->kind != TC_K_LISTEN)
		return;
	d->nlisten++;
	at = __atomic_load_n(&s->renew_ms, __ATOMIC_RELAXED);
	if (at > d->now || d->n >= MAX_DUE) {
		if (at < d->next)
			d->next = at;
		return;
	}
	c = tc_real_fcntl(fd, F_DUPFD_CLOEXEC, 0L);
	if (c < 0)
		return;
	s->refs++;
	d->fd[d->n] = c;
	d->lfd[d->n] = fd;
	d->s[d->n++] = s;
	if (d->now + TC_RENEW_MS < d->next)
		d->next = d->now + TC_RENEW_MS;
}

int tc_renew_all(void)
{
	struct due d;

	if (tc_sandboxed)
		return -1;
	d.now = tc_renew_now();
	if (!__atomic_exchange_n(&tc_renew_dirty, 0, __ATOMIC_ACQUIRE)) {
		if (tc_renew_next_walk < 0)
			return -1;
		if (d.now < tc_renew_next_walk)
			return (int)(tc_renew_next_walk - d.now) + 1;
	}
	d.n = d.nlisten = 0;
	d.next = d.now + TC_RENEW_MS;
	tc_fd_foreach(collect, &d);
	for (int i = 0; i < d.n; i++) {
		check(d.s[i], d.fd[i], d.lfd[i]);
		tc_real_close(d.fd[i]);
		tc_fd_put(d.s[i]);
	}
	tc_renew_next_walk = d.nlisten ? d.next : -1;
	if (!d.nlisten)
		return -1;
	return d.next > d.now ? (int)(d.next - d.now) + 1 : 1;
}
