/*
 * cloexec.c - see cloexec.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cloexec.h"
#include "cloexec_bits.h"
#include "fdtable.h"
#include "fork.h"
#include "libc_syms.h"
#include "shim.h"
#include "sock.h"

#define MAX_DUPS 64

int tc_cloexec_needed(struct tc_sock *s)
{
	int st;

	if (!s || s->kind != TC_K_CONN)
		return 0;
	st = tc_sock_state(s);
	return st == TC_ST_HANDSHAKE || st == TC_ST_READY || st == TC_ST_FAILED;
}

void tc_cloexec_mark(int fd)
{
	int fl;

	/* a seccomp sandbox may kill on fcntl; such a process execs nothing */
	if (__atomic_load_n(&tc_sandboxed, __ATOMIC_ACQUIRE))
		return;
	fl = tc_real_fcntl(fd, F_GETFD, 0);

	if (fl < 0 || (fl & FD_CLOEXEC))
		return;                  /* the application's own flag, or no fd */
	if (tc_real_fcntl(fd, F_SETFD, (long)(fl | FD_CLOEXEC)) == 0)
		tc_cloexec_bit_set(fd, 1);
}

void tc_cloexec_negotiated(struct tc_sock *s, int fd)
{
	int fds[MAX_DUPS], n;

	tc_cloexec_mark(fd);
	if (__atomic_load_n(&s->nfds, __ATOMIC_RELAXED) < 2)
		return;
	n = tc_fd_find(s, fds, MAX_DUPS);
	for (int i = 0; i < n; i++)
		if (fds[i] != fd)
			tc_cloexec_mark(fds[i]);
}

/* Table lock held. */
static void sweep_one(int fd, struct tc_sock *s, void *arg)
{
	(void)arg;
	if (tc_cloexec_needed(s))
		tc_cloexec_mark(fd);
}

void tc_cloexec_sweep(void)
{
	if (__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) && !tc_in_shim && getpid() == tc_pid)
		tc_fd_foreach(sweep_one, NULL);
}

void tc_cloexec_kernel(int fd, int on)
{
	int fl = tc_real_fcntl(fd, F_GETFD, 0);

	if (fl >= 0)
		tc_real_fcntl(fd, F_SETFD, (long)(on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC));
}

/* 1 if fd is a connection that must stay close-on-exec. */
static int needed_fd(int fd)
{
	struct tc_sock *s = tc_conn_get(fd);
	int r = tc_cloexec_needed(s);

	tc_fd_put(s);
	return r;
}

int tc_cloexec_getfd(int fd)
{
	int r = tc_real_fcntl(fd, F_GETFD, 0);

	if (r >= 0 && tc_cloexec_hidden(fd))
		r &= ~FD_CLOEXEC;
	return r;
}

/* In a vfork or clone child, which shares our memory but has fds of its
 * own, the kernel flag stays set (it cannot hand connections over) and
 * the parent's bits are left alone. */
int tc_cloexec_setfd(int fd, long arg)
{
	int r;

	if (!needed_fd(fd)) {
		r = tc_real_fcntl(fd, F_SETFD, arg);
		if (r == 0 && tc_cloexec_hidden(fd) && getpid() == tc_pid)
			tc_cloexec_bit_set(fd, 0);
		return r;
	}
	r = tc_real_fcntl(fd, F_SETFD, arg | FD_CLOEXEC);
	if (r == 0 && getpid() == tc_pid)
		tc_cloexec_bit_set(fd, !(arg & FD_CLOEXEC));
	return r;
}

int tc_cloexec_ioctl(int fd, int on)
{
	int r;

	if (!on && needed_fd(fd)) {
		if (getpid() == tc_pid)
			tc_cloexec_bit_set(fd, 1);
		return 0;
	}
	r = tc_real_ioctl(fd, on ? FIOCLEX : FIONCLEX, NULL);
	if (r == 0 && tc_cloexec_hidden(fd) && getpid() == tc_pid)
		tc_cloexec_bit_set(fd, 0);
	return r;
}
