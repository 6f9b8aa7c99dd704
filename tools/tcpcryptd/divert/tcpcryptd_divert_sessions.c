/* tcpcryptd_divert_sessions.c - the divert backend's session list (see
 * tcpcryptd_divert_sessions.h): a hash of records by socket cookie, and
 * the sock_diag dump that says which sockets are alive. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/time.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <libmnl/libmnl.h>
#include "tcpcrypt/divert_proto.h"
#include "tcpcryptd_divert_sessions.h"
#include "tcpcryptd_log.h"
#include "tc_session_fmt.h"

#define NBUCKET 4096              /* a power of 2 */

/* TCP states (the kernel's include/net/tcp_states.h, not exported) */
enum { ST_ESTABLISHED = 1, ST_TIME_WAIT = 6, ST_CLOSE = 7, ST_LISTEN = 10, ST_NEW_SYN_RECV = 12 };

struct rec {
	struct rec *next;
	uint64_t cookie;
	unsigned gen;             /* the dump that last saw it alive */
	struct tc_session s;
};

static struct rec *bucket[NBUCKET];
static unsigned nrec;
static struct { uid_t uid; unsigned n; } ucount[DV_SESS_MAX_UIDS];
static unsigned nuid;
static struct mnl_socket *diag;
static unsigned gen, seq;
static uint64_t last_refresh_ms, refresh_gap_ms = DV_SESS_REFRESH_MS;
static int refreshed;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct rec **slot_of(uint64_t cookie)
{
	struct rec **p = &bucket[(cookie ^ (cookie >> 17)) & (NBUCKET - 1)];

	while (*p && (*p)->cookie != cookie)
		p = &(*p)->next;
	return p;
}

/* The count of uid's sessions: its entry in ucount, created if add. */
static unsigned *uid_count(uid_t uid, int add)
{
	unsigned i;

	for (i = 0; i < nuid; i++)
		if (ucount[i].uid == uid)
			return &ucount[i].n;
	if (!add || nuid == DV_SESS_MAX_UIDS)
		return NULL;
	ucount[nuid].uid = uid;
	ucount[nuid].n = 0;
	return &ucount[nuid++].n;
}

static void uid_dec(uid_t uid)
{
	unsigned i;

	for (i = 0; i < nuid; i++) {
		if (ucount[i].uid != uid)
			continue;
		if (--ucount[i].n == 0)
			ucount[i] = ucount[--nuid];
		return;
	}
}

/* Room for one more session of uid (in its share; and in the table if new)? */
static int has_room(uid_t uid, int new)
{
	unsigned *n = uid_count(uid, 0);

	if ((new && nrec >= DV_SESS_MAX) || (n ? *n >= DV_SESS_PER_UID : nuid >= DV_SESS_MAX_UIDS))
		return 0;
	return 1;
}

static void rec_free(struct rec **p)
{
	struct rec *r = *p;

	*p = r->next;
	uid_dec(r->s.uid);
	nrec--;
	free(r);
}

int dv_sess_init(void)
{
	struct timeval tv = { .tv_sec = 1 };

	diag = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!diag || mnl_socket_bind(diag, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		tclog(LOG_WARNING, "sock_diag: %s: tcnetstat will list nothing", strerror(e));
		if (diag)
			mnl_socket_close(diag);
		diag = NULL;
		return -e;
	}
	/* a dump is answered at once; never wait long for one */
	setsockopt(mnl_socket_get_fd(diag), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

void dv_sess_fini(void)
{
	unsigned i;

	for (i = 0; i < NBUCKET; i++)
		while (bucket[i])
			rec_free(&bucket[i]);
	if (diag)
		mnl_socket_close(diag);
	diag = NULL;
}

/* ---- the sock_diag dump ---- */

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, INET_DIAG_MAX) > 0 && mnl_attr_get_type(a) == INET_DIAG_INFO)
		tb[INET_DIAG_INFO] = a;
	return MNL_CB_OK;
}

/* One socket of the dump: if it is one of ours, it is alive; take its
 * state and byte counts. */
static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[INET_DIAG_MAX + 1] = { 0 };
	const struct inet_diag_msg *m;
	struct tcp_info ti;
	struct rec *r;
	size_t l;

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_OK;
	m = mnl_nlmsg_get_payload(nlh);
	r = *slot_of((uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32);
	if (!r)
		return MNL_CB_OK;
	r->gen = gen;
	r->s.state = m->idiag_state;
	if (mnl_attr_parse(nlh, sizeof(*m), attr_cb, tb) < 0 || !tb[INET_DIAG_INFO])
		return MNL_CB_OK;
	l = mnl_attr_get_payload_len(tb[INET_DIAG_INFO]);
	if (l < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return MNL_CB_OK;
	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, mnl_attr_get_payload(tb[INET_DIAG_INFO]), l < sizeof(ti) ? l : sizeof(ti));
	r->s.bytes_acked = ti.tcpi_bytes_acked;
	r->s.bytes_received = ti.tcpi_bytes_received;
	r->s.has_bytes = 1;
	return MNL_CB_OK;
}

/* Dumps the served namespace's TCP sockets of one family (all states but
 * LISTEN, TIME_WAIT, CLOSE and request socks). Returns 0 or -errno. */
