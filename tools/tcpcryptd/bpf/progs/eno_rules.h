// SPDX-License-Identifier: GPL-2.0
/*
 * eno_rules.h - the TCP-ENO rules of tcpcrypt_eno.bpf.c, in plain C: the
 * options parser and the two decisions, B's answer to A's SYN
 * (decide_synack) and A's verdict on B's SYN-ACK (decide_active).
 *
 * Compiled into the BPF program (loops are bpf_loop callbacks, every index
 * masked for the verifier) and, unchanged, in user space, where the tests
 * run it against libtcpcrypt/eno.c, the reference rules, on the same
 * inputs (tests/unit/check_eno_diff.c, tests/fuzz/fuzz_eno_diff.c). It
 * needs <linux/types.h>, tcpcrypt/eno_abi.h and EINVAL; nothing of the
 * kernel's: the callers copy headers in and results out.
 */
#ifndef TCPCRYPT_ENO_RULES_H
#define TCPCRYPT_ENO_RULES_H

#ifndef __bpf__
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#endif

#define GLOBAL_A    0x02
#define GLOBAL_B    0x01
/* A v=1 suboption with this much data asks for session resumption (RFC
 * 8548 3.5), which is not implemented: B cannot choose its TEP that way. */
#define ENO_RESUME_MIN_DATA 9

/* An opted-in listener's offer, for its SYN-ACKs (the value of tc_listen). */
struct listen_val {
	__u64 cookie;          /* the last listener that wrote it (socket cookie or tag) */
	__u8 flags;
	__u8 len;
	__u8 content[TCPCRYPT_ENO_CONTENT_MAX];
	__u8 pad[2];
	__u32 refs;            /* listening sockets counted on it (SO_REUSEPORT groups) */
	__u32 pad2;
};

/* Passive side: what B decided for a SYN (the value of tc_syn). */
struct syn_val {
	__u8 reason;           /* why no ENO, or R_OK */
	__u8 flags;            /* TCPCRYPT_RES_F_COOKIE, F_PEER_APP */
	__u8 local_len;        /* 0: answer without ENO */
	__u8 peer_len;
	__u8 local_opt[TCPCRYPT_ENO_OPT_MAX];
	__u8 peer_opt[TCPCRYPT_ENO_OPT_MAX];
};

/* What a SYN-form option says (RFC 8547 4.1-4.2). */
struct parsed {
	__u8 global;           /* first global suboption or implicit 0 */
	__u8 seen_global;
	__u8 ntep;
	__u8 chosen;           /* last TEP id that is also in the filter */
	__u8 nchosen;          /* how many TEPs matched the filter */
	__u8 nvalid_a;         /* ... that the filter has without resumption data */
	__u8 nvalid_b;         /* ... that have no resumption data themselves */
	__u8 pad[1];
	__u64 bits[2];         /* TEP ids seen (128-bit set of glt values) */
	__u64 fresh[2];        /* those seen without resumption data */
};

/* Scratch space (per CPU in the kernel) for parsing, to keep the BPF
 * stack small and let bpf_loop callbacks share state. */
struct scratch {
	__u8 hdr[64];          /* a TCP header */
	__u8 buf[2][64];       /* [0]: the peer's ENO option, [1]: ours */
	struct parsed p[2];    /* parse results of buf[0], buf[1] */
	__u32 i, len, n;
	__s32 err;
	__u8 which;            /* buffer the callback works on */
	__u8 use_filter;       /* parse of buf[1]: filter by p[0].bits */
	__u8 pad[2];
	struct syn_val sv;
};

struct loop_ctx {
	struct scratch *sc;
};

#ifdef __bpf__
#define eno_loop(n, cb, ctx) bpf_loop((n), (cb), (ctx), 0)
#else
/* bpf_loop in user space: cb(i, ctx) for i < n until it returns non-zero. */
static inline void eno_loop(__u32 n, int (*cb)(__u32, struct loop_ctx *), struct loop_ctx *ctx)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (cb(i, ctx))
			break;
}
#endif

