/*
 * tcpcryptd_divert.c - the divert backend: TCP-ENO (RFC 8547) written and
 * checked in user space on segments the kernel hands over through an
 * NFQUEUE, for kernels without eBPF header options.
 *
 * Same behaviour as ../bpf/progs/tcpcrypt_eno.bpf.c, same engine as the
 * shim (libtcpcrypt/eno.c):
 *   A (active opener, opted in): SYN gets the offer verbatim; the SYN-ACK
 *     decides (tc_eno_negotiate); A's segments carry 45 02 until B's first
 *     non-SYN segment.
 *   Simultaneous open (RFC 8547 4.7: the peer's SYN reaches our connecting
 *     socket, which answers with a SYN-ACK): the peer's SYN option is kept
 *     (simo_syn), our SYN-ACK carries our SYN's option (simo_synack), and
 *     the peer's SYN-ACK decides as B's does for A, roles by the b bits,
 *     final at once (both ends sent and received an ACK segment with ENO).
 *     When the peer's SYN reached us but ours did not reach it before it
 *     completed on our SYN-ACK, its ACK decides (simo_ack), as A's first
 *     ACK does for B. A SYN-ACK of ours without ENO means plain
 *     (TCPCRYPT_ENO_R_SIMOPEN); an active opener that sent b=1 declines a
 *     SYN-ACK with b=0 (only a simultaneous opener sends that, and with
 *     the eBPF backend it never saw our option).
 *   B (opted-in listener): A's SYN is recorded; B's SYN-ACK carries the
 *     answer (tc_eno_answer_syn: `45 04 01 23`); A's first ACK must carry
 *     ENO or B falls back.
 * The result is recorded before the verdict that lets the kernel go on, so
 * it is ready when connect()/accept() return.
 * Both ends must always agree on whether a connection is encrypted:
 * - decisions are taken only on segments TCP takes: the SYN-ACK must
 *   acknowledge A's SYN, A's first ACK B's SYN-ACK (ISNs in the slot);
 * - A's success is final once a segment with 45 02 has left (a_acked);
 *   dv_result() settles an A whose ACK went by unjudged as plain, and
 *   stops its 45 02;
 * - a B that lost its state (no entry, or one made without seeing A's
 *   SYN, or still waiting when its socket is connected) while A
 *   acknowledged ENO records TCPCRYPT_ENO_R_STATE_LOST: B's shim aborts;
 * - the table never gives a live entry away (tcpcryptd_divert_tab.c).
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/sockios.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include "eno.h"
#include "tcpcryptd_divert.h"
#include "tcpcryptd_divert_nfq.h"
#include "tcpcryptd_divert_pkt.h"
#include "tcpcryptd_divert_tab.h"
#include "tcpcryptd_divert_sessions.h"
#include "tcpcryptd_divert_watchdog.h"
#include "tcpcryptd_iptables.h"
#include "tcpcryptd_log.h"

enum { C_OPTIN, C_PKT, C_SYN_ENO, C_SYNACK_ENO, C_SYNACK_PLAIN, C_SYNACK_RTX, C_ACK_ENO, C_OK_A, C_OK_B,
       C_FALLBACK, C_NO_SPACE, C_ERRORS, C_TAB_FULL, C_STATE_LOST, C_BAD_SEQ, C_MAX };
static const char *const cnames[C_MAX] = { "opt_in", "packets", "syn_eno", "synack_eno",
	"synack_plain", "synack_rtx", "ack_eno", "ok_a", "ok_b", "fallback", "no_space", "errors",
	"tab_full", "state_lost", "bad_seq" };
static uint64_t counters[C_MAX];

static struct mnl_socket *nl;
static struct stat my_ns;           /* the network namespace we serve */
static int syncookies_fd = -1;      /* /proc/sys/net/ipv4/tcp_syncookies of our namespace */

/* 1 if every SYN-ACK is a SYN cookie (tcp_syncookies=2). With 1, cookies
 * sent under pressure cannot be told from the segment: F_COOKIE stays 0. */
static int all_cookies(void)
{
	char c = 0;

	return syncookies_fd >= 0 && pread(syncookies_fd, &c, 1, 0) == 1 && c == '2';
}
static unsigned portid, qnum;

/* The sequence numbers A's first non-SYN segments may carry beyond A's
 * ISN + 1: B's largest receive window (65535 << 14). */
#define DV_SEQ_WIN (1u << 30)

/* How long the kernel of our namespace keeps a half-open connection: its
 * SYN-ACK retransmissions (tcp_synack_retries, from a 1 s timeout that
 * doubles, capped at 120 s), plus 1 s. B's half-open entries older than
 * that cannot be live (tcpcryptd_divert_tab.c). */
static void set_halfopen(void)
{
	char buf[16] = "";
	uint64_t ms = 1000, rto = 1000;
	int fd = open("/proc/sys/net/ipv4/tcp_synack_retries", O_RDONLY | O_CLOEXEC);
	long r = 5;
	ssize_t n;

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0)
			r = strtol(buf, NULL, 10);
		close(fd);
	}
	if (r < 0 || r > 255)
		r = 5;
	for (; r >= 0; r--) {
		ms += rto;
		rto = rto * 2 > 120000 ? 120000 : rto * 2;
	}
	dv_tab_set_halfopen_ms(ms);
}

uint64_t dv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the ENO rules, per segment ---- */

