/*
 * fake_eno.c - see fake_eno.h.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "eno.h"
#include "eno_source.h"
#include "fake_eno.h"
#include "tcpcrypt/tcpcrypt.h"

#define MAX_REC 64

/* An opted-in socket, known by its inode (its fd number may be closed
 * and reused, e.g. by the shim's private copy of a listener), and by its
 * local port at opt-in (0 for an active opener that is not bound yet). */
struct rec {
	int fd, port;
	ino_t ino;
	struct tcpcrypt_eno_offer offer;
};

/* A result given, kept as the kernel keeps it with the socket: asked
 * again later (the listener may be closed by then), the same answer. */
struct given {
	int fd, lport, pport;
	struct tcpcrypt_eno_result res;
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static struct rec recs[MAX_REC];
static struct given given[MAX_REC];
static int nrec, ngiven, opt_ins, reports;
static enum fake_mode mode;

static int port_of(int fd, int peer)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &l) : getsockname(fd, (struct sockaddr *)&ss, &l)) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static ino_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 ? 0 : st.st_ino;
}

static int fake_opt_in(int fd, const struct tcpcrypt_eno_offer *offer, int *via_divert)
{
	ino_t ino = ino_of(fd);
	int i;

	*via_divert = 0;
	if (mode == FAKE_ABSENT)
		return -ENOPROTOOPT;
	pthread_mutex_lock(&lk);
	for (i = 0; i < nrec && recs[i].ino != ino; i++)
		;
	if (i == nrec)
		opt_ins++;            /* (a listener opted in again counts once) */
	if (i < MAX_REC) {
		recs[i].fd = fd;
		recs[i].ino = ino;
		recs[i].port = port_of(fd, 0);
		recs[i].offer = *offer;
		if (i == nrec)
			nrec++;
	}
	pthread_mutex_unlock(&lk);
	return i < MAX_REC ? 0 : -ENOMEM;
}

/* The record of socket fd itself. */
static const struct rec *find_self(int fd)
{
	ino_t ino = ino_of(fd);

	for (int i = 0; i < nrec; i++)
		if (recs[i].ino == ino)
			return &recs[i];
	return NULL;
}

/* The listener that was bound to port when it opted in. */
static const struct rec *find_listener(int port)
{
	for (int i = 0; i < nrec; i++)
		if (recs[i].port != 0 && recs[i].port == port)
			return &recs[i];
	return NULL;
}

/* An fd of this process open on socket ino now (its first fd may have
 * been closed while a dup keeps it), or -1. */
static int fd_of(const struct rec *r)
{
	if (ino_of(r->fd) == r->ino)
		return r->fd;
	for (int fd = 0; fd < 1024; fd++)
		if (ino_of(fd) == r->ino)
			return fd;
	return -1;
}

/* The active opener, still open, whose local port is port now. */
static const struct rec *find_opener(int port)
{
	for (int i = 0; i < nrec; i++) {
		int fd = recs[i].port == 0 ? fd_of(&recs[i]) : -1;

		if (fd >= 0 && port_of(fd, 0) == port)
			return &recs[i];
	}
	return NULL;
}

/* A whole SYN-form option (kind, length, content) from an offer. */
static size_t whole(const struct tcpcrypt_eno_offer *o, uint8_t *out)
{
	out[0] = TCPCRYPT_ENO_KIND;
	out[1] = (uint8_t)(2 + o->len);
	memcpy(out + 2, o->content, o->len);
	return 2u + o->len;
}

