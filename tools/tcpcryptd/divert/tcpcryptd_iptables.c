/* tcpcryptd_iptables.c - install and remove the divert backend's rules by
 * running iptables/ip6tables (the kernel has no native nft queue, see
 * ENO-MECHANISMS.md A.1; iptables-nft uses the xtables compat target). */
#include "config.h"
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "tcpcryptd_iptables.h"
#include "tcpcryptd_divert_tab.h"
#include "tcpcryptd_log.h"

#define MAXARG 40

static const char *const tools[2] = { "iptables", "ip6tables" };
static int target_ns = -1;

void dv_ipt_set_netns(int nsfd)
{
	target_ns = nsfd;
}

/* Runs tool with args (NULL-terminated), quietly. Returns its exit status
 * or -errno. */
static int run(const char *tool, const char *const *args)
{
	const char *argv[MAXARG + 3];
	sigset_t none;
	pid_t pid;
	int i = 0, st, fd;

	argv[i++] = tool;
	argv[i++] = "-w";
	while (*args && i < MAXARG)
		argv[i++] = *args++;
	argv[i] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (target_ns >= 0 && setns(target_ns, CLONE_NEWNET) < 0)
			_exit(126);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			/* connlabel warns about a missing connlabel.conf */
			dup2(fd, 2);
		}
		execvp(tool, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Runs one rule command; logs a failure. */
static int must(const char *tool, const char *const *args)
{
	int r = run(tool, args);
	char line[512];
	size_t n = 0;
	int i;

	if (r == 0)
		return 0;
	line[0] = '\0';
	for (i = 0; args[i] && n < sizeof(line) - 1; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s", args[i]);
	tclog(LOG_ERR, "%s%s: failed (%d)", tool, line, r);
	return -EIO;
}

#define MARKSPEC "0x54430000/0xffff0000"
#define Q(q) "-j", "NFQUEUE", "--queue-num", q, "--queue-bypass"
#define LABEL "-m", "connlabel", "--label", "69"
#define FIRST "-m", "connbytes", "--connbytes", "1:2", "--connbytes-dir", "reply", \
	"--connbytes-mode", "packets"
/* A's first segments into B: B's packets counted so far include its
 * SYN-ACK's retransmissions (one lost SYN-ACK makes three: the timer's,
 * and the answer to A's retransmitted SYN), and B decides on A's first
 * ACK, whenever it comes. A first ACK that gets past the queue anyway
 * leaves B's entry undecided: dv_result() then aborts (never plain). */
#define FIRST_IN "-m", "connbytes", "--connbytes", "1:5", "--connbytes-dir", "reply", \
	"--connbytes-mode", "packets"

static const char *const jump_out[] = { "-t", "mangle", "-D", "OUTPUT", "-p", "tcp", "-m",
	"mark", "--mark", MARKSPEC, "-j", "TCPCRYPT-OUT", NULL };
static const char *const jump_in[] = { "-t", "mangle", "-D", "INPUT", "-p", "tcp", "-j",
	"TCPCRYPT-IN", NULL };
static const char *const chains[] = { "TCPCRYPT-OUT", "TCPCRYPT-IN", "TCPCRYPT-SYN" };

static void remove_one(const char *tool)
{
	const char *a[8];
	int i, k;

	for (k = 0; k < 16 && run(tool, jump_out) == 0; k++)
		;
	for (k = 0; k < 16 && run(tool, jump_in) == 0; k++)
		;
	for (i = 0; i < 3; i++) {
		a[0] = "-t"; a[1] = "mangle"; a[2] = "-F"; a[3] = chains[i]; a[4] = NULL;
		run(tool, a);
	}
	for (i = 0; i < 3; i++) {
		a[0] = "-t"; a[1] = "mangle"; a[2] = "-X"; a[3] = chains[i]; a[4] = NULL;
		run(tool, a);
	}
}

void dv_ipt_remove(void)
{
	remove_one(tools[0]);
	remove_one(tools[1]);
}

static int install_one(const char *tool, const char *q)
{
	const char *const r1[] = { "-t", "mangle", "-A", "TCPCRYPT-OUT", "-p", "tcp", "--tcp-flags",
		"SYN", "SYN", "-m", "connlabel", "--label", "69", "--set", Q(q), NULL };
	const char *const r2[] = { "-t", "mangle", "-A", "TCPCRYPT-OUT", "-p", "tcp", "--tcp-flags",
		"SYN", "NONE", LABEL, FIRST, Q(q), NULL };
	/* SYNs to opted-in listeners: the listener's mark, restored only where
	 * the packet had none, and reset to none unless queued (the daemon's
	 * verdict resets it too), so no other rule ever sees a changed mark */
	const char *const r3[] = { "-t", "mangle", "-A", "TCPCRYPT-IN", "-p", "tcp", "--tcp-flags",
		"SYN,ACK,RST", "SYN", "-m", "mark", "--mark", "0", "-m", "socket", "--nowildcard",
		"--restore-skmark", "-j", "TCPCRYPT-SYN", NULL };
	/* over loopback the SYN still carries the connecting socket's mark */
	const char *const r3l[] = { "-t", "mangle", "-A", "TCPCRYPT-IN", "-p", "tcp", "--tcp-flags",
		"SYN,ACK,RST", "SYN", "-m", "mark", "--mark", MARKSPEC, "-m", "socket", "--nowildcard",
		"--restore-skmark", "-j", "TCPCRYPT-SYN", NULL };
	const char *const s1[] = { "-t", "mangle", "-A", "TCPCRYPT-SYN", "-m", "mark", "--mark",
		MARKSPEC, Q(q), NULL };
	const char *const s2[] = { "-t", "mangle", "-A", "TCPCRYPT-SYN", "-j", "MARK", "--set-mark",
		"0", NULL };
	const char *const r4[] = { "-t", "mangle", "-A", "TCPCRYPT-IN", "-p", "tcp", "--tcp-flags",
		"SYN,ACK,RST", "SYN,ACK", LABEL, Q(q), NULL };
	const char *const r5[] = { "-t", "mangle", "-A", "TCPCRYPT-IN", "-p", "tcp", "--tcp-flags",
		"SYN", "NONE", LABEL, FIRST_IN, Q(q), NULL };
	const char *const jo[] = { "-t", "mangle", "-I", "OUTPUT", "1", "-p", "tcp", "-m", "mark",
		"--mark", MARKSPEC, "-j", "TCPCRYPT-OUT", NULL };
	const char *const ji[] = { "-t", "mangle", "-I", "INPUT", "1", "-p", "tcp", "-j",
		"TCPCRYPT-IN", NULL };
	const char *a[6];
	int i;

	for (i = 0; i < 3; i++) {
		a[0] = "-t"; a[1] = "mangle"; a[2] = "-N"; a[3] = chains[i]; a[4] = NULL;
		if (must(tool, a))
			return -EIO;
	}
	if (must(tool, s1) || must(tool, s2) ||
	    must(tool, r1) || must(tool, r2) || must(tool, r3) || must(tool, r3l) || must(tool, r4) ||
	    must(tool, r5) || must(tool, jo) || must(tool, ji))
		return -EIO;
	return 0;
}

int dv_ipt_install(unsigned queue)
{
	char q[16];

	snprintf(q, sizeof(q), "%u", queue);
	dv_ipt_remove();
	if (install_one(tools[0], q) < 0 || install_one(tools[1], q) < 0) {
		dv_ipt_remove();
		return -EIO;
	}
	return 0;
}
