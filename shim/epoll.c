/*
 * epoll.c - epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2: like poll.c,
 * hides an EPOLLIN that only an Init message caused (the message is
 * consumed here). epoll reports the registration's data, not the fd, so
 * epoll_ctl remembers which (epoll fd, data) pairs name a tcpcrypt socket:
 * a hint table, checked against the socket's own list of registrations.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "deadline.h"
#include "epoll.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "shim.h"
#include "sock.h"
#include "state.h"

#define SLOTS 16384
#define PROBE 32

struct slot {
	int used, epfd, fd;
	uint64_t data;
};

static struct slot slots[SLOTS];
static int nslots;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

/* map_lock is a leaf lock (nothing else is taken while it is held), so
 * taking it last before fork() cannot deadlock. */
void tc_epoll_atfork_prepare(void)
{
	pthread_mutex_lock(&map_lock);
}

void tc_epoll_atfork_parent(void)
{
	pthread_mutex_unlock(&map_lock);
}

/* The forking thread holds it (prepare): the child's copy is released. */
void tc_epoll_atfork_child(void)
{
	pthread_mutex_unlock(&map_lock);
}

/* Registered here, apart from fork.c's handlers (the order between the
 * two does not matter, map_lock being a leaf), and always: an uncontended
 * lock around fork() costs nothing measurable. */
__attribute__((constructor)) static void tc_epoll_init(void)
{
	pthread_atfork(tc_epoll_atfork_prepare, tc_epoll_atfork_parent, tc_epoll_atfork_child);
}

static unsigned hash(int epfd, uint64_t data)
{
	uint64_t h = (data ^ ((uint64_t)(unsigned)epfd << 32)) * 0x9e3779b97f4a7c15ull;

	return (unsigned)(h >> 50) % SLOTS;
}

/* Records (epfd, data) -> fd (fd < 0: forget it). */
static void map_put(int epfd, uint64_t data, int fd)
{
	unsigned h = hash(epfd, data);

	pthread_mutex_lock(&map_lock);
	for (int i = 0; i < PROBE; i++) {
		struct slot *sl = &slots[(h + (unsigned)i) % SLOTS];

		if (sl->used && sl->epfd == epfd && sl->data == data) {
			sl->fd = fd;
			goto out;
		}
	}
	if (fd < 0)
		goto out;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < PROBE; i++) {
			struct slot *sl = &slots[(h + (unsigned)i) % SLOTS];

			if (!sl->used || sl->fd < 0) {
				if (!sl->used)
					__atomic_add_fetch(&nslots, 1, __ATOMIC_RELAXED);
				sl->used = 1;
				sl->epfd = epfd;
				sl->data = data;
				sl->fd = fd;
				goto out;
			}
		}
		/* Full around here: the table is only a hint, start it afresh. */
		memset(slots, 0, sizeof(slots));
		__atomic_store_n(&nslots, 0, __ATOMIC_RELAXED);
	}
out:
	pthread_mutex_unlock(&map_lock);
}

static int map_get(int epfd, uint64_t data)
{
	unsigned h = hash(epfd, data);
	int fd = -1;

	pthread_mutex_lock(&map_lock);
	for (int i = 0; i < PROBE; i++) {
		struct slot *sl = &slots[(h + (unsigned)i) % SLOTS];

		if (sl->used && sl->epfd == epfd && sl->data == data) {
			fd = sl->fd;
			break;
		}
	}
	pthread_mutex_unlock(&map_lock);
	return fd;
}

/* The socket's own record of its registrations (the authority), made
 * through fd. */
static void sock_reg(struct tc_sock *s, int epfd, uint64_t data, uint32_t events, int add, int fd)
{
	int i;

	pthread_mutex_lock(&tc_fd_lock);
	for (i = 0; i < s->nep && s->ep_fd[i] != epfd; i++)
		;
	if (add) {
		if (i < s->nep && s->ep_sfd[i] != fd)
			s->ep_lost = 1;       /* a second registration, through a dup */
		if (i == s->nep && s->nep < 2)
			s->nep++;
		if (i < s->nep) {
			s->ep_fd[i] = epfd;
			s->ep_data[i] = data;
			s->ep_sfd[i] = fd;
			s->ep_events[i] = events;
		} else {
			s->ep_lost = 1;
		}
	} else if (i < s->nep) {
		s->ep_fd[i] = s->ep_fd[s->nep - 1];
		s->ep_data[i] = s->ep_data[s->nep - 1];
		s->ep_sfd[i] = s->ep_sfd[s->nep - 1];
		s->ep_events[i] = s->ep_events[s->nep - 1];
		s->nep--;
	}
	pthread_mutex_unlock(&tc_fd_lock);
}

int tc_epoll_forget(struct tc_sock *s, int fd)
{
	int ep[2], n, lost;

	pthread_mutex_lock(&tc_fd_lock);
	lost = s->ep_lost;
	n = s->nep;
	for (int i = 0; i < n; i++) {
		ep[i] = s->ep_fd[i];
		if (s->ep_sfd[i] != fd)
			lost = 1;
	}
	pthread_mutex_unlock(&tc_fd_lock);
	if (lost)
		return -1;
	for (int i = 0; i < n; i++) {
		/* (EBADF, ENOENT: the set or the registration is gone already) */
		tc_real_epoll_ctl(ep[i], EPOLL_CTL_DEL, fd, NULL);
		sock_reg(s, ep[i], 0, 0, 0, fd);
	}
	return 0;
}

/* 1 if s is registered in epfd with data; *events gets the registration's
 * events. */
