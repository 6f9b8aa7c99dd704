/*
 * stdfile.h - stdio on encrypted connections. glibc's FILE reads and
 * writes through its internal __read/__write, past the shim: a FILE from
 * fdopen() on a connection would send clear text and read ciphertext. So
 * fdopen() on a connection that is (or may become) encrypted returns a
 * FILE from fopencookie() whose read, write and close go through the
 * shim's read(), write() and close() (same buffering: full, BUFSIZ;
 * fileno() still answers the fd; also in a signal handler that
 * interrupted the shim, where the look at the fd takes no lock), and a
 * new image that adopts a connection on fds 0-2 across exec (exec.c)
 * gets such FILEs as stdin, stdout, stderr (stderr unbuffered) before
 * main. Not covered: code that writes through glibc's original objects
 * directly (_IO_2_1_stdout_, a FILE * saved by a library's constructor
 * that ran before ours), and statically linked programs; the kernel's
 * close-on-exec (cloexec.h) and the peer's authentication are what
 * remains there.
 */
#ifndef TC_SHIM_STDFILE_H
#define TC_SHIM_STDFILE_H

#include <stdio.h>

/* After adoption (constructor): stdin/stdout/stderr on adopted fds 0-2
 * become FILEs through the shim. */
void tc_stdfile_adopt(void);
/* 1 if f is one of our FILEs (fclose must let glibc flush it first). */
int tc_stdfile_ours(FILE *f);
/* Exit (the shim's destructor, before its connections end): flushes our
 * FILEs, which glibc would flush only after the connections closed. */
void tc_stdfile_flush_all(void);

#endif