/* Records TEP id in p; resume: its suboption asks for resumption. With
 * the filter (p[0], the peer's option), counts our TEPs that the peer
 * has: in any form (chosen, nchosen), in a suboption without resumption
 * data (nvalid_a: valid when the peer is B, RFC 8547 4.5), or in any form
 * while ours has none (nvalid_b: valid when we are B). */
static __always_inline void tep_seen(struct scratch *sc, struct parsed *p, __u8 id, int resume)
{
	__u32 w = (id >> 6) & 1;
	__u64 m = 1ULL << (id & 63);

	p->ntep++;
	p->bits[w] |= m;
	if (!resume)
		p->fresh[w] |= m;
	if (!sc->use_filter || !(sc->p[0].bits[w] & m))
		return;
	p->chosen = id;
	p->nchosen++;
	if (sc->p[0].fresh[w] & m)
		p->nvalid_a++;
	if (!resume)
		p->nvalid_b++;
}

/* One suboption of sc->buf[sc->which] at offset sc->i (bpf_loop body). */
static int parse_cb(__u32 idx, struct loop_ctx *c)
{
	struct scratch *sc = c->sc;
	__u32 w = sc->which & 1, i = sc->i, len = sc->len;
	struct parsed *p = &sc->p[w];
	__u8 b, nb, n;

	(void)idx;
	if (i >= len || len > 64)
		return 1;
	b = sc->buf[w][i & 63];
	if (b < 0x20) {
		if (!p->seen_global) {
			p->global = b;
			p->seen_global = 1;
		}
		sc->i = i + 1;
	} else if (b < 0x80) {
		tep_seen(sc, p, b & 0x7f, 0);
		sc->i = i + 1;
	} else if (b < 0xa0) {
		n = (b & 0x1f) + 1;
		if (i + 1 >= len) {
			sc->err = -EINVAL;
			return 1;
		}
		nb = sc->buf[w][(i + 1) & 63];
		if (nb < 0xa0 || i + 2 + n > len) {
			sc->err = -EINVAL;
			return 1;
		}
		tep_seen(sc, p, nb & 0x7f, n >= ENO_RESUME_MIN_DATA);
		sc->i = i + 2 + n;
	} else {
		/* data runs to the end of the option */
		tep_seen(sc, p, b & 0x7f, len - i - 1 >= ENO_RESUME_MIN_DATA);
		return 1;
	}
	return 0;
}

/* Parses the whole ENO option in sc->buf[which] (len bytes) into
 * sc->p[which]; for which = 1 with use_filter, p[1].chosen is the last TEP
 * of buf[1] also present in p[0]. Returns 0 or -EINVAL if ill-formed. */
static __noinline int parse_opt(struct scratch *sc, __u32 which, __u32 len, __u32 use_filter)
{
	struct loop_ctx c = { .sc = sc };
	__u32 w = which & 1;

	__builtin_memset(&sc->p[w], 0, sizeof(sc->p[0]));
	if (len < 2 || len > TCPCRYPT_ENO_OPT_MAX || sc->buf[w][0] != TCPCRYPT_ENO_KIND ||
	    sc->buf[w][1] != len)
		return -EINVAL;
	sc->which = w;
	sc->use_filter = use_filter;
	sc->i = 2;
	sc->len = len;
	sc->err = 0;
	eno_loop(TCPCRYPT_ENO_OPT_MAX, parse_cb, &c);
	return sc->err;
}

/* One TCP option of sc->hdr at offset sc->i (bpf_loop body). */
static int find_cb(__u32 idx, struct loop_ctx *c)
{
	struct scratch *sc = c->sc;
	__u32 i = sc->i, hlen = sc->len, j;
	__u8 kind, len;

	(void)idx;
	if (i >= hlen || hlen > 60)
		return 1;
	kind = sc->hdr[i & 63];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		sc->i = i + 1;
		return 0;
	}
	if (i + 1 >= hlen) {
		sc->err = -EINVAL;
		return 1;
	}
	len = sc->hdr[(i + 1) & 63];
	if (len < 2 || i + len > hlen) {
		sc->err = -EINVAL;
		return 1;
	}
	if (kind == TCPCRYPT_ENO_KIND) {
		if (sc->n == 0 && len <= TCPCRYPT_ENO_OPT_MAX) {
			for (j = 0; j < TCPCRYPT_ENO_OPT_MAX; j++) {
				if (j >= len)
					break;
				sc->buf[0][j] = sc->hdr[(i + j) & 63];
			}
			sc->p[0].pad[0] = len;   /* length of the copy */
		}
		sc->n++;
	}
	sc->i = i + len;
	return 0;
}

