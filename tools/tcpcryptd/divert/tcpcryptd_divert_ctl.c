/* tcpcryptd_divert_ctl.c - the divert backend's control socket: binary
 * opt-in / result / report requests with the socket passed as SCM_RIGHTS
 * (include/tcpcrypt/divert_proto.h), and the text requests "status" and
 * "list". Never blocks: clients are polled, one that sends nothing within a
 * second is dropped, and a long answer is sent as the client reads it.
 * Fair between users (SO_PEERCRED): one uid holds at most MAXCLI_UID
 * slots, and a new client of another uid always gets one (see admit()),
 * so that a user who opens connections and sends nothing cannot make the
 * opt-ins of others time out (their connections would go plain). */
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
#include "tcpcryptd_divert_req.h"
#include "tcpcryptd_divert_sessions.h"
#include "tcpcryptd_log.h"

#define MAXCLI 64
#define MAXCLI_UID 8                   /* slots one uid may hold at once */
#define ACCEPT_BATCH 64                /* new clients taken per turn */
#define CLI_TIMEOUT_MS 1000            /* without a request, or without reading the answer */
#define OUT_MAX_TOTAL (16u << 20)      /* answers waiting to be read, all clients */

struct dv_cli {
	int fd;
	uint64_t t_ms;
	struct ucred cred;
	char *out;                     /* the rest of a long answer */
	size_t olen, ooff;
};

struct dv_ctl {
	int lfd;
	char path[PATH_MAX];
	struct dv_cli cli[MAXCLI];
	int ncli;
	size_t out_total;
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

static void drop(struct dv_ctl *c, int i)
{
	close(c->cli[i].fd);
	c->out_total -= c->cli[i].olen;
	free(c->cli[i].out);
	c->cli[i] = c->cli[--c->ncli];
}

void dv_ctl_close(struct dv_ctl *c)
{
	if (!c)
		return;
	while (c->ncli)
		drop(c, c->ncli - 1);
	tcctl_close(c->lfd, c->path);
	dv_sess_fini();
	free(c);
}

int dv_ctl_pollfds(struct dv_ctl *c, struct pollfd *pfd, int max)
{
	int i, n = 0;

	if (max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
	for (i = 0; i < c->ncli && n < max; i++)
		pfd[n++] = (struct pollfd){ .fd = c->cli[i].fd,
					    .events = c->cli[i].out ? POLLOUT : POLLIN };
	return n;
}

/* Sends what the socket takes now; returns 1 once all of it went (or the
 * client is gone), 0 if some is left. */
static int send_some(int fd, const char *p, size_t n, size_t *off)
{
	ssize_t w;

	while (*off < n) {
		w = send(fd, p + *off, n - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w <= 0)
			return 1;
		*off += (size_t)w;
	}
	return 1;
}

/* Answers with buf (malloc'ed, taken over): at once if the socket takes
 * it, else the rest is kept for POLLOUT. Returns 1 when done with the client. */
static int answer(struct dv_ctl *c, struct dv_cli *cl, char *buf, size_t n, uint64_t now_ms)
{
	size_t off = 0;

	if (send_some(cl->fd, buf, n, &off)) {
		free(buf);
		return 1;
	}
	cl->out = buf;
	cl->olen = n;
	cl->ooff = off;
	cl->t_ms = now_ms;
	c->out_total += n;
	return 0;
}

/* The binary requests; every one of them is proven by the socket sfd. */
static int answer_binary(struct dv_ctl *c, struct dv_cli *cl, enum dv_req_kind k,
			 const union dv_req *rq, int sfd, uint64_t now_ms)
{
	struct tcd_resp *rs = calloc(1, sizeof(*rs));
	int r;

	if (!rs)
		return 1;
	rs->magic = TCD_MAGIC;
	if (sfd < 0) {
		r = -EBADF;
	} else if (k == DV_REQ_OPTIN) {
		r = dv_optin(sfd, &rq->rq.offer, &cl->cred);
	} else if (k == DV_REQ_RESULT) {
		r = dv_result(sfd, &rs->res);
		/* a decided handshake: the connection is listed (tcnetstat -a) */
		if (r == 0 && (rs->res.flags & TCPCRYPT_RES_F_DONE))
			dv_sess_note(sfd, &cl->cred, &rs->res, NULL);
	} else if (k == DV_REQ_REPORT) {
		struct tcpcrypt_eno_result res;

		r = dv_report_check(&rq->rep.report);
		if (r == 0)
			r = dv_result(sfd, &res);
		if (r == 0 && !(res.flags & TCPCRYPT_RES_F_ENO_OK))
			r = -EINVAL;        /* no session without ENO */
		if (r == 0)
			r = dv_sess_note(sfd, &cl->cred, &res, &rq->rep.report);
		tclog(LOG_DEBUG, "report: pid %d uid %d: %s", (int)cl->cred.pid, (int)cl->cred.uid,
		      strerror(-r));
	} else {
		r = -EINVAL;
	}
	rs->err = -r;
	return answer(c, cl, (char *)rs, sizeof(*rs), now_ms);
}

static int answer_text(struct dv_ctl *c, struct dv_cli *cl, char *req, size_t n, uint64_t now_ms)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	out = open_memstream(&buf, &len);
	if (!out)
		return 1;
	if (!strcmp(req, "status")) {
		dv_status(out);
		fprintf(out, "sessions %u\n", dv_sess_count());
		fputs("ok\n", out);
	} else if (!strcmp(req, "list")) {
		dv_sess_list(out, cl->cred.uid);
		fputs("ok\n", out);
	} else {
		fputs("error unknown request (try: list, status)\n", out);
	}
	if (fclose(out) != 0) {
		free(buf);
		return 1;
	}
	if (c->out_total + len > OUT_MAX_TOTAL) {
		free(buf);
		buf = strdup("error busy: too many answers waiting to be read\n");
		if (!buf)
			return 1;
		len = strlen(buf);
	}
	return answer(c, cl, buf, len, now_ms);
}

/* Reads the one request of client i and answers it; drops the client
 * once done with it. */
static void serve_one(struct dv_ctl *c, int i, uint64_t now_ms)
{
	struct dv_cli *cl = &c->cli[i];
	union {
		char text[256];
		union dv_req rq;
	} u;
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = &u, .iov_len = sizeof(u) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			     .msg_controllen = sizeof(cb.b) };
	union dv_req rq;
	enum dv_req_kind k;
	struct cmsghdr *cm;
	int sfd = -1, done = 1;
	ssize_t n;