static void res_init(struct tcd_slot *c, unsigned offer_id, uint8_t flags)
{
	memset(&c->res, 0, sizeof(c->res));
	c->res.version = TCPCRYPT_ENO_ABI_VERSION;
	c->res.flags = TCPCRYPT_RES_F_OPTED_IN | flags;
	c->res.reason = TCPCRYPT_ENO_R_PENDING;
	c->offer_id = (uint16_t)offer_id;
	c->a_count = 0;
	c->syn_data = 0;
	c->acked = 0;
	c->simo = 0;
}

static void keep_opt(uint8_t *dst, uint8_t *dlen, const uint8_t *o, size_t len)
{
	if (!o || len > TCPCRYPT_ENO_OPT_MAX)
		len = 0;
	if (len)
		memcpy(dst, o, len);
	*dlen = (uint8_t)len;
}

static void finish(struct tcd_slot *c, int reason, int ok)
{
	c->res.reason = (uint8_t)reason;
	c->res.flags |= TCPCRYPT_RES_F_DONE;
	if (ok)
		c->res.flags |= TCPCRYPT_RES_F_ENO_OK;
	counters[ok ? ((c->res.flags & TCPCRYPT_RES_F_ROLE_B) ? C_OK_B : C_OK_A) : C_FALLBACK]++;
}

/* A: our SYN leaves. Returns 1 if the packet was changed. */
static int a_syn(struct dv_pkt *p, const struct tcd_key *k, unsigned offer_id, uint64_t now)
{
	const struct tcpcrypt_eno_offer *of = dv_offer_get(offer_id);
	uint8_t opt[TCPCRYPT_ENO_OPT_MAX];
	const uint8_t *o, *x;
	struct tcd_slot *c;
	size_t ol, xl;
	int r;

	if (!of)
		return 0;
	c = dv_conn_get(k, now);
	if (!c) {
		/* no room: no ENO (the shim finds no entry: plain, as B) */
		counters[C_TAB_FULL]++;
		return 0;
	}
	if ((c->state == TCD_S_A_ENO || c->state == TCD_S_A_DONE) && c->isn == p->seq) {
		/* our SYN again, judged after the SYN-ACK (both were queued): the
		 * same option, and the decision stands */
		if (!c->res.local_len || dv_pkt_add_option(p, c->res.local_opt, c->res.local_len) < 0)
			return 0;
		return 1;
	}
	if (c->state != TCD_S_A_SYN) {
		res_init(c, offer_id, 0);
		c->state = TCD_S_A_SYN;
		c->isn = p->seq;
	}
	o = dv_pkt_opts(p, &ol);
	if (tc_eno_find(o, ol, &x, &xl) != 0)
		return 0;       /* already there (or options we do not touch) */
	if (p->paylen) {
		c->res.reason = TCPCRYPT_ENO_R_SYN_DATA;
		c->res.local_len = 0;
		return 0;
	}
	opt[0] = TCPCRYPT_ENO_KIND;
	opt[1] = (uint8_t)(of->len + 2);
	memcpy(opt + 2, of->content, of->len);
	r = dv_pkt_add_option(p, opt, of->len + 2u);
	if (r < 0) {
		counters[C_NO_SPACE]++;
		c->res.reason = TCPCRYPT_ENO_R_NO_SPACE;
		c->res.local_len = 0;
		return 0;
	}
	keep_opt(c->res.local_opt, &c->res.local_len, opt, of->len + 2u);
	counters[C_SYN_ENO]++;
	return 1;
}

static void a_acked(struct tcd_slot *c);

