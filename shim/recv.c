/*
 * recv.c - read, __read_chk, readv, recv, __recv_chk, recvfrom,
 * __recvfrom_chk, recvmsg, recvmmsg, preadv2: plaintext from opened frames,
 * with the flags' TCP meaning (MSG_TRUNC: recv_trunc.c).
 */
#include "config.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdtable.h"
#include "libc_syms.h"
#include "recv_trunc.h"
#include "rwf.h"
#include "shim.h"
#include "sock.h"

extern void __chk_fail(void) __attribute__((noreturn));
/* The _FORTIFY_SOURCE entry points (glibc has no public prototypes). */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                       struct sockaddr *a, socklen_t *l);

/* Total length of iov (cnt already checked against IOV_MAX). */
static size_t iov_len(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Receives into iov for connection s; TC_PASS when it is plain TCP.
 * MSG_TRUNC discards: the buffers (maybe NULL) are not written. */
static ssize_t conn_recv(struct tc_sock *s, int fd, const struct iovec *iov, int cnt, int flags)
{
	ssize_t r;

	tc_in_shim++;
	if ((flags & MSG_TRUNC) && !(flags & MSG_OOB))
		r = tc_recv_trunc(s, fd, iov_len(iov, cnt), flags);
	else
		r = tc_sock_recv(s, fd, iov, cnt, flags);
	tc_in_shim--;
	tc_fd_put(s);
	return r;
}

static ssize_t recv_buf(int fd, void *buf, size_t n, int flags, int *pass)
{
	struct tc_sock *s = tc_conn_get(fd);
	struct iovec iov = { buf, n };
	int saved = errno;
	ssize_t r;

	*pass = 0;
	if (!s) {
		*pass = 1;
		return 0;
	}
	r = conn_recv(s, fd, &iov, 1, flags);
	if (r == TC_PASS) {
		*pass = 1;
		return 0;
	}
	return tc_ret(r, saved);
}

TC_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	int pass;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!tc_fd_maybe(fd))
		return tc_real_read(fd, buf, n);
	r = recv_buf(fd, buf, n, 0, &pass);
	return pass ? tc_real_read(fd, buf, n) : r;
}

TC_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

TC_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	int pass;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!tc_fd_maybe(fd))
		return tc_real_recv(fd, buf, n, flags);
	r = recv_buf(fd, buf, n, flags, &pass);
	return pass ? tc_real_recv(fd, buf, n, flags) : r;
}

TC_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		__chk_fail();
	return recv(fd, buf, n, flags);
}

TC_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *l)
{
	int pass;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!tc_fd_maybe(fd))
		return tc_real_recvfrom(fd, buf, n, flags, a, l);
	r = recv_buf(fd, buf, n, flags, &pass);
	if (pass)
		return tc_real_recvfrom(fd, buf, n, flags, a, l);
	if (r >= 0 && a && l)
		*l = 0;           /* TCP reports no source address */
	return r;
}

TC_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                                 struct sockaddr *a, socklen_t *l)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, a, l);
}

TC_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct tc_sock *s;
	int saved = errno;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (cnt < 0 || cnt > IOV_MAX || !(s = tc_conn_get(fd)))
		return tc_real_readv(fd, iov, cnt);
	r = conn_recv(s, fd, iov, cnt, 0);
	if (r == TC_PASS)
		return tc_real_readv(fd, iov, cnt);
	return tc_ret(r, saved);
}

/* preadv2 at offset -1 (the file position) reads a socket as readv does;
 * RWF_NOWAIT is MSG_DONTWAIT there. Any other offset fails in the kernel
 * (ESPIPE, EINVAL) without moving a byte, as for pread/preadv. */
TC_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct tc_sock *s;
	int saved = errno, mflags;
	ssize_t r;

	if (off != -1 || cnt < 0 || cnt > IOV_MAX || !tc_fd_maybe(fd) || !(s = tc_conn_get(fd)))
		return tc_real_preadv2(fd, iov, cnt, off, flags);
	mflags = tc_rwf_to_msg(flags);
	if (mflags < 0) {
		tc_fd_put(s);
		return tc_ret(mflags, saved);
	}
	r = conn_recv(s, fd, iov, cnt, mflags);
	if (r == TC_PASS)
		return tc_real_preadv2(fd, iov, cnt, off, flags);
	return tc_ret(r, saved);
}

TC_EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return preadv2(fd, iov, cnt, off, flags);
}

TC_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	struct tc_sock *s;
	int saved = errno;
	ssize_t r;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!m || m->msg_iovlen > IOV_MAX || (flags & MSG_ERRQUEUE) || !(s = tc_conn_get(fd)))
		return tc_real_recvmsg(fd, m, flags);
	r = conn_recv(s, fd, m->msg_iov, (int)m->msg_iovlen, flags);
	if (r == TC_PASS)
		return tc_real_recvmsg(fd, m, flags);
	if (r >= 0) {
		m->msg_namelen = 0;
		m->msg_controllen = 0;
		m->msg_flags = 0;
	}
	return tc_ret(r, saved);
}

TC_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *t)
{
	struct tc_sock *s;
	unsigned int i;
	int saved = errno;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (!(s = tc_conn_get(fd)))
		return tc_real_recvmmsg(fd, v, n, flags, t);
	if (tc_sock_state(s) == TC_ST_PLAIN) {
		tc_fd_put(s);
		return tc_real_recvmmsg(fd, v, n, flags, t);
	}
	tc_fd_put(s);
	for (i = 0; i < n; i++) {
		ssize_t r = recvmsg(fd, &v[i].msg_hdr, (flags & ~MSG_WAITFORONE) |
		                    (i > 0 && (flags & MSG_WAITFORONE) ? MSG_DONTWAIT : 0));

		if (r < 0) {
			if (i > 0)
				break;
			return -1;
		}
		v[i].msg_len = (unsigned int)r;
		if (r == 0)
			{ i++; break; }
	}
	errno = saved;
	return (int)i;
}
