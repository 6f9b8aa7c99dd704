/*
 * send.c - write, writev, send, sendto, sendmsg, sendmmsg, pwritev2: every
 * byte goes out sealed in frames.
 */
#include "config.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "rwf.h"
#include "settings.h"
#include "shim.h"
#include "sock.h"

/* Sends iov on connection s; TC_PASS when it is plain TCP. */
static ssize_t conn_send(struct tc_sock *s, int fd, const struct iovec *iov, int cnt, int flags)
{
	ssize_t r;

	tc_in_shim++;
	r = tc_sock_send(s, fd, iov, cnt, flags);
	tc_in_shim--;
	tc_fd_put(s);
	return r;
}

TC_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct tc_sock *s;
	struct iovec iov = { (void *)buf, n };
	int saved = errno;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!tc_fd_maybe(fd) || !(s = tc_conn_get(fd)))
		return tc_real_write(fd, buf, n);
	r = conn_send(s, fd, &iov, 1, 0);
	if (r == TC_PASS)
		return tc_real_write(fd, buf, n);
	return tc_ret(r, saved);
}

TC_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	struct tc_sock *s;
	struct iovec iov = { (void *)buf, n };
	int saved = errno;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!(s = tc_conn_get(fd)))
		return tc_real_send(fd, buf, n, flags);
	r = conn_send(s, fd, &iov, 1, flags);
	if (r == TC_PASS)
		return tc_real_send(fd, buf, n, flags);
	return tc_ret(r, saved);
}

/* TCP Fast Open carries data in the SYN, which ENO forbids (RFC 8547
 * 4.7): sendto/sendmsg(MSG_FASTOPEN) on a TCP socket becomes connect()
 * (through the shim, so it is opted in) followed by an ordinary send. */
static ssize_t fastopen(int fd, const struct msghdr *m, int flags)
{
	int saved = errno;

	if (!m->msg_name || connect(fd, m->msg_name, m->msg_namelen) < 0) {
		if (errno != EISCONN)
			return -1;
		errno = saved;
	}
	return sendmsg(fd, m, flags & ~MSG_FASTOPEN);
}

static int fastopen_candidate(int fd, int flags)
{
	return (flags & MSG_FASTOPEN) && !tc_cfg.disable && !tc_in_shim && tc_is_tcp_socket(fd);
}

TC_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t l)
{
	struct tc_sock *s;
	struct iovec iov = { (void *)buf, n };
	int saved = errno;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (fastopen_candidate(fd, flags)) {
		struct msghdr m = { .msg_name = (void *)a, .msg_namelen = l, .msg_iov = &iov, .msg_iovlen = 1 };

		return fastopen(fd, &m, flags);
	}
	if (!(s = tc_conn_get(fd)))
		return tc_real_sendto(fd, buf, n, flags, a, l);
	r = conn_send(s, fd, &iov, 1, flags);
	if (r == TC_PASS)
		return tc_real_sendto(fd, buf, n, flags, a, l);
	return tc_ret(r, saved);
}

TC_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct tc_sock *s;
	int saved = errno;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (cnt < 0 || cnt > IOV_MAX || !(s = tc_conn_get(fd)))
		return tc_real_writev(fd, iov, cnt);
	r = conn_send(s, fd, iov, cnt, 0);
	if (r == TC_PASS)
		return tc_real_writev(fd, iov, cnt);
	return tc_ret(r, saved);
}

/* pwritev2 at offset -1 (the file position) writes a socket as writev
 * does; RWF_NOWAIT is MSG_DONTWAIT there. Any other offset fails in the
 * kernel (ESPIPE, EINVAL) without moving a byte, as for pwrite/pwritev. */
TC_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct tc_sock *s;
	int saved = errno, mflags;
	ssize_t r;

	if (off != -1 || cnt < 0 || cnt > IOV_MAX || !tc_fd_maybe(fd) || !(s = tc_conn_get(fd)))
		return tc_real_pwritev2(fd, iov, cnt, off, flags);
	mflags = tc_rwf_to_msg(flags);
	if (mflags < 0) {
		tc_fd_put(s);
		return tc_ret(mflags, saved);
	}
	r = conn_send(s, fd, iov, cnt, mflags);
	if (r == TC_PASS)
		return tc_real_pwritev2(fd, iov, cnt, off, flags);
	return tc_ret(r, saved);
}

TC_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return pwritev2(fd, iov, cnt, off, flags);
}

/* 1 if m passes (SCM_RIGHTS) an encrypted connection: the receiving
 * process would have the socket without its session, and write plaintext
 * into the stream. */
static int passes_encrypted(const struct msghdr *m)
{
	struct cmsghdr *c;

	if (!m->msg_control || m->msg_controllen < sizeof(struct cmsghdr) ||
	    !__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) || tc_in_shim)
		return 0;
	for (c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const int *fds = (const int *)CMSG_DATA(c);

		for (size_t i = 0; i < n; i++) {
			struct tc_sock *s = tc_conn_get(fds[i]);
			int st = s ? tc_sock_state(s) : 0;

			tc_fd_put(s);
			if (st == TC_ST_HANDSHAKE || st == TC_ST_READY)
				return 1;
		}
	}
	return 0;
}

TC_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct tc_sock *s;
	int saved = errno;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (m && fastopen_candidate(fd, flags))
		return fastopen(fd, m, flags);
	if (m && passes_encrypted(m)) {
		tc_warn("fd %d: refusing to pass an encrypted connection to another process", fd);
		errno = EPERM;
		return -1;
	}
	if (!m || m->msg_iovlen > IOV_MAX || !(s = tc_conn_get(fd)))
		return tc_real_sendmsg(fd, m, flags);
	r = conn_send(s, fd, m->msg_iov, (int)m->msg_iovlen, flags);
	if (r == TC_PASS)
		return tc_real_sendmsg(fd, m, flags);
	return tc_ret(r, saved);
}

TC_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct tc_sock *s;
	unsigned int i;
	int saved = errno;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!(s = tc_conn_get(fd)))
		return tc_real_sendmmsg(fd, v, n, flags);
	if (tc_sock_state(s) == TC_ST_PLAIN) {
		tc_fd_put(s);
		return tc_real_sendmmsg(fd, v, n, flags);
	}
	tc_fd_put(s);
	for (i = 0; i < n; i++) {
		ssize_t r = sendmsg(fd, &v[i].msg_hdr, flags);

		if (r < 0) {
			if (i > 0)
				break;
			return -1;
		}
		v[i].msg_len = (unsigned int)r;
	}
	errno = saved;
	return (int)i;
}
