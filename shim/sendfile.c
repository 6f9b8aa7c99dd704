/*
 * sendfile.c - sendfile, sendfile64: emulated on an encrypted socket by
 * reading the file and sealing; splice onto or from one is refused (EINVAL).
 */
#include "config.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdtable.h"
#include "libc_syms.h"
#include "shim.h"
#include "sock.h"

#define CHUNK 16384

/* 1 if fd is a connection whose bytes the shim transforms. */
static int encrypted(int fd)
{
	struct tc_sock *s = tc_conn_get(fd);
	int st;

	if (!s)
		return 0;
	st = tc_sock_state(s);
	tc_fd_put(s);
	return st != TC_ST_PLAIN;
}

static ssize_t emulate(int out, int in, off_t *off, size_t count)
{
	char buf[CHUNK];
	size_t total = 0;
	int saved = errno;

	while (total < count) {
		size_t want = count - total < CHUNK ? count - total : CHUNK;
		ssize_t n, w;

		n = off ? pread(in, buf, want, *off) : tc_real_read(in, buf, want);
		if (n < 0) {
			if (total)
				break;
			return -1;
		}
		if (n == 0)
			break;
		w = send(out, buf, (size_t)n, 0);
		if (w < 0) {
			if (!off)
				lseek(in, -(off_t)n, SEEK_CUR);
			if (total)
				break;
			return -1;
		}
		if (off)
			*off += w;
		else if (w < n)
			lseek(in, -(off_t)(n - w), SEEK_CUR);
		total += (size_t)w;
		if (w < n)
			break;
	}
	errno = saved;
	return (ssize_t)total;
}

TC_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	if (tc_reentered_on_conn(out))
		return -1;
	if (!tc_fd_maybe(out) || !encrypted(out))
		return tc_real_sendfile(out, in, off, count);
	return emulate(out, in, off, count);
}

TC_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}

TC_EXPORT ssize_t splice(int in, loff_t *oin, int out, loff_t *oout, size_t n, unsigned int flags)
{
	if (tc_reentered_on_conn(in) || tc_reentered_on_conn(out))
		return -1;
	if ((tc_fd_maybe(in) && encrypted(in)) || (tc_fd_maybe(out) && encrypted(out))) {
		errno = EINVAL;
		return -1;
	}
	return tc_real_splice(in, oin, out, oout, n, flags);
}