/* A: B's SYN-ACK arrives; decides A's result. */
static void a_synack(struct dv_pkt *p, const struct tcd_key *k, uint64_t now)
{
	struct tcd_slot *c = dv_conn_find(k, now);
	const struct tcpcrypt_eno_offer *of;
	struct tc_eno_outcome out;
	struct tc_eno_policy pol;
	struct tc_eno_syn ps;
	const uint8_t *o, *x = NULL;
	size_t ol, xl = 0;
	int n, reason;

	if (!c || c->state != TCD_S_A_SYN)
		return;
	if (p->ack != c->isn + 1 &&
	    !(c->res.reason == TCPCRYPT_ENO_R_SYN_DATA && p->ack - (c->isn + 1) <= 65535u)) {
		/* not an answer to our SYN (forged, or stale; with SYN data
		 * it may acknowledge that too): TCP drops it, and it must
		 * not decide either */
		counters[C_BAD_SEQ]++;
		dv_conn_forget();
		return;
	}
	o = dv_pkt_opts(p, &ol);
	n = tc_eno_find(o, ol, &x, &xl);
	keep_opt(c->res.peer_opt, &c->res.peer_len, n >= 1 ? x : NULL, xl);
	if (c->res.peer_len && tc_eno_parse_syn(c->res.peer_opt, c->res.peer_len, &ps) == 0 &&
	    (ps.global & TC_ENO_GLOBAL_A))
		c->res.flags |= TCPCRYPT_RES_F_PEER_APP;
	of = dv_offer_get(c->offer_id);
	if (c->simo == TCD_SIMO_PLAIN)
		reason = TCPCRYPT_ENO_R_SIMOPEN;   /* our SYN-ACK had no ENO */
	else if (!c->res.local_len)
		reason = (c->res.reason == TCPCRYPT_ENO_R_NO_SPACE ||
			  c->res.reason == TCPCRYPT_ENO_R_SYN_DATA) ? c->res.reason
								    : TCPCRYPT_ENO_R_MALFORMED;
	else if (n < 0)
		reason = TCPCRYPT_ENO_R_MALFORMED;
	else if (n == 0)
		reason = TCPCRYPT_ENO_R_PEER_NO_ENO;
	else if (n > 1)
		reason = TCPCRYPT_ENO_R_TWO_OPTIONS;
	else if (!of || dv_offer_policy(of, &pol) < 0 ||
		 tc_eno_negotiate(&pol, c->res.local_opt, c->res.local_len, c->res.peer_opt,
				  c->res.peer_len, &out) < 0)
		reason = TCPCRYPT_ENO_R_MALFORMED;
	else
		reason = out.negotiated ? TCPCRYPT_ENO_R_OK : out.reason;
	if (reason == TCPCRYPT_ENO_R_OK && out.role == 1 && !c->simo) {
		/* we sent b=1 and got b=0, which no passive opener sends: a
		 * simultaneous opener that got our SYN before we got its
		 * SYN; as the eBPF backend does (the peer may be one that
		 * never saw our option), decline: both ends plain */
		reason = TCPCRYPT_ENO_R_SIMOPEN;
	}
	if (reason == TCPCRYPT_ENO_R_OK && out.role == 1)
		c->res.flags |= TCPCRYPT_RES_F_ROLE_B;
	if (reason != TCPCRYPT_ENO_R_OK) {
		c->state = TCD_S_A_DONE;
		finish(c, reason, 0);
		return;
	}
	/* negotiated, but ENO has succeeded only once our ACK with 45 02
	 * has left (a_segment): until then the result is not final. In a
	 * simultaneous open our SYN-ACK, an ACK segment, carried ENO: final */
	c->res.reason = TCPCRYPT_ENO_R_OK;
	if (c->simo == TCD_SIMO_SYN || c->simo == TCD_SIMO_JUDGED) {
		/* our SYN-ACK is still in the queue (the kernel made it as it
		 * took the peer's SYN, after this SYN-ACK was queued): success
		 * when it leaves with our option (simo_synack) */
		c->simo = TCD_SIMO_JUDGED;
		return;
	}
	c->state = TCD_S_A_ENO;
	if (c->simo == TCD_SIMO_ENO)
		a_acked(c);
}

/* A: a segment of ours carrying 45 02 is let go: ENO succeeded. */
static void a_acked(struct tcd_slot *c)
{
	if (c->acked)
		return;
	c->acked = 1;
	finish(c, TCPCRYPT_ENO_R_OK, 1);
}

/* A: a non-SYN segment leaves before B's first non-SYN: 45 02. */
static int a_segment(struct dv_pkt *p, const struct tcd_key *k, uint64_t now)
{
	struct tcd_slot *c = dv_conn_find(k, now);
	uint8_t opt[4];
	const uint8_t *o;
	size_t ol;
	int n;

	if (!c || c->state != TCD_S_A_ENO || (p->flags & DV_TH_RST))
		return 0;
	o = dv_pkt_opts(p, &ol);
	if (tc_eno_nonsyn_present(o, ol) != 0) {
		a_acked(c);
		return 0;
	}
	n = tc_eno_build_nonsyn(opt, sizeof(opt));
	if (n < 0 || dv_pkt_add_option(p, opt, (size_t)n) < 0) {
		counters[C_NO_SPACE]++;
		return 0;
	}
	/* written before the verdict: the shared table says what B will see */
	a_acked(c);
	counters[C_ACK_ENO]++;
	return 1;
}

/* Keeps what the peer's SYN (p) says for slot c: its ENO option, how many
 * it carried (-1: none usable) and whether it carried data. */
static void peer_syn(const struct dv_pkt *p, struct tcd_slot *c)
{
	const uint8_t *o, *x = NULL;
	size_t ol, xl = 0;
	int n;

	o = dv_pkt_opts(p, &ol);
	n = tc_eno_find(o, ol, &x, &xl);
	c->a_count = (int8_t)(n < 0 ? -1 : n > 2 ? 2 : n);
	if (n >= 1 && xl > TCPCRYPT_ENO_OPT_MAX)
		c->a_count = -1;
	keep_opt(c->res.peer_opt, &c->res.peer_len, n >= 1 ? x : NULL, xl);
	c->syn_data = p->paylen > 0;
}

/* Simultaneous open: the peer's SYN reaches our connecting socket (slot
 * c, A_SYN, stays ours). Keeps its option, for an ACK that would complete
 * the handshake without the peer's SYN-ACK (simo_ack). */
static void simo_syn(struct dv_pkt *p, struct tcd_slot *c)
{
	if (c->simo != TCD_SIMO_NONE && c->simo != TCD_SIMO_SYN)
		return;         /* a retransmitted SYN: answered already */
	c->simo = TCD_SIMO_SYN;
	c->isn_b = p->seq;
	peer_syn(p, c);
}

/* Simultaneous open: our connecting socket's SYN-ACK leaves. It carries
 * our SYN's option (RFC 8547 4.6: identical) when we saw the peer's SYN;
 * otherwise none, and the connection is plain. Returns 1 if p changed. */