/* Scans the TCP header in sc->hdr (hlen bytes) for ENO options: copies the
 * first whole option into sc->buf[0] (*olen) and returns how many there
 * were, or -EINVAL if the options area is malformed. */
static __noinline int find_eno(struct scratch *sc, __u32 hlen, __u32 *olen)
{
	struct loop_ctx c = { .sc = sc };

	*olen = 0;
	if (hlen > 60)
		hlen = 60;
	sc->i = 20;
	sc->len = hlen;
	sc->n = 0;
	sc->err = 0;
	sc->p[0].pad[0] = 0;
	eno_loop(40, find_cb, &c);
	*olen = sc->p[0].pad[0];
	if (sc->err)
		return sc->err;
	return sc->n;
}

/* Puts our content into sc->buf[1] as a whole option and parses it
 * (filtered by p[0] when use_filter). */
static __always_inline int parse_content(struct scratch *sc, const __u8 *content, __u32 clen,
					 __u32 use_filter)
{
	__u32 j;

	if (clen > TCPCRYPT_ENO_CONTENT_MAX)
		return -EINVAL;
	sc->buf[1][0] = TCPCRYPT_ENO_KIND;
	sc->buf[1][1] = clen + 2;
	for (j = 0; j < TCPCRYPT_ENO_CONTENT_MAX; j++) {
		if (j >= clen)
			break;
		sc->buf[1][j + 2] = content[j];
	}
	return parse_opt(sc, 1, clen + 2, use_filter);
}

/* Copies up to 40 bytes (len bounded by the caller). */
static __always_inline void copy40(__u8 *dst, const __u8 *src, __u32 len)
{
	__u32 j;

	for (j = 0; j < TCPCRYPT_ENO_OPT_MAX; j++) {
		if (j >= len)
			break;
		dst[j] = src[j];
	}
}

/* B decides its answer to A's SYN (sc->hdr = A's TCP header) into sc->sv. */
static __noinline void decide_synack(struct scratch *sc, __u32 hlen, struct listen_val *lv,
				     int syn_data)
{
	struct syn_val *sv = &sc->sv;
	__u32 olen = 0;
	__u8 global, ag;
	int n;

	n = find_eno(sc, hlen, &olen);
	if (olen > TCPCRYPT_ENO_OPT_MAX)
		olen = 0;
	sv->peer_len = olen;
	copy40(sv->peer_opt, sc->buf[0], olen);
	if (n < 0) {
		sv->reason = TCPCRYPT_ENO_R_MALFORMED;
		return;
	}
	if (n == 0) {
		sv->reason = TCPCRYPT_ENO_R_PEER_NO_ENO;
		return;
	}
	if (n > 1) {
		sv->reason = TCPCRYPT_ENO_R_TWO_OPTIONS;
		return;
	}
	if (parse_opt(sc, 0, olen, 0)) {
		sv->reason = TCPCRYPT_ENO_R_MALFORMED;
		return;
	}
	/* the checks in the order of tc_eno_answer_syn (libtcpcrypt/eno.c) */
	ag = sc->p[0].global;
	if (ag & GLOBAL_A)
		sv->flags |= TCPCRYPT_RES_F_PEER_APP;
	if (sc->p[0].ntep == 0) {
		sv->reason = TCPCRYPT_ENO_R_VACUOUS;
		return;
	}
	if (ag & GLOBAL_B) {
		sv->reason = TCPCRYPT_ENO_R_ROLE_CLASH;
		return;
	}
	/* our list matched against A's TEPs: the last match wins */
	if (parse_content(sc, lv->content, lv->len, 1)) {
		sv->reason = TCPCRYPT_ENO_R_MALFORMED;
		return;
	}
	if ((lv->flags & TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE) && !(ag & GLOBAL_A)) {
		sv->reason = TCPCRYPT_ENO_R_APP_AWARE;
		return;
	}
	if (sc->p[1].nchosen == 0) {
		sv->reason = TCPCRYPT_ENO_R_NO_COMMON_TEP;
		return;
	}
	if (syn_data) {
		/* tcpcrypt defines no SYN data (RFC 8547 4.7); the kernel may
		 * hand it to the application, so answer without ENO */
		sv->reason = TCPCRYPT_ENO_R_SYN_DATA;
		return;
	}
	global = GLOBAL_B | (sc->p[1].global & GLOBAL_A);
	if (lv->flags & TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE)
		global |= GLOBAL_A;
	sv->local_opt[0] = TCPCRYPT_ENO_KIND;
	sv->local_opt[1] = 4;
	sv->local_opt[2] = global;
	sv->local_opt[3] = sc->p[1].chosen & 0x7f;
	sv->local_len = 4;
	sv->reason = TCPCRYPT_ENO_R_OK;
}