/* The policy a listener's offer stands for (its accepted TEPs, a bit). */
static void policy_of_offer(const struct tcpcrypt_eno_offer *o, struct tc_eno_policy *pol)
{
	uint8_t opt[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_syn syn;

	memset(pol, 0, sizeof(*pol));
	if (tc_eno_parse_syn(opt, whole(o, opt), &syn) < 0)
		return;
	for (int i = 0; i < syn.ntep && pol->nteps < sizeof(pol->teps); i++)
		pol->teps[pol->nteps++] = syn.tep[i].id;
	pol->app_aware = (o->flags & TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE) ? 2 :
	                 (syn.global & TC_ENO_GLOBAL_A) ? 1 : 0;
}

/* Active opener's view (client) or passive side's (server) of a connection
 * between a and the listener l: the SYN's and the SYN-ACK's options. */
static void decide(const struct rec *a, const struct rec *l, int server, struct tcpcrypt_eno_result *res)
{
	uint8_t syn[TCPCRYPT_ENO_OPT_MAX], synack[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_policy lpol, apol;
	struct tc_eno_outcome out;
	size_t slen = whole(&a->offer, syn);
	int reason = 0, n;

	policy_of_offer(&l->offer, &lpol);
	n = tc_eno_answer_syn(&lpol, syn, slen, 1, synack, sizeof(synack), &reason);
	res->flags |= TCPCRYPT_RES_F_OPTED_IN | TCPCRYPT_RES_F_DONE;
	if (n <= 0) {
		res->reason = (uint8_t)reason;
		return;
	}
	policy_of_offer(&a->offer, &apol);
	if (tc_eno_negotiate(server ? &lpol : &apol, server ? synack : syn, server ? (size_t)n : slen,
	                     server ? syn : synack, server ? slen : (size_t)n, &out) < 0 || !out.negotiated) {
		res->reason = out.reason;
		return;
	}
	memcpy(res->local_opt, server ? synack : syn, server ? (size_t)n : slen);
	res->local_len = (uint8_t)(server ? (size_t)n : slen);
	memcpy(res->peer_opt, server ? syn : synack, server ? slen : (size_t)n);
	res->peer_len = (uint8_t)(server ? slen : (size_t)n);
	res->flags |= TCPCRYPT_RES_F_ENO_OK;
	if (out.role == TCPCRYPT_ROLE_B)
		res->flags |= TCPCRYPT_RES_F_ROLE_B;
	if (out.peer_a)
		res->flags |= TCPCRYPT_RES_F_PEER_APP;
	res->reason = TCPCRYPT_ENO_R_OK;
}

static int fake_result(int fd, struct tcpcrypt_eno_result *res, socklen_t *len, int *final)
{
	const struct rec *a, *l;
	int server;

	*final = 1;
	if (mode == FAKE_ABSENT) {
		*len = 0;
		return -ENOPROTOOPT;
	}
	memset(res, 0, sizeof(*res));
	res->version = TCPCRYPT_ENO_ABI_VERSION;
	*len = sizeof(*res);
	pthread_mutex_lock(&lk);
	for (int i = 0; i < ngiven; i++) {
		if (given[i].fd == fd && given[i].lport == port_of(fd, 0) && given[i].pport == port_of(fd, 1)) {
			*res = given[i].res;
			pthread_mutex_unlock(&lk);
			return 0;
		}
	}
	a = find_self(fd);
	server = a == NULL;
	if (server) {               /* accepted: its listener's offer, the opener's */
		l = find_listener(port_of(fd, 0));
		a = find_opener(port_of(fd, 1));
	} else {
		l = find_listener(port_of(fd, 1));
	}
	if (!a && !l) {
		pthread_mutex_unlock(&lk);
		res->reason = TCPCRYPT_ENO_R_NOT_OPTED_IN;
		return -ENOENT;
	}
	res->flags = TCPCRYPT_RES_F_OPTED_IN | TCPCRYPT_RES_F_DONE;
	res->reason = TCPCRYPT_ENO_R_PEER_NO_ENO;
	if (a && l && mode != FAKE_PLAIN)
		decide(a, l, server, res);
	if (mode == FAKE_WRONG_ROLE && (res->flags & TCPCRYPT_RES_F_ENO_OK))
		res->flags ^= TCPCRYPT_RES_F_ROLE_B;
	if (ngiven < MAX_REC)
		given[ngiven++] = (struct given){ fd, port_of(fd, 0), port_of(fd, 1), *res };
	pthread_mutex_unlock(&lk);
	return 0;
}

static void fake_report(int fd, const struct tcpcrypt_eno_report *rep)
{
	(void)fd;
	(void)rep;
	__atomic_add_fetch(&reports, 1, __ATOMIC_RELAXED);
}

static const struct tc_eno_source fake = { fake_opt_in, fake_result, fake_report };

void fake_eno_install(enum fake_mode m)
{
	pthread_mutex_lock(&lk);
	nrec = ngiven = opt_ins = 0;
	reports = 0;
	mode = m;
	pthread_mutex_unlock(&lk);
	tc_eno_source_set(&fake);
}

int fake_eno_opt_ins(void)
{
	int n;

	pthread_mutex_lock(&lk);
	n = opt_ins;
	pthread_mutex_unlock(&lk);
	return n;
}

int fake_eno_reports(void)
{
	return __atomic_load_n(&reports, __ATOMIC_RELAXED);
}