static int simo_synack(struct dv_pkt *p, struct tcd_slot *c)
{
	int eno = c->simo == TCD_SIMO_ENO || c->simo == TCD_SIMO_JUDGED ||
		  (c->simo == TCD_SIMO_SYN && c->state == TCD_S_A_SYN);

	if (eno && c->res.local_len &&
	    dv_pkt_add_option(p, c->res.local_opt, c->res.local_len) == 0) {
		if (c->simo == TCD_SIMO_JUDGED) {
			/* the peer's SYN-ACK negotiated: final now */
			c->state = TCD_S_A_ENO;
			a_acked(c);
		}
		c->simo = TCD_SIMO_ENO;
		counters[C_SYNACK_ENO]++;
		return 1;
	}
	if (c->simo == TCD_SIMO_ENO) {
		counters[C_NO_SPACE]++;   /* a retransmission: cannot happen */
	} else {
		if (c->simo == TCD_SIMO_JUDGED) {
			c->state = TCD_S_A_DONE;
			c->res.flags &= (uint8_t)~TCPCRYPT_RES_F_ROLE_B;
			finish(c, TCPCRYPT_ENO_R_NO_SPACE, 0);
		}
		c->simo = TCD_SIMO_PLAIN;
	}
	counters[C_SYNACK_PLAIN]++;
	return 0;
}

/* Simultaneous open, our SYN-ACK with ENO: the peer completed on it as an
 * active opener (our SYN never reached it first) and this non-SYN segment
 * is its first: it decides, as A's first ACK does for B, on the peer's SYN
 * option kept by simo_syn. */
static void simo_ack(struct dv_pkt *p, struct tcd_slot *c, int eno)
{
	const struct tcpcrypt_eno_offer *of = dv_offer_get(c->offer_id);
	struct tc_eno_outcome out;
	struct tc_eno_policy pol;
	int reason;

	if (p->ack != c->isn + 1 || (uint32_t)(p->seq - (c->isn_b + 1)) >= DV_SEQ_WIN) {
		counters[C_BAD_SEQ]++;
		dv_conn_forget();
		return;
	}
	if (c->a_count != 1 || c->syn_data || !c->res.local_len)
		reason = c->syn_data ? TCPCRYPT_ENO_R_SYN_DATA : TCPCRYPT_ENO_R_MALFORMED;
	else if (!of || dv_offer_policy(of, &pol) < 0 ||
		 tc_eno_negotiate(&pol, c->res.local_opt, c->res.local_len, c->res.peer_opt,
				  c->res.peer_len, &out) < 0)
		reason = TCPCRYPT_ENO_R_MALFORMED;
	else
		reason = out.negotiated ? TCPCRYPT_ENO_R_OK : out.reason;
	if (reason == TCPCRYPT_ENO_R_OK && !eno)
		reason = TCPCRYPT_ENO_R_ACK_NO_ENO;
	else if (reason != TCPCRYPT_ENO_R_OK && eno)
		reason = TCPCRYPT_ENO_R_STATE_LOST;     /* the peer negotiated: never plain */
	if (reason != TCPCRYPT_ENO_R_OK) {
		c->state = TCD_S_A_DONE;
		if (reason == TCPCRYPT_ENO_R_STATE_LOST)
			counters[C_STATE_LOST]++;
		finish(c, reason, 0);
		return;
	}
	if (out.role == 1)
		c->res.flags |= TCPCRYPT_RES_F_ROLE_B;
	if (out.peer_a)
		c->res.flags |= TCPCRYPT_RES_F_PEER_APP;
	c->state = TCD_S_A_ENO;
	c->res.reason = TCPCRYPT_ENO_R_OK;
	a_acked(c);
}

/* B: A's SYN arrives at an opted-in listener's port; remember its ENO. */
static void b_syn(struct dv_pkt *p, const struct tcd_key *k, uint64_t now)
{
	struct tcd_slot *c = dv_conn_get(k, now);

	if (!c) {
		counters[C_TAB_FULL]++;     /* our SYN-ACK goes without ENO */
		return;
	}
	if (c->state == TCD_S_A_SYN) {
		simo_syn(p, c);
		return;
	}
	if (c->state == TCD_S_B_WAIT_ACK && c->isn == p->seq)
		return;         /* a retransmitted SYN: same answer */
	res_init(c, 0, TCPCRYPT_RES_F_ROLE_B);
	c->state = TCD_S_B_SYN;
	c->isn = p->seq;        /* A's: what the shim checks before trusting the slot */
	peer_syn(p, c);
}

