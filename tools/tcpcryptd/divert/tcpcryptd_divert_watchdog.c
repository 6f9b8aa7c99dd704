/*
 * tcpcryptd_divert_watchdog.c - serves the divert daemon's NFQUEUE while
 * the daemon is stopped (SIGSTOP, a debugger) or hung, so that the
 * handshakes already queued complete within a bound, encrypted on both
 * ends or plain on both ends.
 *
 * Why: the kernel keeps a queued segment until a verdict comes; a stopped
 * daemon holds every handshake in its queue until it resumes. New sockets
 * go plain after the shim's 200 ms opt-in timeout, but those already
 * opted in wait. --queue-bypass only helps when nobody listens.
 *
 * Design:
 * - The watchdog is a clone of the daemon made at start (clone with
 *   CLONE_FILES, no CLONE_VM): its own memory, the same fd table. It runs
 *   in its own session (a job-control stop of the daemon's group does not
 *   stop it) and dies with the daemon (PR_SET_PDEATHSIG, and it checks
 *   getppid()).
 * - It runs the very same rules as the daemon (handle() and the table in
 *   tcpcryptd_divert_tab.c, the offers in shared memory), through the same
 *   netlink socket (same portid, so the kernel takes its verdicts) via a
 *   duplicate fd of its own, and writes the table via its own duplicate.
 *   No second set of rules: what the watchdog decides is what the daemon
 *   would have decided, so handshakes stay encrypted where both ends opt
 *   in, and the table the shim falls back to tells the truth.
 * - The daemon bumps a heartbeat at every turn of its loop. When segments
 *   have been waiting for DV_WD_STALL_MS and the heartbeat has not moved,
 *   the watchdog takes over: it points the daemon's queue fd and table fd
 *   at a dead socket (dup2 in the shared fd table). From then on whatever
 *   the stopped daemon does when it resumes (a verdict, a table write, a
 *   read of the queue) goes nowhere: the kernel, not a flag the daemon
 *   might check too early, keeps it from contradicting the watchdog.
 * - The daemon reads each segment with MSG_PEEK and consumes it only after
 *   the table write and the verdict. So a segment the daemon had read but
 *   not judged is still in the socket: the watchdog reads it and judges it
 *   again. The rules are idempotent on a segment already applied (they
 *   serve retransmissions the same way), and a second verdict for a packet
 *   id is refused by the kernel (ENOENT), so a verdict the daemon did send
 *   before it stopped is harmless too.
 * - A syscall the daemon had begun on the old fds (running, not stopped)
 *   still completes on them; the watchdog waits until the daemon is out of
 *   its segment bracket or seen stopped (a stopped task is never inside
 *   these non-blocking calls) before it reads the queue.
 * - When the heartbeat moves again, the daemon has left whatever it was
 *   doing when it stopped; the watchdog, between two segments, puts the
 *   daemon's fds back and goes back to watching.
 * - Whoever serves the queue stamps the table (judged_ms in struct
 *   tcd_tab) with the time it sampled just before finding the queue
 *   empty: every segment queued before then has been judged. The daemon
 *   stamps only while it holds its fds (sampled before the look, when
 *   dv_wd_revoked() is 0: a takeover after that revokes the table fd too,
 *   and no hand back comes before its next loop turn); the watchdog stamps
 *   while it serves, and at each of its 10 ms checks that finds the queue
 *   empty (segments are consumed only once judged, so an empty queue
 *   vouches for every segment queued before, whoever judged it: a stopped
 *   daemon with an idle queue does not make a result request wait). A's shim, when its result request went unanswered
 *   (200 ms), waits until the stamp is past its request before reading
 *   the table, so A's first ACK (queued before connect() returned) has
 *   been judged whether the daemon or the watchdog served it, however
 *   late the watchdog was (tests/divert/divert_window.sh).
 * Limits: both processes stopped means a stall, as before. The shim waits
 * for the stamp 300 ms at most (TC_DIVERT_JUDGED_MS): if the watchdog has
 * not served the queue within 500 ms of A's request (both stopped, or the
 * watchdog starved that long), A decides from the table as it is, logs
 * it at info level, and may go plain while B encrypts. The stamp is
 * written when the queue drains, at most once per ms per process.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "tcpcryptd_divert.h"
#include "tcpcryptd_divert_tab.h"
#include "tcpcryptd_divert_watchdog.h"
#include "tcpcryptd_log.h"

struct wd_shared {
	uint64_t hb;        /* turns of the daemon's loop */
	uint32_t owner;     /* 1 while the watchdog holds the queue */
	uint32_t in_step;   /* the daemon is between a peek and its consumption */
	uint32_t quit;      /* the daemon is stopping: hand back and exit */
};

static struct wd_shared *sh;
static pid_t wd_pid = -1, daemon_pid;
static int q_fd = -1, t_fd = -1;     /* the daemon's (revoked on takeover) */
static int wq_fd = -1, wt_fd = -1;   /* the watchdog's duplicates */
static int dead_fd = -1;             /* an unbound AF_UNIX socket: never readable */

void dv_wd_beat(void)
{
	if (sh)
		__atomic_add_fetch(&sh->hb, 1, __ATOMIC_SEQ_CST);
}

void dv_wd_step_begin(void)
{
	if (sh)
		__atomic_store_n(&sh->in_step, 1, __ATOMIC_SEQ_CST);
}

void dv_wd_step_end(void)
{
	if (sh)
		__atomic_store_n(&sh->in_step, 0, __ATOMIC_SEQ_CST);
}

