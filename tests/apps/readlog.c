/*
 * readlog.c - a test-only LD_PRELOAD library, loaded before the shim, that
 * records what the application's read() calls got when they did not return
 * data: each error other than EAGAIN, and each end of stream, with the
 * bytes read on that fd since it was opened. Written to the file named by
 * READLOG_FILE (one line per event). test_nginx_wrk.sh puts it under wrk,
 * whose summary only counts "read errors": on a failure, this says which
 * errno (or EOF) and after how much of the response.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXFD 65536

static long long got[MAXFD];     /* bytes read since the fd was opened */

static void note(int fd, ssize_t r, int err)
{
	static int out = -2;
	char line[160];
	int n;

	if (out == -2) {
		const char *f = getenv("READLOG_FILE");

		out = f ? open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
	}
	if (out < 0)
		return;
	n = snprintf(line, sizeof(line), "pid %d fd %d: read %s%s after %lld bytes\n", (int)getpid(), fd,
	             r == 0 ? "EOF" : "error ", r == 0 ? "" : strerrorname_np(err) ? strerrorname_np(err) : "?",
	             got[fd]);
	if (n > 0 && write(out, line, (size_t)n) < 0)
		return;
}

ssize_t read(int fd, void *b, size_t n)
{
	static ssize_t (*next)(int, void *, size_t);
	ssize_t r;
	int err;

	if (!next)
		next = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	r = next(fd, b, n);
	err = errno;
	if (fd >= 0 && fd < MAXFD) {
		if (r > 0)
			got[fd] += r;
		else if (n > 0 && (r == 0 || (err != EAGAIN && err != EWOULDBLOCK)))
			note(fd, r, err);
	}
	errno = err;
	return r;
}

int close(int fd)
{
	static int (*next)(int);

	if (!next)
		next = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (fd >= 0 && fd < MAXFD)
		got[fd] = 0;
	return next(fd);
}
