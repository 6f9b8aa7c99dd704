/*
 * sock_io.c - the session glue's kernel I/O: socket facts, reads and writes
 * that work inside a seccomp sandbox and never raise SIGPIPE, and aborting
 * a connection with a reset.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "guard.h"
#include "libc_syms.h"
#include "log.h"
#include "sock.h"
#include "sock_int.h"
#include "state.h"

int tc_is_tcp_socket(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0 || (v != AF_INET && v != AF_INET6))
		return 0;
	l = sizeof(v);
	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 || v != SOCK_STREAM)
		return 0;
	l = sizeof(v);
	if (tc_real_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l) < 0 || v != IPPROTO_TCP)
		return 0;
	return 1;
}

int tc_fd_nonblocking(int fd)
{
	int fl = tc_real_fcntl(fd, F_GETFL, 0);

	return fl >= 0 && (fl & O_NONBLOCK);
}

/* O_NONBLOCK of a connection: in a sandbox (no fcntl), the flag recorded
 * when it started or set since through the shim's fcntl/ioctl. */
int nonblocking(const struct tc_shm *sh, int fd)
{
	if (SANDBOXED())
		return __atomic_load_n(&sh->nonblock, __ATOMIC_RELAXED);
	return tc_fd_nonblocking(fd);
}

/* ---- kernel I/O (internal sends never raise SIGPIPE) ---- */

/* In a seccomp sandbox only read, write and poll are sure to be allowed
 * (OpenSSH's pre-auth child): MSG_DONTWAIT becomes a poll with no timeout
 * first, a blocking call on a non-blocking socket waits in poll. There is
 * no MSG_PEEK (callers do not peek there) and no MSG_NOSIGNAL (a write to
 * a reset connection may raise SIGPIPE, as the application's own would). */
static ssize_t sb_io(int fd, void *b, size_t n, int flags, int out)
{
	short ev = out ? POLLOUT : POLLIN;

	if (flags & MSG_PEEK)
		return -EAGAIN;
	for (;;) {
		ssize_t r;

		if ((flags & MSG_DONTWAIT) && k_wait(fd, ev, 0) == 0)
			return -EAGAIN;
		r = out ? tc_real_write(fd, b, n) : tc_real_read(fd, b, n);
		if (r >= 0)
			return r;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || (flags & MSG_DONTWAIT))
			return -errno;
		k_wait(fd, ev, -1);
	}
}

ssize_t k_recv(int fd, void *b, size_t n, int flags)
{
	ssize_t r;

	if (SANDBOXED())
		return sb_io(fd, b, n, flags, 0);
	r = tc_real_recvfrom(fd, b, n, flags, NULL, NULL);
	return r < 0 ? -errno : r;
}

ssize_t k_send(struct tc_sock *s, int fd, const void *b, size_t n, int flags)
{
	ssize_t r;

	if (SANDBOXED())
		return sb_io(fd, (void *)(uintptr_t)b, n, flags, 1);
	r = tc_guard_sendto(fd, b, n, flags | MSG_NOSIGNAL, &s->guard);
	return r < 0 ? -errno : r;
}

int k_wait(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r = tc_real_poll(&p, 1, ms);

	return r < 0 ? -errno : r;
}

/* ---- failure ---- */

/* Aborts the connection: RST to the peer (connect(AF_UNSPEC) on a TCP
 * socket disconnects it with a reset), and every later call gets err. */
void abort_conn(struct tc_shm *sh, int fd, int err, const char *why)
{
	struct sockaddr sa;
	struct linger lg = { 1, 0 };

	if (STATE(sh) == TC_ST_FAILED)
		return;
	sh->error = err;
	__atomic_store_n(&sh->so_error, err, __ATOMIC_RELEASE);
	SET_STATE(sh, TC_ST_FAILED);
	if (SANDBOXED()) {            /* no setsockopt/connect there: FIN both ways */
		tc_real_shutdown(fd, SHUT_RDWR);
		tc_warn("fd %d: connection aborted (%s): %s", fd, why, strerror(err));
		return;
	}
	tc_real_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	tc_real_connect(fd, &sa, sizeof(sa));
	tc_warn("fd %d: connection aborted (%s): %s", fd, why, strerror(err));
}

int region_corrupt(struct tc_shm *sh, int fd, const char *what)
{
	abort_conn(sh, fd, EPROTO, what);
	return -EPROTO;
}

/* The errno the application sees for an engine error. */
int engine_errno(int r)
{
	switch (r) {
	case -EBADMSG:
	case -EPROTO:
		return -r;
	case -EMSGSIZE:
		return EBADMSG;
	case -ENOTSUP:
	case -EKEYREJECTED:
		return EPROTO;
	default:
		return ECONNRESET;
	}
}

void tc_sock_abort_fd(int fd, const char *why)
{
	struct sockaddr sa;
	struct linger lg = { 1, 0 };

	tc_real_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	tc_real_connect(fd, &sa, sizeof(sa));
	tc_warn("fd %d: connection aborted (%s)", fd, why);
}