int dv_wd_revoked(void)
{
	return sh && __atomic_load_n(&sh->owner, __ATOMIC_SEQ_CST);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* 1 if the daemon is stopped (job control or ptrace). */
static int daemon_stopped(void)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)daemon_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
}

static void take_over(void)
{
	int i;

	__atomic_store_n(&sh->owner, 1, __ATOMIC_SEQ_CST);
	dup2(dead_fd, q_fd);
	dup2(dead_fd, t_fd);
	/* a call the daemon began on the old fds still completes on them */
	for (i = 0; i < 100 && __atomic_load_n(&sh->in_step, __ATOMIC_SEQ_CST) && !daemon_stopped(); i++)
		sleep_ms(1);
	dv_tab_set_fd(wt_fd);
}

static void hand_back(void)
{
	dup2(wt_fd, t_fd);
	dup2(wq_fd, q_fd);
	__atomic_store_n(&sh->owner, 0, __ATOMIC_SEQ_CST);
}

static int queue_waiting(void)
{
	struct pollfd p = { .fd = wq_fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Judges up to 64 queued segments; when the queue is found empty, stamps
 * the table (judged_ms) with the time sampled before that look. Returns
 * the number judged. */
static unsigned serve_batch(void)
{
	unsigned n;
	uint64_t t;
	int r;

	for (n = 0; n < 64; n++) {
		t = dv_now_ms();
		r = dv_queue_step(wq_fd, 0);
		if (r == 0)
			(void)dv_tab_judged(t);
		if (r <= 0)
			break;
	}
	return n;
}

/* The watchdog's life (the child). */
static void wd_main(void)
{
	uint64_t hb = 0, since = 0, now, held = 0, took = 0;
	sigset_t none;
	int active = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != daemon_pid)
		_exit(0);
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "tcpcryptd-wd");
	dv_tab_set_fd(wt_fd);       /* our own duplicate: never revoked */
	for (;;) {
		if (getppid() != daemon_pid)
			_exit(0);
		if (__atomic_load_n(&sh->quit, __ATOMIC_SEQ_CST)) {
			if (active)
				hand_back();
			_exit(0);
		}
		now = dv_now_ms();
		if (!active) {
			uint64_t h = __atomic_load_n(&sh->hb, __ATOMIC_SEQ_CST);
			int waiting = queue_waiting();

			/* segments are consumed only once judged: an empty
			 * queue vouches for all queued before now, whoever
			 * judged them (a stopped daemon's idle queue too) */
			if (!waiting)
				(void)dv_tab_judged(now);
			if (h != hb || !waiting) {
				hb = h;
				since = 0;
			} else if (!since) {
				since = now;
			} else if (now - since >= DV_WD_STALL_MS) {
				take_over();
				hb = __atomic_load_n(&sh->hb, __ATOMIC_SEQ_CST);
				active = 1;
				held = 0;
				took = dv_now_ms();
				tclog(LOG_WARNING, "watchdog: the daemon's loop has not turned for %llu ms "
				      "with segments queued: serving the queue",
				      (unsigned long long)(now - since));
				continue;
			}
			sleep_ms(10);
			continue;
		}
		if (__atomic_load_n(&sh->hb, __ATOMIC_SEQ_CST) != hb) {
			hand_back();
			active = 0;
			since = 0;
			hb = __atomic_load_n(&sh->hb, __ATOMIC_SEQ_CST);
			tclog(LOG_NOTICE, "watchdog: the daemon runs again: handed back after %llu ms, "
			      "%llu segments judged", (unsigned long long)(dv_now_ms() - took),
			      (unsigned long long)held);
			continue;
		}
		{
			struct pollfd p = { .fd = wq_fd, .events = POLLIN };

			poll(&p, 1, 10);
		}
		held += serve_batch();
	}
}

int dv_wd_start(int qfd)
{
	void *m;
	long pid;

	if (dv_tab_fd() < 0)
		return -ENOENT;     /* no shared table: nothing to share decisions through */
	m = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	q_fd = qfd;
	t_fd = dv_tab_fd();
	wq_fd = fcntl(q_fd, F_DUPFD_CLOEXEC, 3);
	wt_fd = fcntl(t_fd, F_DUPFD_CLOEXEC, 3);
	dead_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (wq_fd < 0 || wt_fd < 0 || dead_fd < 0 || dv_offer_share() < 0) {
		int e = errno;

		close(wq_fd);
		close(wt_fd);
		close(dead_fd);
		munmap(m, sizeof(*sh));
		return -e;
	}
	sh = m;
	daemon_pid = getpid();
	pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		int e = errno;

		munmap(m, sizeof(*sh));
		sh = NULL;
		return -e;
	}
	if (pid == 0) {
		wd_main();
		_exit(0);
	}
	wd_pid = (pid_t)pid;
	return 0;
}

void dv_wd_stop(void)
{
	int i, st;

	if (wd_pid < 0)
		return;
	__atomic_store_n(&sh->quit, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 100 && waitpid(wd_pid, &st, WNOHANG) == 0; i++)
		sleep_ms(5);
	if (i == 100) {
		kill(wd_pid, SIGKILL);
		waitpid(wd_pid, &st, 0);
		dup2(wt_fd, t_fd);
		dup2(wq_fd, q_fd);
	}
	wd_pid = -1;
	close(wq_fd);
	close(wt_fd);
	close(dead_fd);
	__atomic_store_n(&sh->owner, 0, __ATOMIC_SEQ_CST);
}
