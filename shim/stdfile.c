/*
 * stdfile.c - fdopen, fclose and the standard streams on connections: see
 * stdfile.h.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "close.h"
#include "fdtable.h"
#include "libc_syms.h"
#include "log.h"
#include "shim.h"
#include "sock.h"
#include "stdfile.h"

#define MAX_FILES 256

struct cookie {
	int fd;
	int slot;                    /* in files[], or -1 */
};

/* Our FILEs not yet closed: each slot taken and left with atomics, no
 * lock (fclose may run in a signal handler that interrupted a thread
 * here). */
static FILE *files[MAX_FILES];

static ssize_t cookie_read(void *c, char *buf, size_t n)
{
	return read(((struct cookie *)c)->fd, buf, n);    /* the shim's read */
}

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	return write(((struct cookie *)c)->fd, buf, n);   /* the shim's write */
}

static int cookie_close(void *arg)
{
	struct cookie *c = arg;
	int fd = c->fd;

	if (c->slot >= 0)
		__atomic_store_n(&files[c->slot], NULL, __ATOMIC_RELEASE);
	free(c);
	return close(fd);                                 /* the shim's close */
}

/* A FILE on connection fd through the shim, or NULL with errno. */
static FILE *conn_file(int fd, const char *mode)
{
	static const cookie_io_functions_t io = {
		.read = cookie_read, .write = cookie_write, .seek = NULL, .close = cookie_close,
	};
	struct cookie *c = malloc(sizeof(*c));
	FILE *f;

	if (!c)
		return NULL;
	c->fd = fd;
	c->slot = -1;
	if (!(f = fopencookie(c, mode, io))) {
		free(c);
		return NULL;
	}
	f->_fileno = fd;             /* fileno(); glibc's cookie I/O never uses it */
	for (int i = 0; i < MAX_FILES; i++) {
		FILE *none = NULL;

		if (__atomic_compare_exchange_n(&files[i], &none, f, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			c->slot = i;
			break;
		}
	}
	return f;
}

/* 1 if fd is a connection that is or may become encrypted. */
static int conn_fd(int fd)
{
	struct tc_sock *s = tc_conn_get(fd);
	int r = s && tc_sock_state(s) != TC_ST_PLAIN;

	tc_fd_put(s);
	return r;
}

TC_EXPORT FILE *fdopen(int fd, const char *mode)
{
	typedef FILE *(*fdopen_fn)(int, const char *);
	static fdopen_fn real;
	fdopen_fn r = __atomic_load_n(&real, __ATOMIC_RELAXED);

	if (!r) {
		r = (fdopen_fn)dlsym(RTLD_NEXT, "fdopen");
		if (!r) {
			errno = ENOSYS;
			return NULL;
		}
		__atomic_store_n(&real, r, __ATOMIC_RELAXED);
	}
	/* in a signal handler that interrupted the shim, the lock-free look:
	 * a connection (or maybe one) gets our FILE, which takes no lock */
	if (!mode || !(tc_in_shim ? tc_fd_conn_nowait(fd) : conn_fd(fd)))
		return r(fd, mode);
	if (tc_real_fcntl(fd, F_GETFL, 0) < 0)
		return NULL;             /* EBADF, as fdopen says */
	return conn_file(fd, mode);
}

int tc_stdfile_ours(FILE *f)
{
	int r = 0;

	for (int i = 0; i < MAX_FILES && !r; i++)
		r = __atomic_load_n(&files[i], __ATOMIC_ACQUIRE) == f;
	return r;
}

void tc_stdfile_flush_all(void)
{
	FILE *todo[MAX_FILES];
	int n = 0;

	for (int i = 0; i < MAX_FILES; i++)
		if ((todo[n] = __atomic_load_n(&files[i], __ATOMIC_ACQUIRE)))
			n++;
	for (int i = 0; i < n; i++)
		if (ftrylockfile(todo[i]) == 0) {   /* a thread inside it keeps it */
			fflush_unlocked(todo[i]);
			funlockfile(todo[i]);
		}
}

void tc_stdfile_adopt(void)
{
	FILE **std[3] = { &stdin, &stdout, &stderr };
	static const char *const mode[3] = { "r", "w", "w" };

	for (int fd = 0; fd < 3; fd++) {
		FILE *f;
		struct tc_sock *s = tc_fd_get(fd);

		tc_fd_put(s);
		if (!s || !(f = conn_file(fd, mode[fd])))
			continue;
		if (fd == 2)
			setvbuf(f, NULL, _IONBF, 0);
		*std[fd] = f;
		tc_debug("fd %d: %s reads and writes through the shim", fd, fd ? fd == 1 ? "stdout" : "stderr" : "stdin");
	}
}

/* fclose() of a C library FILE in a signal handler that interrupted the
 * shim: its fd's table entry goes first, as close() does there; if the
 * entry cannot be had without waiting (or the interrupted close() is
 * closing that fd), the FILE is left alone: EOF, EAGAIN, fd still open.
 * Our own FILEs go through close() there once flushed (a flush on an
 * encrypted connection is refused with EAGAIN, never sent in clear). */
static int fclose_inside(FILE *f)
{
	int fd = fileno(f);

	if (fd >= 0 && tc_fd_present(fd) && !tc_stdfile_ours(f) && tc_close_forget_inside(fd) < 0) {
		errno = EAGAIN;
		return EOF;
	}
	return tc_real_fclose(f);
}

/* glibc's fclose closes the fd internally, past our close(); our own
 * FILEs (stdfile.h) close through close() once flushed. */
TC_EXPORT int fclose(FILE *f)
{
	int fd;

	if (f && tc_in_shim)
		return fclose_inside(f);
	if (f && __atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) &&
	    (fd = fileno(f)) >= 0 && !tc_stdfile_ours(f))
		tc_close_fd(fd);
	return tc_real_fclose(f);
}