/* B: our SYN-ACK leaves; answers A's SYN. */
static int b_synack(struct dv_pkt *p, const struct tcd_key *k, unsigned offer_id, uint64_t now)
{
	const struct tcpcrypt_eno_offer *of = dv_offer_get(offer_id);
	struct tcd_slot *c = dv_conn_find(k, now);
	uint8_t ans[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_policy pol;
	struct tc_eno_syn as;
	int n, reason = TCPCRYPT_ENO_R_PEER_NO_ENO;

	if (c && c->state >= TCD_S_A_SYN && c->state <= TCD_S_A_DONE)
		return simo_synack(p, c);   /* simultaneous open */
	if (!of)
		return 0;
	if (!c || (c->state != TCD_S_B_SYN && c->state != TCD_S_B_WAIT_ACK)) {
		if (c && c->state == TCD_S_B_DONE)
			return 0;   /* retransmission after the decision */
		c = dv_conn_get(k, now);
		if (!c) {
			/* no room: no ENO, no record (the shim: plain) */
			counters[C_TAB_FULL]++;
			counters[C_SYNACK_PLAIN]++;
			return 0;
		}
		/* a SYN we did not see (the queue was full, or we were not
		 * running: then an earlier SYN-ACK may have carried ENO, and
		 * b_ack() aborts if A's ACK says so) */
		res_init(c, offer_id, TCPCRYPT_RES_F_ROLE_B);
		c->state = TCD_S_B_DONE;
		c->a_count = TCD_A_UNSEEN;
		c->isn = p->ack - 1;
		c->isn_b = p->seq;
		finish(c, TCPCRYPT_ENO_R_PEER_NO_ENO, 0);
		counters[C_SYNACK_PLAIN]++;
		return 0;
	}
	if (c->state == TCD_S_B_WAIT_ACK)
		counters[C_SYNACK_RTX]++;
	c->offer_id = (uint16_t)offer_id;
	c->isn_b = p->seq;      /* what A's first ACK must acknowledge */
	if (all_cookies())
		c->res.flags |= TCPCRYPT_RES_F_COOKIE;
	if (c->a_count == 1 && c->res.peer_len &&
	    tc_eno_parse_syn(c->res.peer_opt, c->res.peer_len, &as) == 0 &&
	    (as.global & TC_ENO_GLOBAL_A))
		c->res.flags |= TCPCRYPT_RES_F_PEER_APP;
	if (dv_offer_policy(of, &pol) < 0) {
		n = 0;
		reason = TCPCRYPT_ENO_R_MALFORMED;
	} else {
		n = tc_eno_answer_syn(&pol, c->res.peer_opt, c->res.peer_len, c->a_count, ans,
				      sizeof(ans), &reason);
		if (n > 0 && c->syn_data) {
			/* tcpcrypt defines no SYN data (RFC 8547 4.7) */
			n = 0;
			reason = TCPCRYPT_ENO_R_SYN_DATA;
		}
	}
	if (n > 0 && dv_pkt_add_option(p, ans, (size_t)n) == 0) {
		keep_opt(c->res.local_opt, &c->res.local_len, ans, (size_t)n);
		c->state = TCD_S_B_WAIT_ACK;
		counters[C_SYNACK_ENO]++;
		return 1;
	}
	if (n > 0) {
		counters[C_NO_SPACE]++;
		reason = TCPCRYPT_ENO_R_NO_SPACE;
	}
	c->res.local_len = 0;
	c->state = TCD_S_B_DONE;
	counters[C_SYNACK_PLAIN]++;
	finish(c, reason, 0);
	return 0;
}

/* B: A's segment carries ENO but we kept no record of our SYN-ACK (its
 * entry was lost: a restart, or no room). A may have negotiated, so the
 * connection must never run plain: record TCPCRYPT_ENO_R_STATE_LOST, which
 * makes B's shim abort it (as with the eBPF backend); with no room for that
 * record either, turn the segment into a RST, so that the kernel aborts the
 * connection before B's application sees it. Returns 1 if p was changed. */
static int b_state_lost(struct dv_pkt *p, const struct tcd_key *k, uint64_t now)
{
	struct tcd_slot *c = dv_conn_get(k, now);

	counters[C_STATE_LOST]++;
	if (c) {
		res_init(c, 0, TCPCRYPT_RES_F_ROLE_B);
		c->state = TCD_S_B_DONE;
		c->isn = p->seq - 1;    /* A's ISN: what the shim checks */
		finish(c, TCPCRYPT_ENO_R_STATE_LOST, 0);
		return 0;
	}
	counters[C_TAB_FULL]++;
	p->buf[p->l4off + 13] = DV_TH_RST;
	dv_pkt_fix_checksums(p);
	return 1;
}

/* B: the first non-SYN segment from A decides. Returns 1 if p was
 * changed. */
static int b_ack(struct dv_pkt *p, const struct tcd_key *k, uint64_t now)
{
	struct tcd_slot *c = dv_conn_find(k, now);
	const uint8_t *o;
	size_t ol;
	int eno;

	if (!(p->flags & DV_TH_ACK) || (p->flags & DV_TH_RST))
		return 0;
	o = dv_pkt_opts(p, &ol);
	/* queued only on connections whose SYN or SYN-ACK an opted-in socket
	 * sent, and B never sends non-SYN ENO: a segment with ENO and no
	 * entry is A's, to a B that lost its state */
	eno = tc_eno_nonsyn_present(o, ol) == 1;
	if (!c)
		return eno ? b_state_lost(p, k, now) : 0;
	if (c->state == TCD_S_A_SYN && c->simo == TCD_SIMO_ENO) {
		simo_ack(p, c, eno);
		return 0;
	}
	if (c->state != TCD_S_B_WAIT_ACK && c->state != TCD_S_B_DONE)
		return 0;
	/* decide only on what TCP will take: the ACK of our SYN-ACK, from
	 * within A's window (a forged or stale segment does not count) */
	if (p->ack != c->isn_b + 1 || (uint32_t)(p->seq - (c->isn + 1)) >= DV_SEQ_WIN) {
		counters[C_BAD_SEQ]++;
		dv_conn_forget();
		return 0;
	}
	if (c->state == TCD_S_B_DONE) {
		/* decided plain without having seen A's SYN, yet A
		 * acknowledges ENO: A negotiated on a SYN-ACK of ours we have
		 * no record of (sent before a restart). Never plain. (Where
		 * we saw the SYN and answered it without ENO, an A that
		 * sends ENO anyway does not conform: plain, as decided.) */
		if (eno && c->a_count == TCD_A_UNSEEN && c->res.reason != TCPCRYPT_ENO_R_STATE_LOST) {
			c->res.reason = TCPCRYPT_ENO_R_STATE_LOST;
			counters[C_STATE_LOST]++;
		}
		return 0;
	}
	c->state = TCD_S_B_DONE;
	if (eno)
		finish(c, TCPCRYPT_ENO_R_OK, 1);
	else
		finish(c, TCPCRYPT_ENO_R_ACK_NO_ENO, 0);
	return 0;
}

static void make_key(struct tcd_key *k, const struct dv_pkt *p, int out)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)p->family;
	memcpy(k->laddr, out ? p->saddr : p->daddr, 16);
	memcpy(k->raddr, out ? p->daddr : p->saddr, 16);
	k->lport = out ? p->sport : p->dport;
	k->rport = out ? p->dport : p->sport;
}