static int dump(int family)
{
	static char buf[32768];   /* a dump part fits (the kernel sends at most 32 KiB) */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *rq;
	unsigned portid = mnl_socket_get_portid(diag), s = ++seq;
	ssize_t n;
	int r;

	/* what an abandoned dump left behind */
	while (recv(mnl_socket_get_fd(diag), buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = s;
	rq = mnl_nlmsg_put_extra_header(nlh, sizeof(*rq));
	rq->sdiag_family = (uint8_t)family;
	rq->sdiag_protocol = IPPROTO_TCP;
	rq->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	rq->idiag_states = ~((1u << ST_LISTEN) | (1u << ST_TIME_WAIT) | (1u << ST_CLOSE) |
			     (1u << ST_NEW_SYN_RECV));
	if (mnl_socket_sendto(diag, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(diag, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, s, portid, diag_cb, NULL);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0)
			return -errno;
	}
}

/* Refreshes liveness, states and byte counts, and forgets the sessions
 * whose socket is gone; only when there is something to refresh, and at
 * most once per DV_SESS_REFRESH_MS or ten times the last dump's duration,
 * whichever is longer: "list" requests in a loop cannot keep the daemon
 * (and the handshakes it serves) busy dumping a namespace full of sockets
 * more than a tenth of the time. */
static void refresh(void)
{
	uint64_t now = mono_ns() / 1000000;
	struct rec **p;
	unsigned i;
	int r;

	if (!diag || !nrec || (refreshed && now - last_refresh_ms < refresh_gap_ms))
		return;
	refreshed = 1;
	last_refresh_ms = now;
	gen++;
	r = dump(AF_INET);
	if (r == 0)
		r = dump(AF_INET6);
	refresh_gap_ms = 10 * (mono_ns() / 1000000 - now);
	if (refresh_gap_ms < DV_SESS_REFRESH_MS)
		refresh_gap_ms = DV_SESS_REFRESH_MS;
	if (r < 0) {
		tclog(LOG_WARNING, "sock_diag dump: %s", strerror(-r));
		return;         /* keep what we have: better stale than lost */
	}
	for (i = 0; i < NBUCKET; i++)
		for (p = &bucket[i]; *p;)
			if ((*p)->gen != gen)
				rec_free(p);
			else
				p = &(*p)->next;
}

/* ---- recording ---- */

static void read_comm(pid_t pid, char *comm)
{
	char path[64], b[TC_COMM_LEN];
	ssize_t n;
	int fd;

	memset(comm, 0, TC_COMM_LEN);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return;
	b[n] = '\0';
	b[strcspn(b, "\n")] = '\0';
	memcpy(comm, b, strlen(b));
}

static void set_tuple(struct tc_tuple *t, const struct tcd_key *k)
{
	memset(t, 0, sizeof(*t));
	t->family = k->family;
	t->lport = k->lport;
	t->rport = k->rport;
	memcpy(t->laddr, k->laddr, sizeof(t->laddr));
	memcpy(t->raddr, k->raddr, sizeof(t->raddr));
}

/* A new record for fd's session, or NULL (errno-style code in *err). */
static struct rec *rec_new(int fd, uint64_t cookie, uid_t uid, int *err)
{
	struct tcd_key k;
	struct rec *r;

	if (tcd_sock_key(fd, &k) < 0) {
		*err = -ENOTCONN;
		return NULL;
	}
	if (!has_room(uid, 1)) {
		refresh();      /* dead sessions make room */
		if (!has_room(uid, 1)) {
			*err = -ENOSPC;
			return NULL;
		}
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	r->cookie = cookie;
	r->gen = gen;
	r->s.uid = uid;
	r->s.state = ST_ESTABLISHED;
	r->s.est_ns = mono_ns();
	set_tuple(&r->s.tuple, &k);
	(*uid_count(uid, 1))++;     /* has_room: there is an entry or room for one */
	nrec++;
	return r;
}

int dv_sess_note(int fd, const struct ucred *cred, const struct tcpcrypt_eno_result *res,
		 const struct tcpcrypt_eno_report *rep)
{
	uint64_t cookie = 0;
	socklen_t l = sizeof(cookie);
	struct rec **p, *r;
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &l) < 0)
		return -errno;
	if (l != sizeof(cookie))
		return -EINVAL;
	p = slot_of(cookie);
	r = *p;
	if (!r) {
		r = rec_new(fd, cookie, cred->uid, &err);
		if (!r)
			return err;
		p = slot_of(cookie);    /* rec_new may have pruned this chain */
		r->next = *p;
		*p = r;
	} else if (r->s.uid != cred->uid) {
		/* the socket changed hands (SCM_RIGHTS, setuid): its new owner
		 * sees it, within that owner's share of the table */
		if (!has_room(cred->uid, 0))
			return -ENOSPC;
		uid_dec(r->s.uid);
		r->s.uid = cred->uid;
		(*uid_count(cred->uid, 1))++;
	}
	r->s.pid = (uint32_t)cred->pid;
	read_comm(cred->pid, r->s.comm);
	if (res)
		r->s.result = *res;
	if (rep) {
		r->s.report = *rep;
		r->s.has_report = 1;
	}
	return 0;
}

unsigned dv_sess_list(FILE *out, uid_t uid)
{
	char line[1024];
	struct rec *r;
	unsigned i, n = 0;

	refresh();
	for (i = 0; i < NBUCKET; i++)
		for (r = bucket[i]; r; r = r->next) {
			if (uid != 0 && r->s.uid != uid)
				continue;
			if (tcs_format(r->cookie, &r->s, line, sizeof(line)) > 0) {
				fputs(line, out);
				n++;
			}
		}
	return n;
}

unsigned dv_sess_count(void)
{
	return nrec;
}
