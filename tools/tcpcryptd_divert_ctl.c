/* tcpcryptd_divert_ctl.c - the divert backend's control socket: binary
 * opt-in / result requests with the socket passed as SCM_RIGHTS
 * (include/tcpcrypt/divert_proto.h), and the text requests "status" and
 * "list". Never blocks: clients are polled, and one that sends nothing
 * within a second is dropped. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "tcpcryptd_ctl.h"
#include "tcpcryptd_divert.h"
#include "tcpcryptd_log.h"

#define MAXCLI 64
#define CLI_TIMEOUT_MS 1000

struct dv_cli {
	int fd;
	uint64_t t_ms;
	struct ucred cred;
};

struct dv_ctl {
	int lfd;
	char path[PATH_MAX];
	struct dv_cli cli[MAXCLI];
	int ncli;
};

struct dv_ctl *dv_ctl_open(const char *path)
{
	struct dv_ctl *c = calloc(1, sizeof(*c));
	int fd;

	if (!c)
		return NULL;
	fd = tcctl_open(path);
	if (fd < 0) {
		tclog(LOG_ERR, "cannot create control socket %s: %s", path, strerror(-fd));
		free(c);
		return NULL;
	}
	c->lfd = fd;
	snprintf(c->path, sizeof(c->path), "%s", path);
	return c;
}

void dv_ctl_close(struct dv_ctl *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->ncli; i++)
		close(c->cli[i].fd);
	tcctl_close(c->lfd, c->path);
	free(c);
}

int dv_ctl_pollfds(struct dv_ctl *c, struct pollfd *pfd, int max)
{
	int i, n = 0;

	if (max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
	for (i = 0; i < c->ncli && n < max; i++)
		pfd[n++] = (struct pollfd){ .fd = c->cli[i].fd, .events = POLLIN };
	return n;
}

static void drop(struct dv_ctl *c, int i)
{
	close(c->cli[i].fd);
	c->cli[i] = c->cli[--c->ncli];
}

static void send_all(int fd, const void *b, size_t n)
{
	const char *p = b;
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void answer_binary(struct dv_cli *cl, const struct tcd_req *rq, int sfd)
{
	struct tcd_resp rs;
	int r;

	memset(&rs, 0, sizeof(rs));
	rs.magic = TCD_MAGIC;
	if (sfd < 0)
		r = -EBADF;
	else if (rq->op == TCD_OP_OPTIN)
		r = dv_optin(sfd, &rq->offer, &cl->cred);
	else if (rq->op == TCD_OP_RESULT)
		r = dv_result(sfd, &rs.res);
	else
		r = -EINVAL;
	rs.err = -r;
	send_all(cl->fd, &rs, sizeof(rs));
}

static void answer_text(struct dv_cli *cl, char *req, size_t n)
{
	char buf[2048];
	FILE *out;

	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	out = fmemopen(buf, sizeof(buf), "w");
	if (!out)
		return;
	if (!strcmp(req, "status")) {
		dv_status(out);
		fputs("ok\n", out);
	} else if (!strcmp(req, "list")) {
		fputs("ok\n", out);  /* the divert backend keeps no session list */
	} else {
		fputs("error unknown request (try: list, status)\n", out);
	}
	fflush(out);
	send_all(cl->fd, buf, strnlen(buf, sizeof(buf)));
	fclose(out);
}

/* Reads the one request of client i and answers it. */
static void serve_one(struct dv_ctl *c, int i)
{
	struct dv_cli *cl = &c->cli[i];
	union {
		struct tcd_req rq;
		char text[256];
	} u;
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = &u, .iov_len = sizeof(u) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			     .msg_controllen = sizeof(cb.b) };
	struct cmsghdr *cm;
	int sfd = -1;
	ssize_t n;

	n = recvmsg(cl->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len >= CMSG_LEN(0)) {
			size_t k, nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int f;

			for (k = 0; k < nfd; k++) {
				memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
				if (sfd < 0)
					sfd = f;
				else
					close(f);       /* one socket per request */
			}
		}
	}
	if (n >= (ssize_t)sizeof(u.rq) && u.rq.magic == TCD_MAGIC)
		answer_binary(cl, &u.rq, sfd);
	else if (n > 0)
		answer_text(cl, u.text, (size_t)n);
	if (sfd >= 0)
		close(sfd);
	drop(c, i);
}

void dv_ctl_serve(struct dv_ctl *c, const struct pollfd *pfd, int n, uint64_t now_ms)
{
	int i, k;

	/* clients first: pfd[1..] are c->cli[0..] as they were when polled */
	for (i = n - 1; i >= 1; i--) {
		if (i - 1 >= c->ncli || c->cli[i - 1].fd != pfd[i].fd)
			continue;
		if (pfd[i].revents)
			serve_one(c, i - 1);
	}
	for (i = c->ncli - 1; i >= 0; i--)
		if (now_ms - c->cli[i].t_ms > CLI_TIMEOUT_MS)
			drop(c, i);
	if (n >= 1 && (pfd[0].revents & POLLIN)) {
		for (k = 0; k < 16 && c->ncli < MAXCLI; k++) {
			struct dv_cli *cl = &c->cli[c->ncli];
			socklen_t l = sizeof(cl->cred);
			int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd < 0)
				break;
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cl->cred, &l) < 0) {
				close(fd);
				continue;
			}
			cl->fd = fd;
			cl->t_ms = now_ms;
			c->ncli++;
			/* the request is usually there already */
			serve_one(c, c->ncli - 1);
		}
	}
}
