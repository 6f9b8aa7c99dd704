/*
 * tct_host.c - see tct_host.h: the checks that need no network peer.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "tcpcrypt/tcpcrypt.h"
#include "eno.h"
#include "tct_host.h"

#ifndef TC_PKGLIBDIR
#define TC_PKGLIBDIR "/usr/local/lib/tcpcrypt"
#endif
#ifndef TC_BINDIR
#define TC_BINDIR "/usr/local/bin"
#endif

void tct_check(struct tct_ctx *c, enum tct_verdict v, const char *what, const char *fmt, ...)
{
	static const char *const word[] = { "[  ok  ]", "[ FAIL ]", "[ skip ]", "[ warn ]",
					    "[ note ]" };
	char detail[1024] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (v == TCT_FAIL)
		c->failed++;
	if (v == TCT_WARN)
		c->warned++;
	if (!c->quiet && (c->verbose || v == TCT_FAIL || v == TCT_WARN || v == TCT_NOTE))
		printf("%s %s%s%s\n", word[v], what, detail[0] ? ": " : "", detail);
	fflush(stdout);
}

/* Copies the value of "key value" line into dst if line starts with key. */
static void status_field(const char *line, const char *key, char *dst, size_t cap)
{
	size_t k = strlen(key);

	if (!strncmp(line, key, k) && line[k] == ' ')
		snprintf(dst, cap, "%.*s", (int)strcspn(line + k + 1, "\n"), line + k + 1);
}

int tct_check_daemon(struct tct_ctx *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	char line[PATH_MAX + 64], pid[32] = "?", sessions[32] = "?", what[PATH_MAX + 64];
	FILE *f;
	int fd, ok = 0;

	c->nfeat = 0;
	snprintf(what, sizeof(what), "tcpcryptd answers on %s", c->control);
	if (strlen(c->control) >= sizeof(sa.sun_path)) {
		tct_check(c, TCT_FAIL, what, "path too long");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, c->control);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tct_check(c, TCT_FAIL, what, "socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, "status\n", 7) != 7) {
		int e = errno;

		close(fd);
		tct_check(c, TCT_FAIL, what, "tcpcryptd is not running (%s: %s)%s", c->control, strerror(e),
			  e == EACCES ? "" : "; start it (systemctl start tcpcryptd) or give its socket with -u");
		return -e;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		tct_check(c, TCT_FAIL, what, "out of memory");
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "ok\n")) {
			ok = 1;
			break;
		}
		status_field(line, "backend", c->backend, sizeof(c->backend));
		status_field(line, "cgroup", c->cgroup, sizeof(c->cgroup));
		status_field(line, "pin_dir", c->pin_dir, sizeof(c->pin_dir));
		status_field(line, "pid", pid, sizeof(pid));
		status_field(line, "sessions", sessions, sizeof(sessions));
		tct_feature_parse(c, line);
	}
	fclose(f);
	if (!ok) {
		tct_check(c, TCT_FAIL, what, "no complete answer to \"status\"");
		return -EPROTO;
	}
	c->daemon_up = 1;
	tct_check(c, TCT_OK, what, "pid %s, backend %s, serves cgroup %s, %s live sessions", pid,
		  c->backend[0] ? c->backend : "?", c->cgroup[0] ? c->cgroup : "?", sessions);
	return 0;
}

/* Number of programs of attach type t on the cgroup fd, or a negative errno. */
static int attached_count(int cgfd, unsigned t)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (unsigned)cgfd;
	a.query.attach_type = t;
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a)) < 0)
		return -errno;
	return (int)a.query.prog_cnt;
}

/* 1 if path, or its nearest existing ancestor, is on a bpf filesystem. */
static int on_bpffs(const char *path)
{
	char p[PATH_MAX];
	struct statfs sf;
	char *slash;

	snprintf(p, sizeof(p), "%s", path);
	while (statfs(p, &sf) < 0) {
		slash = strrchr(p, '/');
		if (!slash || slash == p)
			return 0;
		*slash = '\0';
	}
	return sf.f_type == BPF_FS_MAGIC;
}

