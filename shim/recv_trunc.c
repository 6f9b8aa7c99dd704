/*
 * recv_trunc.c - MSG_TRUNC on an encrypted connection, as TCP does it
 * (tcp(7)): the plaintext is discarded instead of copied, and the call
 * returns how many bytes it discarded; the application's buffer (NULL in
 * HAProxy's drain path) is never touched. With MSG_PEEK, nothing is
 * consumed: the call returns how many bytes could have been peeked.
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "recv_trunc.h"
#include "sock.h"

/* Discarded plaintext goes through this buffer (on the stack: the shim
 * keeps its thread-local storage small), wiped afterwards. */
#define SCRATCH 2048

/* MSG_PEEK|MSG_TRUNC: waits (as the flags say) for one byte, then counts
 * what is there without blocking: the open frame's plaintext and the
 * complete frames behind it. */
static ssize_t peek_count(struct tc_sock *s, int fd, size_t n, int flags)
{
	uint8_t one;
	struct iovec iov = { &one, 1 };
	ssize_t r = tc_sock_recv(s, fd, &iov, 1, flags);
	int avail;

	explicit_bzero(&one, sizeof(one));
	if (r <= 0)
		return r;
	avail = tc_sock_available(s, fd);
	if (avail < 1)
		avail = 1;
	return (size_t)avail < n ? avail : (ssize_t)n;
}

ssize_t tc_recv_trunc(struct tc_sock *s, int fd, size_t n, int flags)
{
	uint8_t scratch[SCRATCH];
	size_t total = 0;
	ssize_t r = 0;

	flags &= ~MSG_TRUNC;
	if (n == 0 || (flags & MSG_PEEK)) {
		struct iovec none = { NULL, 0 };

		return n ? peek_count(s, fd, n, flags) : tc_sock_recv(s, fd, &none, 1, flags);
	}
	/* Like a read of n bytes: the first chunk waits as the flags say,
	 * the next ones take what is there (all of them wait with MSG_WAITALL). */
	while (total < n) {
		size_t c = n - total < sizeof(scratch) ? n - total : sizeof(scratch);
		struct iovec iov = { scratch, c };
		int fl = total && !(flags & MSG_WAITALL) ? flags | MSG_DONTWAIT : flags;

		r = tc_sock_recv(s, fd, &iov, 1, fl);
		if (r <= 0)
			break;
		total += (size_t)r;
	}
	explicit_bzero(scratch, sizeof(scratch));
	return total ? (ssize_t)total : r;
}