/* Applies the rules to one queued packet; returns 1 if it was changed. */
static int handle(struct dv_pkt *p, int out, uint32_t mark)
{
	uint64_t now = dv_now_ms();
	unsigned offer_id = (mark & DV_MARK_MASK) == DV_MARK ? (mark & 0xffff) : 0;
	int syn = p->flags & DV_TH_SYN, ack = p->flags & DV_TH_ACK;
	struct tcd_key k;

	counters[C_PKT]++;
	make_key(&k, p, out);
	if (out && syn && !ack)
		return offer_id ? a_syn(p, &k, offer_id, now) : 0;
	if (out && syn)
		return offer_id ? b_synack(p, &k, offer_id, now) : 0;
	if (out)
		return a_segment(p, &k, now);
	if (syn && !ack)
		b_syn(p, &k, now);
	else if (syn)
		a_synack(p, &k, now);
	else
		return b_ack(p, &k, now);
	return 0;
}

/* ---- the queue ---- */

/* One queued segment: the rules, the table write, then the verdict. */
static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	static char vbuf[65536 + 1024];
	static uint8_t pkt[65536 + 64];
	struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *v;
	struct dv_pkt p;
	uint32_t mark = 0;
	size_t plen;
	int changed = 0, fd = *(int *)data;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (attr[NFQA_MARK])
		mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	plen = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]) : 0;
	if (plen > 65535)
		plen = 0;
	dv_conn_forget();
	if (plen) {
		memcpy(pkt, mnl_attr_get_payload(attr[NFQA_PAYLOAD]), plen);
		if (dv_pkt_parse(&p, pkt, plen, sizeof(pkt)) == 0)
			changed = handle(&p, ph->hook == NF_INET_LOCAL_OUT, mark);
	}
	/* the decision is in the shared table before the segment goes on */
	if (dv_conn_commit() < 0 && !dv_wd_revoked()) {
		counters[C_ERRORS]++;
		tclog(LOG_ERR, "table write: %s", strerror(errno));
	}
	v = nfq_nlmsg_put(vbuf, NFQNL_MSG_VERDICT, qnum);
	nfq_nlmsg_verdict_put(v, ntohl(ph->packet_id), NF_ACCEPT);
	if (ph->hook == NF_INET_LOCAL_IN && (mark & DV_MARK_MASK) == DV_MARK)
		nfq_nlmsg_verdict_put_mark(v, 0);   /* restored by our SYN rule: undo */
	if (changed)
		nfq_nlmsg_verdict_put_pkt(v, p.buf, p.len);
	if (sendto(fd, v, v->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0 &&
	    !dv_wd_revoked()) {
		counters[C_ERRORS]++;
		tclog(LOG_ERR, "verdict: %s", strerror(errno));
	}
	return MNL_CB_OK;
}

int dv_queue_step(int fd, int peek)
{
	static char buf[262144];
	char tiny[16];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | (peek ? MSG_PEEK : 0));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	mnl_cb_run(buf, (size_t)n, 0, portid, queue_cb, &fd);
	if (peek)
		(void)recv(fd, tiny, sizeof(tiny), MSG_DONTWAIT);   /* now consume it */
	return 1;
}

static int queue_open(unsigned q)
{
	/* a full queue accepts (plain TCP) instead of dropping */
	static const struct dv_nfq_params params = {
		.copy_mode = NFQNL_COPY_PACKET, .copy_range = 0xffff, .fail_open = 1, .maxlen = 4096,
	};
	struct dv_nfq nfq;
	int r;

	r = dv_nfq_socket(&nfq, q, 4 << 20);
	if (r) {
		tclog(LOG_ERR, "netlink: %s", strerror(-r));
		return r;
	}
	nl = nfq.nl;
	portid = nfq.portid;
	qnum = q;
	r = dv_nfq_bind(&nfq, &params);
	if (r) {
		tclog(LOG_ERR, "cannot bind NFQUEUE %u: %s (another daemon on it?)", q, strerror(-r));
		return r;
	}
	return 0;
}

static void queue_drain(void)
{
	uint64_t t;
	int r, k;

	/* a bounded batch, so that the control socket is served too. Each
	 * segment is peeked and consumed only once judged: until then the
	 * watchdog can see it (tcpcryptd_divert_watchdog.c). */
	for (k = 0; k < 64; k++) {
		/* sampled while our fds are ours: a takeover after this point
		 * revokes the table fd as well, and no hand back comes before
		 * our next loop turn, so a stamp never claims the dead fd's
		 * emptiness */
		t = dv_wd_revoked() ? 0 : dv_now_ms();
		dv_wd_step_begin();
		r = dv_queue_step(mnl_socket_get_fd(nl), 1);
		if (r == 0 && t)
			(void)dv_tab_judged(t);     /* all queued before t is judged */
		dv_wd_step_end();
		if (r <= 0) {
			if (r < 0 && r != -ENOBUFS && !dv_wd_revoked()) {
				counters[C_ERRORS]++;
				tclog(LOG_ERR, "queue: %s", strerror(-r));
			}
			return;
		}
	}
}

