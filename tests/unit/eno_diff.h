/*
 * eno_diff.h - one input through both ENO rule sets, and whether they
 * agree: libtcpcrypt/eno.c (the reference: the shim and tcpcryptd's
 * divert backend decide with it) and the BPF program's rules
 * (tools/tcpcryptd/bpf/progs/eno_rules.h, compiled here as plain C).
 *
 * An input is one side of a handshake: our offer (the content of the ENO
 * option that tcpcryptd got from setsockopt, and its flags) and the TCP
 * options area the peer sent (A's SYN when we are the listener B, B's
 * SYN-ACK when we are the active opener A). The reference gets the policy
 * that the divert backend derives from an offer (dv_offer_policy).
 *
 * Used by check_eno_diff.c (the cases of check_eno.c and a seeded random
 * sweep) and by tests/fuzz/fuzz_eno_diff.c. Header-only, no I/O.
 */
#ifndef TC_TEST_ENO_DIFF_H
#define TC_TEST_ENO_DIFF_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "eno.h"
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt/tcpcrypt.h"
#include "../../tools/tcpcryptd/bpf/progs/eno_rules.h"

enum eno_side { ENO_SIDE_B = 0, ENO_SIDE_A = 1 };

/* One input: our offer and the peer's options area (at most 40 bytes). */
struct eno_input {
	enum eno_side side;
	uint8_t content[TCPCRYPT_ENO_CONTENT_MAX];
	size_t clen;                   /* 1..38 */
	unsigned oflags;               /* TCPCRYPT_OFFER_F_* */
	uint8_t area[TCPCRYPT_ENO_OPT_MAX];
	size_t alen;
};

/* What one implementation decided. */
struct eno_verdict {
	int eno;                       /* B: answers with ENO; A: negotiated */
	int reason;                    /* TCPCRYPT_ENO_R_* */
	int role;                      /* TCPCRYPT_ROLE_A or _B (when eno) */
	int peer_a;                    /* the peer's a bit (when eno) */
	uint8_t opt[TCPCRYPT_ENO_OPT_MAX]; /* B: its SYN-ACK option (the chosen TEP in opt[3]) */
	size_t optlen;
};

/* The policy the divert backend derives from an offer (as dv_offer_policy
 * in tools/tcpcryptd/divert/tcpcryptd_divert_tab.c). 0 or -EINVAL. */
static inline int eno_diff_policy(const struct eno_input *in, struct tc_eno_policy *pol)
{
	uint8_t opt[TCPCRYPT_ENO_OPT_MAX];
	struct tc_eno_syn s;
	unsigned i;

	if (in->clen < 1 || in->clen > TCPCRYPT_ENO_CONTENT_MAX)
		return -EINVAL;
	opt[0] = TCPCRYPT_ENO_KIND;
	opt[1] = (uint8_t)(in->clen + 2);
	memcpy(opt + 2, in->content, in->clen);
	if (tc_eno_parse_syn(opt, in->clen + 2, &s) < 0)
		return -EINVAL;
	memset(pol, 0, sizeof(*pol));
	for (i = 0; i < s.ntep && pol->nteps < sizeof(pol->teps); i++)
		pol->teps[pol->nteps++] = s.tep[i].id;
	pol->app_aware = (s.global & TC_ENO_GLOBAL_A) ? 1 : 0;
	if (in->oflags & TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE)
		pol->app_aware = 2;
	pol->passive = (s.global & TC_ENO_GLOBAL_B) ? 1 : 0;
	return 0;
}

/* The reference: tc_eno_find on the area, then what the divert backend
 * does (b_syn/b_synack: tc_eno_answer_syn; a_synack: tc_eno_negotiate). */
static inline void eno_diff_ref(const struct eno_input *in, struct eno_verdict *v)
{
	struct tc_eno_policy pol;
	struct tc_eno_outcome out;
	uint8_t local[TCPCRYPT_ENO_OPT_MAX];
	const uint8_t *x = NULL;
	size_t xl = 0;
	int n, r, reason = -1;

	memset(v, 0, sizeof(*v));
	n = tc_eno_find(in->area, in->alen, &x, &xl);
	if (eno_diff_policy(in, &pol) < 0) {
		v->reason = TCPCRYPT_ENO_R_MALFORMED;
		return;
	}
	if (in->side == ENO_SIDE_B) {
		r = tc_eno_answer_syn(&pol, x, xl, n < 0 ? -1 : n > 2 ? 2 : n, v->opt,
				      sizeof(v->opt), &reason);
		v->reason = reason;
		v->role = TCPCRYPT_ROLE_B;
		if (r > 0) {
			struct tc_eno_syn as;

			v->eno = 1;
			v->optlen = (size_t)r;
			v->peer_a = tc_eno_parse_syn(x, xl, &as) == 0 &&
				    (as.global & TC_ENO_GLOBAL_A);
		}
		return;
	}
	local[0] = TCPCRYPT_ENO_KIND;
	local[1] = (uint8_t)(in->clen + 2);
	memcpy(local + 2, in->content, in->clen);
	if (n < 0)
		v->reason = TCPCRYPT_ENO_R_MALFORMED;
	else if (n == 0)
		v->reason = TCPCRYPT_ENO_R_PEER_NO_ENO;
	else if (n > 1)
		v->reason = TCPCRYPT_ENO_R_TWO_OPTIONS;
	else if (tc_eno_negotiate(&pol, local, in->clen + 2, x, xl, &out) < 0)
		v->reason = TCPCRYPT_ENO_R_MALFORMED;
	else {
		v->eno = out.negotiated;
		v->reason = out.negotiated ? TCPCRYPT_ENO_R_OK : out.reason;
		v->role = out.role;
		v->peer_a = out.peer_a;
	}
}

