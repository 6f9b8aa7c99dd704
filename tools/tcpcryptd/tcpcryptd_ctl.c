/* tcpcryptd_ctl.c - the control socket: "list" for tcnetstat, "status". */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include "tcpcryptd_ctl.h"
#include "tcpcryptd_bpf.h"
#include "tcpcryptd_log.h"
#include "tc_session_fmt.h"

int tcctl_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], *slash;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);            /* a stale socket: we hold the pin dir lock */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 64) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		return -e;
	}
	return fd;
}

void tcctl_close(int lfd, const char *path)
{
	if (lfd >= 0) {
		close(lfd);
		unlink(path);
	}
}

struct list_ctx {
	FILE *out;
	uid_t uid;
	unsigned n;
};

static int list_one(uint64_t cookie, const struct tc_session *s, void *arg)
{
	struct list_ctx *lc = arg;
	char line[1024];

	if (s->state == 7 /* BPF_TCP_CLOSE */)
		return 0;
	if (lc->uid != 0 && s->uid != lc->uid)
		return 0;
	if (tcs_format(cookie, s, line, sizeof(line)) > 0) {
		fputs(line, lc->out);
		lc->n++;
	}
	return 0;
}

static const char *const counter_names[TC_C_MAX] = {
	"opt_in", "syn_eno", "synack_eno", "synack_plain", "synack_rtx", "ack_eno",
	"ok_a", "ok_b", "fallback", "no_space", "reports", "errors", "state_lost",
};

static void status(FILE *out, const struct tcpcryptd_cfg *cfg, struct tc_backend *b)
{
	struct list_ctx lc = { .out = NULL, .uid = 0 };
	uint64_t c[TC_C_MAX];
	int i;

	fprintf(out, "backend ebpf\ncgroup %s\npin_dir %s\ncontrol %s\npid %d\n", cfg->cgroup,
		cfg->pin_dir, cfg->control, (int)getpid());
	lc.out = fopen("/dev/null", "we");
	if (lc.out) {
		tcb_foreach_session(b, list_one, &lc);
		fclose(lc.out);
	}
	fprintf(out, "sessions %u\n", lc.n);
	tcb_features(b, out);
	if (tcb_counters(b, c) == 0)
		for (i = 0; i < TC_C_MAX; i++)
			fprintf(out, "counter %s %llu\n", counter_names[i], (unsigned long long)c[i]);
}

void tcctl_serve(int lfd, const struct tcpcryptd_cfg *cfg, struct tc_backend *b)
{
	struct timeval tv = { .tv_sec = 1 };
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char req[128];
	ssize_t n;
	size_t got = 0;
	FILE *out;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		close(fd);
		return;
	}
	/* a client that sends nothing must not hang the daemon */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		n = read(fd, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += n;
		if (memchr(req, '\n', got))
			break;
	}
	req[got] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		return;
	}
	tclog(LOG_DEBUG, "request \"%s\" from pid %d uid %d", req, (int)cred.pid, (int)cred.uid);
	if (!strcmp(req, "list")) {
		struct list_ctx lc = { .out = out, .uid = cred.uid };

		tcb_foreach_session(b, list_one, &lc);
		fputs("ok\n", out);
	} else if (!strcmp(req, "status")) {
		status(out, cfg, b);
		fputs("ok\n", out);
	} else {
		fputs("error unknown request (try: list, status)\n", out);
	}
	fclose(out);
}
