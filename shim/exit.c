/*
 * exit.c - process exit (exit(), return from main, _exit, _Exit): the
 * connections this process was the last to hold end properly, with their
 * pending frames and FINp, instead of a bare TCP FIN that the peer would
 * have to treat as a truncation attack.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "fdtable.h"
#include "fork.h"
#include "libc_syms.h"
#include "shim.h"
#include "sock.h"
#include "stdfile.h"

#define BATCH 256

struct batch {
	unsigned gen;
	int n, more;
	int fd[BATCH];
	struct tc_sock *s[BATCH];
};

/* Table lock held: takes a reference on each connection not yet seen. */
static void pick(int fd, struct tc_sock *s, void *arg)
{
	struct batch *b = arg;

	if (s->kind != TC_K_CONN || !s->shm || s->mark == b->gen)
		return;
	if (b->n == BATCH) {
		b->more = 1;
		return;
	}
	s->mark = b->gen;
	s->refs++;
	b->fd[b->n] = fd;
	b->s[b->n++] = s;
}

/* Ends this process's part in every connection it holds. */
static void exit_all(void)
{
	static unsigned gen = 0x80000000u;
	static struct batch b;
	static int done;
	long deadline;

	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) || getpid() != tc_pid ||
	    __atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		return;
	tc_in_shim++;
	/* one bound for all: a process with many connections whose peers do
	 * not answer exits in TC_CLOSE_WAIT_MS, not that much per connection */
	deadline = tc_sock_close_deadline();
	b.gen = ++gen;
	do {
		b.n = b.more = 0;
		tc_fd_foreach(pick, &b);
		for (int i = 0; i < b.n; i++) {
			/* (a close() left to the progress thread: ours to finish now) */
			if (b.s[i]->closing || tc_sock_proc_unref(b.s[i]) == 0)
				tc_sock_final_close_by(b.s[i], b.fd[i], deadline);
			tc_fd_put(b.s[i]);
		}
	} while (b.more);
	tc_in_shim--;
}

__attribute__((destructor)) static void tc_shim_fini(void)
{
	if (getpid() == tc_pid)
		tc_stdfile_flush_all();   /* glibc flushes stdio only after us */
	exit_all();
}

TC_EXPORT void _exit(int status)
{
	exit_all();
	tc_real__exit(status);
	__builtin_unreachable();
}

TC_EXPORT void _Exit(int status)
{
	exit_all();
	tc_real__Exit(status);
	__builtin_unreachable();
}
