/*
 * guard.c - the shim's side of the eBPF guard. On the eBPF backend,
 * the shim enrols every socket it opts in to ENO in tcpcryptd's guard, which
 * arms itself when ENO succeeds: from then on a segment carrying a byte
 * beyond what the shim declared never leaves
 * (tools/tcpcryptd/bpf/progs/tcpcrypt_guard.bpf.c). The shim declares each
 * write of sealed bytes just before making it (TCPCRYPT_GUARD_GRANT
 * through the cgroup setsockopt hook, never seen by the kernel's TCP) and
 * gives back what a short write left unused. When the guard answers EPIPE,
 * something else wrote on the connection (io_uring, raw system calls): its
 * bytes are held on the host forever, so the shim aborts the connection
 * (RST) and fails the write.
 * Without the guard (divert backend, kernel refused it, socket not
 * negotiated) the declaration fails with ENOPROTOOPT or ENOENT: the
 * connection's tc_sock remembers it and no declaration is made again.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "guard.h"
#include "libc_syms.h"
#include "tcpcrypt/eno_abi.h"

/* One declaration; 0 (taken), -EPIPE when the guard saw foreign bytes,
 * or -ENOENT when there is no guard on fd (no hook, not enrolled, not
 * armed: ENOPROTOOPT, ENOENT or another refusal). */
static int declare(int fd, __u32 op, size_t n)
{
	struct tcpcrypt_guard_grant g = { .op = op, .len = (__u32)n };

	if (tc_real_setsockopt(fd, IPPROTO_TCP, TCPCRYPT_GUARD_GRANT, &g, sizeof(g)) == 0)
		return 0;
	return errno == EPIPE ? -EPIPE : -ENOENT;
}

/* Aborts the connection: connect(AF_UNSPEC) disconnects with a RST. */
static void abort_conn(int fd)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	tc_real_connect(fd, &sa, sizeof(sa));
}

ssize_t tc_guard_sendto(int fd, const void *b, size_t n, int flags, int *known)
{
	int saved = errno, bad;
	ssize_t r;

	if (*known == TC_GUARD_OFF)   /* (a guard is armed at ENO, before any sealed write) */
		return tc_real_sendto(fd, b, n, flags, NULL, 0);
	if (n > 0x7fffffff)
		n = 0x7fffffff;       /* one grant is a 32-bit count */
	bad = declare(fd, TCPCRYPT_GUARD_OP_GRANT, n);
	errno = saved;
	if (bad == -ENOENT) {
		*known = TC_GUARD_OFF;
		return tc_real_sendto(fd, b, n, flags, NULL, 0);
	}
	if (!bad) {
		*known = TC_GUARD_ON;
		r = tc_real_sendto(fd, b, n, flags, NULL, 0);
		if (r == (ssize_t)n)
			return r;
		saved = errno;
		bad = declare(fd, TCPCRYPT_GUARD_OP_RETURN, r < 0 ? n : n - (size_t)r);
		errno = saved;
		if (bad != -EPIPE)
			return r;
	}
	abort_conn(fd);
	errno = ECONNRESET;
	return -1;
}

void tc_guard_open(int fd)
{
	int saved = errno;

	declare(fd, TCPCRYPT_GUARD_OP_OPEN, 0);
	errno = saved;
}

void tc_guard_enrol(int fd)
{
	int saved = errno;

	declare(fd, TCPCRYPT_GUARD_OP_ENROL, 0);
	errno = saved;
}