static int sock_has_reg(struct tc_sock *s, int epfd, uint64_t data, uint32_t *events)
{
	int r = 0;

	pthread_mutex_lock(&tc_fd_lock);
	for (int i = 0; i < s->nep; i++)
		if (s->ep_fd[i] == epfd && s->ep_data[i] == data) {
			r = 1;
			*events = s->ep_events[i];
		}
	pthread_mutex_unlock(&tc_fd_lock);
	return r;
}

TC_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int r = tc_real_epoll_ctl(epfd, op, fd, ev), saved = errno;
	struct tc_sock *s;

	if (r == 0 && op == EPOLL_CTL_ADD && !__atomic_load_n(&tc_epoll_used, __ATOMIC_RELAXED))
		__atomic_store_n(&tc_epoll_used, 1, __ATOMIC_RELAXED);
	if (r < 0 || tc_in_shim || !__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		return r;
	s = tc_conn_get(fd);
	if (op == EPOLL_CTL_DEL) {
		if (s)
			sock_reg(s, epfd, 0, 0, 0, fd);
	} else if (ev) {
		if (s) {
			sock_reg(s, epfd, ev->data.u64, ev->events, 1, fd);
			map_put(epfd, ev->data.u64, fd);
		} else if (__atomic_load_n(&nslots, __ATOMIC_RELAXED)) {
			map_put(epfd, ev->data.u64, -1);
		}
	}
	tc_fd_put(s);
	errno = saved;
	return r;
}

/* Hides EPOLLIN that only an Init message (or part of a frame) caused;
 * returns the new number of events. The kernel woke the registration for
 * bytes the application will not see: an edge-triggered one reports
 * nothing of that wake-up (its other events were reported before and have
 * not changed), and a one-shot one whose event is dropped is armed again,
 * as if the wake-up had not happened. */
static int filter(int epfd, struct epoll_event *ev, int n)
{
	int out = 0;

	for (int i = 0; i < n; i++) {
		uint32_t e = ev[i].events, reg = 0;
		struct tc_sock *s;
		int fd;

		if ((e & EPOLLIN) && !(e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) &&
		    (fd = map_get(epfd, ev[i].data.u64)) >= 0 && (s = tc_conn_get(fd))) {
			if (!sock_has_reg(s, epfd, ev[i].data.u64, &reg))
				tc_debug("fd %d: epoll registration unknown", fd);
			else {
				tc_in_shim++;
				if (tc_sock_hide_pollin(s, fd)) {
					e &= ~(uint32_t)(EPOLLIN | EPOLLRDNORM);
					if (reg & EPOLLET)
						e = 0;
					if (!e && (reg & EPOLLONESHOT)) {
						struct epoll_event again = { .events = reg, .data = ev[i].data };

						tc_real_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &again);
					}
				}
				tc_in_shim--;
			}
			tc_fd_put(s);
		}
		if (!e)
			continue;
		ev[out] = ev[i];
		ev[out].events = e;
		out++;
	}
	return out;
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits through wait(ms), filtering, for at most timeout ms overall. Every
 * round's events are filtered, however many rounds hid all of theirs: an
 * event returned unfiltered could name a socket whose read then answers
 * EAGAIN (an Init message taken, no data). A hidden wake-up does not come
 * back: its bytes were taken, or the low-water mark now covers them. */
static int wait_filtered(int epfd, struct epoll_event *ev, int max, int timeout,
                         int (*wait)(int, struct epoll_event *, int, int, const sigset_t *),
                         const sigset_t *mask)
{
	long end = timeout > 0 ? ms_now() + timeout : 0;
	int left = timeout, r;

	for (;;) {
		r = wait(epfd, ev, max, left, mask);
		if (r <= 0 || !__atomic_load_n(&nslots, __ATOMIC_RELAXED))
			return r;
		int saved = errno;
		r = filter(epfd, ev, r);
		errno = saved;
		if (r > 0 || timeout == 0)
			return r;
		if (timeout > 0 && (left = (int)(end - ms_now())) <= 0)
			return 0;
	}
}

static int do_pwait(int epfd, struct epoll_event *ev, int max, int t, const sigset_t *m)
{
	return m ? tc_real_epoll_pwait(epfd, ev, max, t, m) : tc_real_epoll_wait(epfd, ev, max, t);
}

TC_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	if (!__atomic_load_n(&nslots, __ATOMIC_RELAXED) || tc_in_shim)
		return tc_real_epoll_wait(epfd, ev, max, timeout);
	return wait_filtered(epfd, ev, max, timeout, do_pwait, NULL);
}

TC_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *m)
{
	if (!__atomic_load_n(&nslots, __ATOMIC_RELAXED) || tc_in_shim)
		return tc_real_epoll_pwait(epfd, ev, max, timeout, m);
	return wait_filtered(epfd, ev, max, timeout, do_pwait, m);
}

TC_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *t,
                           const sigset_t *m)
{
	struct timespec end, left;
	int r;

	if (!__atomic_load_n(&nslots, __ATOMIC_RELAXED) || tc_in_shim)
		return tc_real_epoll_pwait2(epfd, ev, max, t, m);
	if (t) {
		tc_deadline_start(&end, t);
		left = *t;
	}
	for (;;) {
		r = tc_real_epoll_pwait2(epfd, ev, max, t ? &left : NULL, m);
		if (r <= 0)
			return r;
		int saved = errno;
		r = filter(epfd, ev, r);
		errno = saved;
		if (r > 0 || (t && !t->tv_sec && !t->tv_nsec))
			return r;
		if (t && !tc_deadline_left(&end, &left))
			return 0;
	}
}