/* ---- control requests ---- */

/* 0 if fd is a TCP socket of our network namespace. */
static int check_tcp(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);
	struct stat st;
	int ns;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0 || (v != AF_INET && v != AF_INET6))
		return -ENOTSOCK;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 || v != SOCK_STREAM)
		return -ENOTSOCK;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l) < 0 || v != IPPROTO_TCP)
		return -ENOTSOCK;
	/* our rules and queue see our namespace only */
	ns = ioctl(fd, SIOCGSKNS);
	if (ns >= 0) {
		int same;

		same = fstat(ns, &st) == 0 && st.st_ino == my_ns.st_ino && st.st_dev == my_ns.st_dev;

		close(ns);
		if (!same)
			return -EXDEV;
	}
	return 0;
}

static uint32_t sock_mark(int fd)
{
	uint32_t m = 0;
	socklen_t l = sizeof(m);

	if (getsockopt(fd, SOL_SOCKET, SO_MARK, &m, &l) < 0)
		return 0;
	return m;
}

int dv_optin(int fd, const struct tcpcrypt_eno_offer *offer, const struct ucred *cred)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	struct tc_eno_policy pol;
	uint32_t mark;
	int r, id;

	r = check_tcp(fd);
	if (r < 0)
		return r;
	if (offer->version != TCPCRYPT_ENO_ABI_VERSION || offer->len < 1 ||
	    offer->len > TCPCRYPT_ENO_CONTENT_MAX ||
	    (offer->flags & ~TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE) ||
	    dv_offer_policy(offer, &pol) < 0)
		return -EINVAL;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
		return -errno;
	/* a listener may opt in late (started before us, or we restarted):
	 * its mark is read again for each SYN (the socket match) and SYN-ACK */
	if (ti.tcpi_state != TCP_CLOSE && ti.tcpi_state != TCP_LISTEN)
		return -EISCONN;
	mark = sock_mark(fd);
	if (mark && (mark & DV_MARK_MASK) != DV_MARK)
		return -EBUSY;      /* the application routes by its own mark */
	id = dv_offer_intern(offer, cred->uid);
	if (id < 0)
		return id;
	mark = DV_MARK | (uint32_t)id;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		return -errno;
	counters[C_OPTIN]++;
	tclog(LOG_DEBUG, "opt-in: pid %d uid %d, offer %d", (int)cred->pid, (int)cred->uid, id);
	return 0;
}

/* The result of a handshake whose outcome a segment that bypassed us
 * would decide (see dv_result): commits it as final, c being the working
 * copy. Returns 0, or -ETIMEDOUT when our table fd is revoked (the
 * watchdog serves the queue: the shim then decides from the table). */
static int settle(struct tcd_slot *c, int state, int reason, struct tcpcrypt_eno_result *res)
{
	c->state = (uint8_t)state;
	if (reason == TCPCRYPT_ENO_R_STATE_LOST)
		counters[C_STATE_LOST]++;
	finish(c, reason, 0);
	*res = c->res;
	if (dv_wd_revoked() || dv_conn_commit() < 0) {
		dv_conn_forget();
		return -ETIMEDOUT;
	}
	return 0;
}

int dv_result(int fd, struct tcpcrypt_eno_result *res)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	struct tcd_slot *c;
	struct tcd_key k;
	int r, i;

	r = check_tcp(fd);
	if (r < 0)
		return r;
	if ((sock_mark(fd) & DV_MARK_MASK) != DV_MARK)
		return -ENOENT;
	memset(res, 0, sizeof(*res));
	res->version = TCPCRYPT_ENO_ABI_VERSION;
	res->flags = TCPCRYPT_RES_F_OPTED_IN;
	res->reason = TCPCRYPT_ENO_R_PENDING;
	if (tcd_sock_key(fd, &k) < 0)
		return 0;
	c = dv_conn_find(&k, dv_now_ms());
	/* A negotiated: success once our ACK with 45 02 has left. It was
	 * queued before connect() returned (the kernel sends it as it takes
	 * the SYN-ACK): judge what is queued, then look again */
	for (i = 0; c && c->state == TCD_S_A_ENO && !c->acked && i < 16 && !dv_wd_revoked(); i++) {
		dv_conn_forget();
		queue_drain();
		c = dv_conn_find(&k, dv_now_ms());
	}
	if (c && c->state == TCD_S_A_ENO && !c->acked) {
		/* not gone out with ENO (the queue was full and let it go
		 * unjudged, or the option did not fit): plain, and from now on
		 * no 45 02 either, so that B falls back too */
		return settle(c, TCD_S_A_DONE, TCPCRYPT_ENO_R_ACK_NO_ENO, res);
	}
	/* simultaneous open, our SYN-ACK with ENO: the peer's SYN-ACK or
	 * first ACK decides; judge what is queued, then look again */
	for (i = 0; c && c->state == TCD_S_A_SYN &&
	     (c->simo == TCD_SIMO_ENO || c->simo == TCD_SIMO_JUDGED) && i < 16 && !dv_wd_revoked(); i++) {
		dv_conn_forget();
		queue_drain();
		c = dv_conn_find(&k, dv_now_ms());
	}
	if (c && c->state == TCD_S_A_SYN && c->simo == TCD_SIMO_JUDGED) {
		/* our SYN-ACK went by unjudged (without ENO): plain */
		c->res.flags &= (uint8_t)~TCPCRYPT_RES_F_ROLE_B;
		return settle(c, TCD_S_A_DONE, TCPCRYPT_ENO_R_SIMOPEN, res);
	}
	memset(&ti, 0, sizeof(ti));
	if (c && ((c->state == TCD_S_A_SYN && c->simo == TCD_SIMO_ENO) || c->state == TCD_S_B_WAIT_ACK) &&
	    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && ti.tcpi_state != TCP_SYN_RECV) {
		/* connected, yet A's first ACK never came through our queue
		 * (it is queued before TCP sees it: it bypassed us). It may
		 * have carried ENO: never plain */
		return settle(c, c->state == TCD_S_A_SYN ? TCD_S_A_DONE : TCD_S_B_DONE,
			      TCPCRYPT_ENO_R_STATE_LOST, res);
	}
	if (c)
		*res = c->res;
	dv_conn_forget();
	return 0;
}