	n = recvmsg(cl->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len >= CMSG_LEN(0)) {
			size_t j, nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int f;

			for (j = 0; j < nfd; j++) {
				memcpy(&f, CMSG_DATA(cm) + j * sizeof(int), sizeof(int));
				if (sfd < 0)
					sfd = f;
				else
					close(f);       /* one socket per request */
			}
		}
	}
	k = dv_req_parse(u.text, n > 0 ? (size_t)n : 0, &rq);
	if (k == DV_REQ_TEXT)
		done = answer_text(c, cl, u.text, (size_t)n, now_ms);
	else if (k != DV_REQ_NONE)
		done = answer_binary(c, cl, k, &rq, sfd, now_ms);
	/* never kept: it would hold the application's connection open */
	if (sfd >= 0)
		close(sfd);
	if (done)
		drop(c, i);
}

/* Client i can take more of its answer. */
static void flush_one(struct dv_ctl *c, int i, uint64_t now_ms)
{
	struct dv_cli *cl = &c->cli[i];
	size_t before = cl->ooff;

	if (send_some(cl->fd, cl->out, cl->olen, &cl->ooff)) {
		drop(c, i);
		return;
	}
	if (cl->ooff != before)
		cl->t_ms = now_ms;
}

/* The oldest client of uid, or -1. */
static int oldest_of(const struct dv_ctl *c, uid_t uid)
{
	int i, o = -1;

	for (i = 0; i < c->ncli; i++)
		if (c->cli[i].cred.uid == uid && (o < 0 || c->cli[i].t_ms < c->cli[o].t_ms))
			o = i;
	return o;
}

/* Makes room for a new client of uid: drops uid's oldest client if uid
 * holds MAXCLI_UID already; else, when every slot is taken, the oldest
 * client of the uid that holds the most. A client that holds a slot has
 * not sent its request yet (a request is answered at once) or reads a
 * long answer slowly: dropping it costs its owner a retry, never another
 * user's opt-in. */
static void admit(struct dv_ctl *c, uid_t uid)
{
	int i, j, n, most = 0, hog = -1, o;

	o = oldest_of(c, uid);
	for (i = 0, n = 0; i < c->ncli; i++)
		n += c->cli[i].cred.uid == uid;
	if (n >= MAXCLI_UID && o >= 0) {
		drop(c, o);
		return;
	}
	if (c->ncli < MAXCLI)
		return;
	for (i = 0; i < c->ncli; i++) {
		for (j = 0, n = 0; j < c->ncli; j++)
			n += c->cli[j].cred.uid == c->cli[i].cred.uid;
		if (n > most) {
			most = n;
			hog = i;
		}
	}
	o = hog >= 0 ? oldest_of(c, c->cli[hog].cred.uid) : -1;
	if (o >= 0)
		drop(c, o);
}

void dv_ctl_serve(struct dv_ctl *c, const struct pollfd *pfd, int n, uint64_t now_ms)
{
	int i, k;

	/* clients first: pfd[1..] are c->cli[0..] as they were when polled */
	for (i = n - 1; i >= 1; i--) {
		if (i - 1 >= c->ncli || c->cli[i - 1].fd != pfd[i].fd || !pfd[i].revents)
			continue;
		if (c->cli[i - 1].out)
			flush_one(c, i - 1, now_ms);
		else
			serve_one(c, i - 1, now_ms);
	}
	for (i = c->ncli - 1; i >= 0; i--)
		if (now_ms - c->cli[i].t_ms > CLI_TIMEOUT_MS)
			drop(c, i);
	if (n >= 1 && (pfd[0].revents & POLLIN)) {
		for (k = 0; k < ACCEPT_BATCH; k++) {
			struct ucred cred;
			socklen_t l = sizeof(cred);
			struct dv_cli *cl;
			int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd < 0)
				break;
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0) {
				close(fd);
				continue;
			}
			admit(c, cred.uid);
			cl = &c->cli[c->ncli];
			memset(cl, 0, sizeof(*cl));
			cl->cred = cred;
			cl->fd = fd;
			cl->t_ms = now_ms;
			c->ncli++;
			/* the request is usually there already */
			serve_one(c, c->ncli - 1, now_ms);
		}
	}
}
