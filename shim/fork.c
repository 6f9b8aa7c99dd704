/*
 * fork.c - see fork.h. pthread_atfork handlers rather than a fork()
 * wrapper, so daemon() and every other path to fork are covered too.
 */
#include "config.h"

#include <pthread.h>

#include "fdtable.h"
#include "fork.h"
#include "libc_syms.h"
#include "progress.h"
#include "shim.h"
#include "sock.h"

static unsigned walk_gen;

static void prepare(void)
{
	tc_progress_atfork_prepare();
	pthread_mutex_lock(&tc_fd_lock);
}

static void parent(void)
{
	pthread_mutex_unlock(&tc_fd_lock);
	tc_progress_atfork_parent();
}

/* Calls fn once per connection object (fds sharing one count once);
 * the table lock is held by tc_fd_foreach or by the caller. */
struct walk {
	unsigned gen;
	int delta;
};

static void ref_one(int fd, struct tc_sock *s, void *arg)
{
	struct walk *w = arg;

	(void)fd;
	if (s->mark == w->gen || !s->shm)
		return;
	s->mark = w->gen;
	tc_sock_proc_ref(s, w->delta);
}

/* The table lock is inherited locked from prepare(): walk without taking it. */
static void child(void)
{
	struct walk w = { ++walk_gen, 1 };

	pthread_mutex_unlock(&tc_fd_lock);
	tc_fd_foreach(ref_one, &w);
	tc_progress_atfork_child();
}

void tc_fork_init(void)
{
	pthread_atfork(prepare, parent, child);
}

/* The process image is about to go: its references on shared state go
 * with it (and come back if execve fails). */
TC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	struct walk w;
	int r, saved;

	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		return tc_real_execve(path, argv, envp);
	w.gen = ++walk_gen;
	w.delta = -1;
	tc_fd_foreach(ref_one, &w);
	r = tc_real_execve(path, argv, envp);
	saved = errno;
	w.gen = ++walk_gen;
	w.delta = 1;
	tc_fd_foreach(ref_one, &w);
	errno = saved;
	return r;
}
