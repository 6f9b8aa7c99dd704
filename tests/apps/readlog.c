/*
 * readlog.c - a test-only LD_PRELOAD library, loaded before the shim, that
 * records what the application's read() calls on the sockets it connected
 * got when they did not return data: each error (EAGAIN too, which wrk
 * counts as a read error), and each end of stream, with what was
 * read on that fd since it was opened (bytes, number of reads, the sizes of
 * the last reads, the stream's first and last bytes) and how many times it
 * was connected. Written to the file named by READLOG_FILE (one line per
 * event). test_nginx_wrk.sh puts it under wrk, whose summary only counts
 * "read errors": on a failure, this says which errno (or EOF) and after
 * what.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
#define LAST 6       /* sizes of the last reads kept */
#define EDGE 24      /* first and last bytes of the stream kept */

struct fdlog {
	long long got;             /* bytes read since the fd was opened */
	unsigned reads, connects;
	int last[LAST];
	unsigned char head[EDGE], tail[EDGE];
	unsigned nhead, ntail;
};

static struct fdlog fds[MAXFD];

/* Appends n bytes of b to out, escaped (printable as is, others \xNN). */
static int esc(char *out, size_t cap, const unsigned char *b, unsigned n)
{
	size_t o = 0;

	for (unsigned i = 0; i < n && o + 5 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\' ? "%c" : "\\x%02x", b[i]);
	out[o] = 0;
	return (int)o;
}

static void note(int fd, ssize_t r, int err)
{
	static int out = -2;
	struct fdlog *l = &fds[fd];
	char line[512], h[EDGE * 4 + 1], t[EDGE * 4 + 1], sz[LAST * 8];
	size_t o = 0;
	int n;

	if (out == -2) {
		const char *f = getenv("READLOG_FILE");

		out = f ? open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
	}
	if (out < 0)
		return;
	sz[0] = 0;
	for (unsigned i = l->reads > LAST ? l->reads - LAST : 0; i < l->reads && o + 8 < sizeof(sz); i++)
		o += (size_t)snprintf(sz + o, sizeof(sz) - o, "%s%d", o ? "," : "", l->last[i % LAST]);
	esc(h, sizeof(h), l->head, l->nhead);
	esc(t, sizeof(t), l->tail, l->ntail);
	n = snprintf(line, sizeof(line),
	             "pid %d fd %d: read %s%s after %lld bytes in %u reads (last: %s), %u connects, first \"%s\" last \"%s\"\n",
	             (int)getpid(), fd, r == 0 ? "EOF" : "error ",
	             r == 0 ? "" : strerrorname_np(err) ? strerrorname_np(err) : "?", l->got, l->reads, sz,
	             l->connects, h, t);
	if (n > 0 && write(out, line, (size_t)n) < 0)
		return;
}

/* Keeps the stream's first EDGE bytes and its last EDGE bytes. */
static void keep(struct fdlog *l, const unsigned char *b, size_t r)
{
	if (l->nhead < EDGE) {
		size_t k = r < EDGE - l->nhead ? r : EDGE - l->nhead;

		memcpy(l->head + l->nhead, b, k);
		l->nhead += (unsigned)k;
	}
	if (r >= EDGE) {
		memcpy(l->tail, b + r - EDGE, EDGE);
		l->ntail = EDGE;
	} else {
		unsigned keepn = l->ntail + r > EDGE ? EDGE - (unsigned)r : l->ntail;

		memmove(l->tail, l->tail + l->ntail - keepn, keepn);
		memcpy(l->tail + keepn, b, r);
		l->ntail = keepn + (unsigned)r;
	}
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
		struct fdlog *l = &fds[fd];

		if (r > 0) {
			l->got += r;
			l->last[l->reads++ % LAST] = (int)r;
			keep(l, b, (size_t)r);
		} else if (n > 0 && l->connects) {
			note(fd, r, err);
		}
	}
	errno = err;
	return r;
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*next)(int, const struct sockaddr *, socklen_t);

	if (!next)
		next = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
	if (fd >= 0 && fd < MAXFD)
		fds[fd].connects++;
	return next(fd, sa, len);
}

int close(int fd)
{
	static int (*next)(int);

	if (!next)
		next = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (fd >= 0 && fd < MAXFD)
		memset(&fds[fd], 0, sizeof(fds[fd]));
	return next(fd);
}