/* The BPF program's rules, on the header the kernel would hand it: 20
 * bytes of fixed TCP header, then the area. */
static inline void eno_diff_bpf(const struct eno_input *in, struct eno_verdict *v)
{
	static struct scratch sc;      /* a per-CPU map value in the kernel */
	struct listen_val lv;
	int r;

	memset(v, 0, sizeof(*v));
	memset(&sc, 0, sizeof(sc));
	memcpy(sc.hdr + 20, in->area, in->alen);
	if (in->side == ENO_SIDE_B) {
		memset(&lv, 0, sizeof(lv));
		memcpy(lv.content, in->content, in->clen);
		lv.len = (__u8)in->clen;
		lv.flags = (__u8)in->oflags;
		decide_synack(&sc, 20 + (__u32)in->alen, &lv, 0);
		v->reason = sc.sv.reason;
		v->role = TCPCRYPT_ROLE_B;
		if (sc.sv.local_len) {
			v->eno = 1;
			v->optlen = sc.sv.local_len;
			memcpy(v->opt, sc.sv.local_opt, v->optlen);
			v->peer_a = !!(sc.sv.flags & TCPCRYPT_RES_F_PEER_APP);
		}
		return;
	}
	r = decide_active(&sc, 20 + (__u32)in->alen, in->content, (__u32)in->clen, in->oflags);
	v->reason = r;
	v->eno = r == TCPCRYPT_ENO_R_OK;
	if (v->eno) {
		v->role = (sc.sv.flags & TCPCRYPT_RES_F_ROLE_B) ? TCPCRYPT_ROLE_B : TCPCRYPT_ROLE_A;
		v->peer_a = !!(sc.sv.flags & TCPCRYPT_RES_F_PEER_APP);
	}
}

/* Appends printf output to why[cap]. */
static inline void eno_diff_say(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void eno_diff_say(char *why, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	if (used >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(why + used, cap - used, fmt, ap);
	va_end(ap);
}

static inline void eno_diff_hex(char *why, size_t cap, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		eno_diff_say(why, cap, "%02x", b[i]);
}

/* Runs in through both. Returns 0 when they agree on everything that is
 * decided (ENO or not, the reason, and when ENO: the role, the peer's a
 * bit and B's option, hence the chosen TEP; A's TEP is not the kernel's
 * to choose: the shim takes it from the transcript with eno.c); else 1
 * with the input and both verdicts described in why. */
static inline int eno_diff_run(const struct eno_input *in, char *why, size_t cap)
{
	struct eno_verdict ref, bpf;
	int same;

	eno_diff_ref(in, &ref);
	eno_diff_bpf(in, &bpf);
	/* an offer that is not a well-formed option (only raw setsockopt
	 * callers can make one) must never negotiate; which fault of the
	 * input is reported first is then not compared */
	same = ref.eno == bpf.eno &&
	       (ref.reason == bpf.reason || eno_diff_policy(in, &(struct tc_eno_policy){ 0 }) < 0);
	if (same && ref.eno)
		same = ref.role == bpf.role && ref.peer_a == bpf.peer_a &&
		       ref.optlen == bpf.optlen && !memcmp(ref.opt, bpf.opt, ref.optlen);
	if (same)
		return 0;
	why[0] = '\0';
	eno_diff_say(why, cap, "side %c, offer ", in->side == ENO_SIDE_A ? 'A' : 'B');
	eno_diff_hex(why, cap, in->content, in->clen);
	eno_diff_say(why, cap, " flags %u, peer's options ", in->oflags);
	eno_diff_hex(why, cap, in->area, in->alen);
	eno_diff_say(why, cap, ": eno.c eno=%d reason=%d (%s) role=%d a=%d opt=", ref.eno,
		     ref.reason, tc_eno_reason_str(ref.reason), ref.role, ref.peer_a);
	eno_diff_hex(why, cap, ref.opt, ref.optlen);
	eno_diff_say(why, cap, "; bpf eno=%d reason=%d (%s) role=%d a=%d opt=", bpf.eno,
		     bpf.reason, tc_eno_reason_str(bpf.reason), bpf.role, bpf.peer_a);
	eno_diff_hex(why, cap, bpf.opt, bpf.optlen);
	return 1;
}

#endif
