/*
 * ioctl.c - ioctl(FIONREAD/SIOCINQ): plaintext bytes available, never
 * ciphertext counts; SIOCATMARK: the urgent mark in the plaintext; FIONBIO is noted (see tc_sock_note_nonblock);
 * FIOCLEX/FIONCLEX as cloexec.h says. In a signal handler that
 * interrupted the shim, FIONREAD and SIOCATMARK on an encrypted connection fail with
 * EAGAIN like the data calls there (tc_reentered_on_conn): the plaintext
 * count needs the connection's locks, and the kernel's is ciphertext.
 */
#include "config.h"

#include <stdarg.h>
#include <sys/ioctl.h>

#include "cloexec.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "shim.h"
#include "sock.h"

/* FIONREAD or SIOCATMARK on a tracked connection: the int that get
 * answers (the fd's reference s is dropped here), or the kernel's
 * answer where get passes (TC_PASS: plain TCP). */
static int conn_int_ioctl(struct tc_sock *s, int fd, unsigned long req, void *arg, int saved,
                          int (*get)(struct tc_sock *, int))
{
	int r;

	tc_in_shim++;
	r = get(s, fd);
	tc_in_shim--;
	tc_fd_put(s);
	if (r == TC_PASS)
		return tc_real_ioctl(fd, req, arg);
	if (!arg) {
		errno = EFAULT;
		return -1;
	}
	*(int *)arg = r;
	errno = saved;
	return 0;
}

TC_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct tc_sock *s;
	va_list ap;
	void *arg;
	int r, saved = errno;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if ((req == FIOCLEX || req == FIONCLEX) && tc_fd_maybe(fd))
		return tc_cloexec_ioctl(fd, req == FIOCLEX);
	if (req == FIONBIO) {
		r = tc_real_ioctl(fd, req, arg);
		if (r == 0 && arg && (s = tc_conn_get(fd))) {
			tc_sock_note_nonblock(s, *(int *)arg != 0);
			tc_fd_put(s);
		}
		return r;
	}
	if (req != FIONREAD && req != SIOCATMARK)
		return tc_real_ioctl(fd, req, arg);
	if (tc_reentered_on_conn(fd))
		return -1;
	if (!(s = tc_conn_get(fd)))
		return tc_real_ioctl(fd, req, arg);
	return conn_int_ioctl(s, fd, req, arg, saved,
	                      req == FIONREAD ? tc_sock_available : tc_sock_atmark);
}