void dv_status(FILE *out)
{
	int i;

	fprintf(out, "backend divert\nqueue %u\npid %d\nhandshakes %u\n", qnum, (int)getpid(),
		dv_conn_count(dv_now_ms()));
	for (i = 0; i < C_MAX; i++)
		fprintf(out, "counter %s %llu\n", cnames[i], (unsigned long long)counters[i]);
}

static int home_ns = -1, target_ns = -1;

/* --netns: enter the namespace to open what belongs to it (the queue, its
 * sysctl); leave_netns() goes back, so that the daemon is no process of
 * that namespace (`ip netns pids` does not list it). */
static int enter_netns(const char *path)
{
	if (!path[0])
		return 0;
	target_ns = open(path, O_RDONLY | O_CLOEXEC);
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (target_ns < 0 || home_ns < 0 || setns(target_ns, CLONE_NEWNET) < 0) {
		tclog(LOG_ERR, "cannot enter network namespace %s: %s", path, strerror(errno));
		return -1;
	}
	dv_ipt_set_netns(target_ns);
	return 0;
}

static int leave_netns(void)
{
	if (home_ns >= 0 && setns(home_ns, CLONE_NEWNET) < 0) {
		tclog(LOG_ERR, "cannot leave the served network namespace: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int dv_run(const struct tcpcryptd_cfg *cfg, int sfd)
{
	struct pollfd pfd[72];
	struct dv_ctl *ctl;
	int n, nctl, running = 1, status = 0;

	char tabpath[PATH_MAX + 8];

	snprintf(tabpath, sizeof(tabpath), "%s" TCD_TAB_SUFFIX, cfg->control);
	/* the table's hash secret: drawn before the watchdog is cloned */
	n = dv_tab_seed();
	if (n < 0) {
		tclog(LOG_ERR, "getrandom: %s", strerror(-n));
		return 1;
	}
	/* the shared table first: every decision is in it before its verdict */
	n = dv_tab_open(tabpath);
	if (n < 0)
		tclog(LOG_WARNING, "no shared handshake table %s (%s): applications cannot learn "
		      "the outcome of handshakes in flight if the daemon dies", tabpath, strerror(-n));
	if (enter_netns(cfg->netns) < 0 || queue_open((unsigned)cfg->queue) < 0) {
		dv_tab_close(tabpath);
		return 1;
	}
	syncookies_fd = open("/proc/sys/net/ipv4/tcp_syncookies", O_RDONLY | O_CLOEXEC);
	set_halfopen();
	dv_sess_init();     /* tcnetstat's view of the namespace (sock_diag) */
	if (stat("/proc/self/ns/net", &my_ns) < 0 || leave_netns() < 0) {
		dv_tab_close(tabpath);
		return 1;
	}
	if (dv_ipt_install((unsigned)cfg->queue) < 0) {
		mnl_socket_close(nl);
		dv_tab_close(tabpath);
		return 1;
	}
	tclog(LOG_INFO, "divert backend: rules installed, NFQUEUE %d", cfg->queue);
	n = dv_wd_start(mnl_socket_get_fd(nl));
	if (n < 0)
		tclog(LOG_WARNING, "no watchdog (%s): a stopped daemon stalls the handshakes it "
		      "holds until it resumes", strerror(-n));
	/* last: tests and tools take the socket as the sign that we are up */
	ctl = dv_ctl_open(cfg->control);
	if (!ctl) {
		dv_wd_stop();
		dv_ipt_remove();
		mnl_socket_close(nl);
		dv_tab_close(tabpath);
		return 1;
	}
	tclog(LOG_INFO, "control socket %s ready", cfg->control);
	while (running) {
		pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		nctl = dv_ctl_pollfds(ctl, pfd + 2, 70);
		/* short: after a stop, the watchdog hands the queue back at our next turn */
		n = poll(pfd, (nfds_t)(2 + nctl), 250);
		dv_wd_beat();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			tclog(LOG_ERR, "poll: %s", strerror(errno));
			status = 1;
			break;
		}
		/* every turn, idle ones included: the empty queue's stamp
		 * (judged_ms) keeps moving while we run */
		queue_drain();
		dv_ctl_serve(ctl, pfd + 2, nctl, dv_now_ms());
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					tclog(LOG_INFO, "SIGHUP: nothing to reload");
				} else {
					tclog(LOG_NOTICE, "signal %u: stopping", si.ssi_signo);
					running = 0;
				}
			}
		}
	}
	dv_ctl_close(ctl);
	dv_wd_stop();
	dv_ipt_remove();
	queue_drain();      /* what was queued before the rules went: verdicts, not drops */
	mnl_socket_close(nl);
	dv_tab_close(tabpath);
	return status;
}