int tct_check_programs(struct tct_ctx *c)
{
	static const char *const names[3] = { "tc_sockops", "tc_setsockopt", "tc_getsockopt" };
	static const unsigned types[3] = { BPF_CGROUP_SOCK_OPS, BPF_CGROUP_SETSOCKOPT,
					   BPF_CGROUP_GETSOCKOPT };
	char path[PATH_MAX + 32], what[PATH_MAX + 64];
	struct stat st;
	int i, cgfd, n, bad = 0;

	if (c->pin_dir[0])
		snprintf(what, sizeof(what), "programs pinned in %s", c->pin_dir);
	else
		snprintf(what, sizeof(what), "tcpcryptd's programs pinned");
	if (!c->daemon_up || strcmp(c->backend, "ebpf")) {
		tct_check(c, TCT_SKIP, what, c->daemon_up ? "backend %s pins no programs" : "%s",
			  c->daemon_up ? c->backend : "no daemon to ask where");
	} else if (!on_bpffs(c->pin_dir)) {
		tct_check(c, TCT_SKIP, what, "no bpffs is mounted here (a namespace of `ip netns exec`?)");
	} else {
		for (i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/%s", c->pin_dir, names[i]);
			if (stat(path, &st) == 0)
				continue;
			if (errno == EACCES) {
				tct_check(c, TCT_SKIP, what, "cannot look into it (run as root)");
				break;
			}
			tct_check(c, TCT_FAIL, what, "%s is missing: %s", names[i], strerror(errno));
			bad = 1;
			break;
		}
		if (i == 3)
			tct_check(c, TCT_OK, what, "tc_sockops tc_setsockopt tc_getsockopt");
	}

	snprintf(what, sizeof(what), "programs attached to the served cgroup");
	if (!c->daemon_up || strcmp(c->backend, "ebpf") || !c->cgroup[0])
		return bad ? -ENOENT : 0;
	cgfd = open(c->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		tct_check(c, TCT_SKIP, what, "cannot open %s here: %s", c->cgroup, strerror(errno));
		return bad ? -ENOENT : 0;
	}
	for (i = 0; i < 3; i++) {
		n = attached_count(cgfd, types[i]);
		if (n == -EPERM || n == -EACCES) {
			tct_check(c, TCT_SKIP, what, "querying needs CAP_NET_ADMIN (run as root)");
			break;
		}
		if (n <= 0) {
			tct_check(c, TCT_FAIL, what, "no %s program attached to %s%s%s", names[i] + 3,
				  c->cgroup, n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
			bad = 1;
			break;
		}
	}
	if (i == 3)
		tct_check(c, TCT_OK, what, "sock_ops, setsockopt and getsockopt hooks on %s", c->cgroup);
	close(cgfd);
	return bad ? -ENOENT : 0;
}

/* This process's cgroup v2 path (from /proc/self/cgroup) into buf. */
static void own_cgroup(char *buf, size_t cap)
{
	char line[PATH_MAX + 8];
	FILE *f = fopen("/proc/self/cgroup", "re");

	snprintf(buf, cap, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			snprintf(buf, cap, "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
			break;
		}
	fclose(f);
}

int tct_check_opt_in(struct tct_ctx *c)
{
	struct tcpcrypt_eno_offer offer;
	struct tc_eno_policy pol;
	char cg[PATH_MAX];
	int fd, n, e = 0;
	const char *what = "this process can opt sockets in to TCP-ENO";

	if (c->daemon_up && c->backend[0] && strcmp(c->backend, "ebpf")) {
		tct_check(c, TCT_SKIP, what, "backend %s: sockets opt in through the daemon", c->backend);
		return 0;
	}
	memset(&pol, 0, sizeof(pol));
	pol.teps[0] = TCPCRYPT_TEP_ECDHE_CURVE25519;
	pol.nteps = 1;
	memset(&offer, 0, sizeof(offer));
	offer.version = TCPCRYPT_ENO_ABI_VERSION;
	n = tc_eno_build_offer(&pol, 0, offer.content, sizeof(offer.content));
	offer.len = (uint8_t)(n > 0 ? n : 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &offer, sizeof(offer)) < 0)
		e = errno;
	if (fd >= 0)
		close(fd);
	own_cgroup(cg, sizeof(cg));
	if (!e) {
		tct_check(c, TCT_OK, what, "cgroup %s is served", cg);
		return 0;
	}
	if (e == ENOPROTOOPT && c->daemon_up)
		tct_check(c, TCT_FAIL, what, "the opt-in setsockopt answered ENOPROTOOPT: this process "
			  "is in cgroup %s, tcpcryptd serves %s (run the program inside it)",
			  cg, c->cgroup);
	else if (e == ENOPROTOOPT)
		tct_check(c, TCT_FAIL, what, "tcpcryptd not running: the opt-in setsockopt answered "
			  "ENOPROTOOPT");
	else
		tct_check(c, TCT_FAIL, what, "the opt-in setsockopt failed: %s", strerror(e));
	return -e;
}

/* dirname of this program, one level up when libtool put it in .libs. */
static void self_dir(const struct tct_ctx *c, char *dir, size_t cap)
{
	char *slash;

	snprintf(dir, cap, "%s", c->self);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(dir, '/');
	if (slash && !strcmp(slash, "/.libs"))
		*slash = '\0';
}

void tct_find_run(const struct tct_ctx *c, char *run, size_t runcap, char *shim, size_t shimcap)
{
	char dir[PATH_MAX];

	self_dir(c, dir, sizeof(dir));
	/* in a build tree this program is tools/tcpcrypt-test/tcpcrypt-test */
	snprintf(run, runcap, "%s/../../tcpcrypt-run", dir);
	snprintf(shim, shimcap, "%s/../../shim/.libs/libtcpcrypt-shim.so", dir);
	if (access(run, X_OK) == 0 && access(shim, R_OK) == 0)
		return;         /* a build tree */
	snprintf(run, runcap, "%s/tcpcrypt-run", TC_BINDIR);
	snprintf(shim, shimcap, "%s/libtcpcrypt-shim.so", TC_PKGLIBDIR);
}

int tct_peer_preloaded(const char *shim)
{
	if (dlopen(shim, RTLD_LAZY | RTLD_NOLOAD))
		return 0;
	printf("%s is not loaded in this process\n", shim);
	return 1;
}

/* The shim is a preload module (initial-exec TLS: dlopen() of it fails by
 * design), so it is tried the way tcpcrypt-run uses it: this program is
 * run again with LD_PRELOAD set, and asked whether the shim is mapped;
 * ld.so's complaint, if any, comes back through the pipe. */
int tct_check_shim(struct tct_ctx *c, const char *shim)
{
	char what[PATH_MAX + 32], msg[1024] = "";
	size_t got = 0;
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	snprintf(what, sizeof(what), "the shim loads (%s)", shim);
	if (access(shim, R_OK) < 0) {
		tct_check(c, TCT_FAIL, what, "%s", strerror(errno));
		return -ENOENT;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		tct_check(c, TCT_FAIL, what, "pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		setenv("LD_PRELOAD", shim, 1);
		setenv("TCPCRYPT_LOG", "none", 1);
		execl(c->self, c->self, "--peer-preloaded", shim, (char *)NULL);
		printf("cannot run %s: %s\n", c->self, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		tct_check(c, TCT_FAIL, what, "fork: %s", strerror(errno));
		return -EAGAIN;
	}
	while (got < sizeof(msg) - 1 && (n = read(p[0], msg + got, sizeof(msg) - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		tct_check(c, TCT_OK, what, "preloaded into a child");
		return 0;
	}
	tct_check(c, TCT_FAIL, what, "%s", msg[0] ? msg : "the preloaded child died");
	return -ELIBBAD;
}
