/*
 * sandbox.c - prctl(PR_SET_NO_NEW_PRIVS / PR_SET_SECCOMP): a process about
 * to enter a seccomp sandbox (OpenSSH's pre-auth child: read, write, poll,
 * shutdown, futex, mmap... and little else) first gets what the data path
 * would otherwise create lazily (the progress thread and its eventfd; the
 * filter binds the calling thread only, so that thread stays free), the
 * sockets' O_NONBLOCK recorded and their low-water marks reset; from then
 * on the data path calls only read, write, poll and shutdown (sock_io.c).
 * Sandboxes lower resource limits first (OpenSSH: no new fds, no new
 * processes or threads, no file growth), so a lower limit prepares the
 * thread too, and a file size limit ends the logs of this process (a
 * write past it would raise SIGXFSZ).
 *
 * A filter installed with the seccomp() system call through syscall()
 * (libseccomp does) gets the same preparation (syscall.c routes it here).
 * Not covered: a filter inherited across exec.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtable.h"
#include "libc_syms.h"
#include "guard.h"
#include "keylog.h"
#include "log.h"
#include "progress.h"
#include "shim.h"
#include "sock.h"
#include "session.h"
#include "tcpcrypt/tcpcrypt.h"

/* The Init exchange peeks (recvfrom) and writes the key log: finish it
 * before a filter or a file size limit (connect() does not wait for it). */
static void finish_one(int fd, struct tc_sock *s, void *arg)
{
	int st;

	(void)arg;
	if (s->kind != TC_K_CONN || !s->shm)
		return;
	st = tc_sock_state(s);
	if (st == TC_ST_CONNECTING || st == TC_ST_HANDSHAKE)
		tc_sock_wait_ready(s, fd, 3000);
}

static void prepare_one(int fd, struct tc_sock *s, void *arg)
{
	finish_one(fd, s, arg);
	if (s->kind != TC_K_CONN || !s->shm)
		return;
	tc_sock_sandbox(s, fd);
	tc_guard_open(fd);            /* no setsockopt in there (guard.h) */
}

static void finish_handshakes(void)
{
	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		return;
	tc_in_shim++;
	tc_fd_foreach(finish_one, NULL);
	tc_in_shim--;
}

/* Everything the data path needs once a filter may forbid the rest. */
static void prepare(int seccomp)
{
	if (!__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED))
		return;
	tc_in_shim++;
	tc_progress_start();
	/* libcrypto is opened at its first use (aead.c): before a filter that
	 * may forbid open and mmap */
	(void)tc_aead_supported(TCPCRYPT_AEAD_CHACHA20_POLY1305);
	if (seccomp) {
		tc_fd_foreach(prepare_one, NULL);
		__atomic_store_n(&tc_sandboxed, 1, __ATOMIC_RELEASE);
		tc_debug("entering a seccomp sandbox: read/write/poll data path from now on");
	}
	tc_in_shim--;
}

/* seccomp(2) through syscall(): SECCOMP_SET_MODE_STRICT or _FILTER is
 * about to bind this thread (the call itself is the caller's). */
void tc_sandbox_seccomp(unsigned int op)
{
	if (op == SECCOMP_SET_MODE_STRICT || op == SECCOMP_SET_MODE_FILTER) {
		int saved = errno;

		prepare(1);
		errno = saved;
	}
}

TC_EXPORT int prctl(int option, ...)
{
	unsigned long a[4];
	va_list ap;

	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (option == PR_SET_SECCOMP || (option == PR_SET_NO_NEW_PRIVS && a[0] == 1)) {
		int saved = errno;

		prepare(option == PR_SET_SECCOMP);
		errno = saved;
	}
	return (int)tc_syscall(SYS_prctl, option, a[0], a[1], a[2], a[3]);
}

/* A limit about to be lowered (new limits for this process). */
static void on_limit(int res, const struct rlimit *rl)
{
	int saved = errno;

	if (!rl || rl->rlim_cur == RLIM_INFINITY)
		return;
	if (res == RLIMIT_FSIZE || res == RLIMIT_NOFILE || res == RLIMIT_NPROC)
		finish_handshakes();  /* a sandbox is coming: the key log's lines first */
	if (res == RLIMIT_FSIZE) {
		tc_log_suspend();
		tc_keylog_suspend();
	}
	if (res == RLIMIT_NOFILE || res == RLIMIT_NPROC)
		prepare(0);
	errno = saved;
}

TC_EXPORT int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	on_limit((int)res, rl);
	return (int)tc_syscall(SYS_prlimit64, 0, (int)res, rl, NULL);
}

TC_EXPORT int setrlimit64(__rlimit_resource_t res, const struct rlimit64 *rl)
{
	on_limit((int)res, (const struct rlimit *)rl);
	return (int)tc_syscall(SYS_prlimit64, 0, (int)res, rl, NULL);
}

TC_EXPORT int prlimit(pid_t pid, __rlimit_resource_t res, const struct rlimit *rl, struct rlimit *old)
{
	if (pid == 0 || pid == getpid())
		on_limit((int)res, rl);
	return (int)tc_syscall(SYS_prlimit64, pid, (int)res, rl, old);
}

TC_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t res, const struct rlimit64 *rl, struct rlimit64 *old)
{
	if (pid == 0 || pid == getpid())
		on_limit((int)res, (const struct rlimit *)rl);
	return (int)tc_syscall(SYS_prlimit64, pid, (int)res, rl, old);
}
