/*
 * fork.c - see fork.h. pthread_atfork handlers rather than a fork()
 * wrapper, so daemon() and every other path to fork are covered too.
 * (posix_spawn, vfork and _Fork run no handlers: such children take no
 * reference, and exec.c/exit.c recognise them by their pid.)
 */
#include "config.h"

#include <pthread.h>
#include <unistd.h>

#include "fdtable.h"
#include "fork.h"
#include "libc_syms.h"
#include "log.h"
#include "progress.h"
#include "shim.h"
#include "sock.h"

static unsigned walk_gen = 1;
pid_t tc_pid;

/* A walk over the connections adding delta to each one's process count;
 * an object reached through several fds counts once per walk (gen). */
struct walk {
	unsigned gen;
	int delta;
};

static void ref_one(int fd, struct tc_sock *s, void *arg);

/* The child's references are taken here, before fork(), so that a parent
 * closing its copy at once can never see the count drop to zero first.
 * (If fork() fails, the reference is leaked: that connection then ends
 * without FINp, never with a reused nonce.) */
static void prepare(void)
{
	struct walk w = { __atomic_add_fetch(&walk_gen, 1, __ATOMIC_RELAXED), 1 };

	if (__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		tc_fd_foreach(ref_one, &w);
	tc_progress_atfork_prepare();
	pthread_mutex_lock(&tc_fd_lock);
}

static void parent(void)
{
	pthread_mutex_unlock(&tc_fd_lock);
	tc_progress_atfork_parent();
}

static void ref_one(int fd, struct tc_sock *s, void *arg)
{
	struct walk *w = arg;

	(void)fd;
	if (s->mark == w->gen || !s->shm || s->closing)
		return;             /* (a closed connection's end: this process's alone, close_later.h) */
	s->mark = w->gen;
	tc_sock_proc_ref(s, w->delta);
}

/* The table lock is inherited locked from prepare(). */
static void child(void)
{
	tc_pid = getpid();
	pthread_mutex_unlock(&tc_fd_lock);
	tc_progress_atfork_child();
	tc_debug("forked: child %d shares the parent's connections", (int)tc_pid);
}

void tc_fork_init(void)
{
	tc_pid = getpid();
	pthread_atfork(prepare, parent, child);
}

void tc_fork_proc_refs(int delta)
{
	struct walk w;

	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		return;
	w.gen = __atomic_add_fetch(&walk_gen, 1, __ATOMIC_RELAXED);
	w.delta = delta;
	tc_fd_foreach(ref_one, &w);
}