/* A decides on B's SYN-ACK (sc->hdr, its TCP header of hlen bytes), its
 * SYN having carried our offer (content, clen bytes; oflags its
 * TCPCRYPT_OFFER_F_*). Returns the reason (TCPCRYPT_ENO_R_OK: negotiated);
 * sc->sv gets B's option (peer_opt, peer_len) and in flags
 * TCPCRYPT_RES_F_PEER_APP, and TCPCRYPT_RES_F_ROLE_B when our b bit makes
 * us B (RFC 8547 4.6: roles follow the b bits, not who connected). The
 * checks are those of tc_eno_negotiate (libtcpcrypt/eno.c), in its order.
 * Some TEP must be valid in B's option, and a suboption there that asks
 * for resumption is not (RFC 8548 3.5: none was offered, so its half
 * identifier cannot match, and A ignores it). */
static __noinline int decide_active(struct scratch *sc, __u32 hlen, const __u8 *content,
				    __u32 clen, __u32 oflags)
{
	struct syn_val *sv = &sc->sv;
	__u32 olen = 0;
	__u8 bg;
	int n;

	n = find_eno(sc, hlen, &olen);
	if (olen > TCPCRYPT_ENO_OPT_MAX)
		olen = 0;
	sv->peer_len = olen;
	copy40(sv->peer_opt, sc->buf[0], olen);
	if (n < 0)
		return TCPCRYPT_ENO_R_MALFORMED;
	if (n == 0)
		return TCPCRYPT_ENO_R_PEER_NO_ENO;
	if (n > 1)
		return TCPCRYPT_ENO_R_TWO_OPTIONS;
	if (parse_opt(sc, 0, olen, 0))
		return TCPCRYPT_ENO_R_MALFORMED;
	bg = sc->p[0].global;
	if (bg & GLOBAL_A)
		sv->flags |= TCPCRYPT_RES_F_PEER_APP;
	if (parse_content(sc, content, clen, 1))
		return TCPCRYPT_ENO_R_MALFORMED;
	if (sc->p[0].ntep == 0 || sc->p[1].ntep == 0)
		return TCPCRYPT_ENO_R_VACUOUS;
	if ((bg & GLOBAL_B) == (sc->p[1].global & GLOBAL_B))
		return TCPCRYPT_ENO_R_ROLE_CLASH;
	if ((oflags & TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE) && !(bg & GLOBAL_A))
		return TCPCRYPT_ENO_R_APP_AWARE;
	if (sc->p[1].global & GLOBAL_B) {
		/* we are B: the TEP is one of ours (without resumption data) */
		if (sc->p[1].nvalid_b == 0)
			return TCPCRYPT_ENO_R_NO_COMMON_TEP;
		sv->flags |= TCPCRYPT_RES_F_ROLE_B;
	} else if (sc->p[1].nvalid_a == 0) {
		return TCPCRYPT_ENO_R_NO_COMMON_TEP;
	}
	return TCPCRYPT_ENO_R_OK;
}

#endif
