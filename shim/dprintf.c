/*
 * dprintf.c - dprintf, vdprintf and their _FORTIFY_SOURCE variants: glibc
 * writes their output with its internal write, past the shim, which on an
 * encrypted connection would put plaintext on the wire. On a connection
 * the text is formatted here and written through the shim's write().
 * (A FILE from fdopen() on a connection has the same problem and is not
 * covered: use read/write/send/recv on sockets.)
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdtable.h"
#include "shim.h"
#include "sock.h"

int __dprintf_chk(int fd, int flag, const char *fmt, ...);
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);

typedef int (*vdprintf_fn)(int, const char *, va_list);
typedef int (*vdprintf_chk_fn)(int, int, const char *, va_list);

/* 1 if fd is an encrypted (or not yet decided) connection of the shim. */
static int is_conn(int fd)
{
	struct tc_sock *s;
	int st;

	if (!tc_fd_maybe(fd) || !(s = tc_conn_get(fd)))
		return 0;
	st = tc_sock_state(s);
	tc_fd_put(s);
	return st != TC_ST_PLAIN;
}

/* Formats into memory and writes it all through write(). */
static int conn_vdprintf(int fd, const char *fmt, va_list ap)
{
	char *buf = NULL;
	int n = vasprintf(&buf, fmt, ap);
	size_t done = 0;

	if (n < 0)
		return -1;
	while (done < (size_t)n) {
		ssize_t w = write(fd, buf + done, (size_t)n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			free(buf);
			return -1;
		}
		done += (size_t)w;
	}
	free(buf);
	return n;
}

__attribute__((format(printf, 2, 0)))
TC_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	static vdprintf_fn real;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (is_conn(fd))
		return conn_vdprintf(fd, fmt, ap);
	if (!real && !(real = (vdprintf_fn)dlsym(RTLD_NEXT, "vdprintf"))) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, fmt, ap);
}

__attribute__((format(printf, 2, 3)))
TC_EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

__attribute__((format(printf, 3, 0)))
TC_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	static vdprintf_chk_fn real;

	if (tc_reentered_on_conn(fd))
		return -1;
	if (is_conn(fd))
		return conn_vdprintf(fd, fmt, ap);
	if (!real && !(real = (vdprintf_chk_fn)dlsym(RTLD_NEXT, "__vdprintf_chk"))) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, flag, fmt, ap);
}

__attribute__((format(printf, 3, 4)))
TC_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}
