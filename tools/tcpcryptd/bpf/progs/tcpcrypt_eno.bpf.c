// SPDX-License-Identifier: GPL-2.0
/*
 * tcpcrypt_eno.bpf.c - TCP-ENO (RFC 8547) on the real TCP handshake.
 *
 * Three programs, attached by tcpcryptd to a cgroup v2:
 *  - cgroup/setsockopt: TCPCRYPT_ENO_SOCKOPT opts a socket in (its offer is
 *    kept in sk_storage), TCPCRYPT_ENO_REPORT records the session for
 *    tcnetstat. Other options (TCPCRYPT_GUARD_GRANT among them: the
 *    guard's own setsockopt program takes it) pass through untouched.
 *  - cgroup/getsockopt: TCPCRYPT_ENO_SOCKOPT returns the result.
 *  - sockops: writes the SYN-form option into an opted-in socket's SYN, B's
 *    answer into an opted-in listener's SYN-ACK, `45 02` into A's segments
 *    until B's first non-SYN segment, and decides the outcome on both ends.
 * The sessions listing (tcnetstat) comes from the optional iterator in
 * tcpcrypt_iter.bpf.c, which walks tc_sk and costs a connection nothing.
 * When the kernel refuses it (tracing programs are often forbidden),
 * tcpcryptd sets tc_use_table and the sock_ops program keeps the sessions
 * table tc_sessions_tab instead: one entry per established connection,
 * removed by the state callback at close.
 * When tcpcryptd loaded the optional guard (tcpcrypt_guard.bpf.c) it sets
 * tc_guard_on, and the sock_ops program arms the guard on every negotiated
 * socket that the shim enrolled (tc_guard storage: nothing granted yet).
 * The wire rules are those of libtcpcrypt/eno.c; this is the in-kernel copy,
 * in eno_rules.h, which tests/unit/check_eno_diff.c and
 * tests/fuzz/fuzz_eno_diff.c run against eno.c on the same inputs.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "tcpcrypt/eno_abi.h"
#include "tcpcrypt_maps.h"
#include "tcpcrypt_sk.h"
#include "tcpcrypt_guard.h"

#define SOL_TCP     6
#define IPPROTO_TCP 6
#define AF_INET     2
#define AF_INET6    10
#define ENOENT      2
#define EINVAL      22
#define EISCONN     106
#define ENOMEM      12
#define ENOSPC      28
#define EOPNOTSUPP  95
#define TCPHDR_SYN  0x02
#define TCPHDR_ACK  0x10

/* the parser and the decisions, in plain C (also run in user space by
 * the tests, against libtcpcrypt/eno.c) */
#include "eno_rules.h"

/* Opted-in listeners, for their SYN-ACKs (a request sock cannot reach the
 * listener's sk_storage). Key: netns cookie, address family, the address
 * the listener is bound to (all zero: the wildcard) and port, so that
 * listeners on one port and different addresses (IPv4 and IPv6 too) keep
 * their own offers. An IPv4-mapped IPv6 address counts as IPv4. A SYN-ACK
 * looks up its exact local address, then its family's wildcard, then (for
 * IPv4) the IPv6 wildcard of a dual-stack listener. Listeners of one
 * SO_REUSEPORT group share an entry (the last one's offer) and are
 * counted in it; the state callback removes it when the last of them
 * closes. An LRU map all the same, for entries whose listeners closed while
 * no program ran. A listener whose entry is gone reads as not opted in
 * (getsockopt), so that the shim opts it in again.
 * The pinned map is reused by a later daemon only with the same key and
 * value sizes (tcpcryptd_bpf.c drops a pin that does not fit): a new key
 * layout must change the key's size, or the map's name. This one is 32
 * bytes; the layout before it (netns and port only) had 16. */
struct listen_key {
	__u64 netns;
	__u8 family;           /* AF_INET or AF_INET6 */
	__u8 pad;
	__u16 port;            /* host order */
	__u32 pad2;
	__u8 addr[16];         /* network order; IPv4 in addr[0..3] */
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct listen_key);
	__type(value, struct listen_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_listen SEC(".maps");

/* Passive side: what B decided for a SYN, keyed by 4-tuple, so that SYN-ACK
 * retransmits (no SYN skb) and SYN cookies (no request sock) send the same
 * option, and the child learns the transcript. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tc_tuple);
	__type(value, struct syn_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_syn SEC(".maps");


struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TC_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tc_owner);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_owner SEC(".maps");

/* The sessions table, kept only when tc_use_table is set (the iterator
 * was refused): key socket cookie. Not preallocated: an idle host pays
 * nothing; when full, new sessions are not listed (counted as errors). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, struct tc_session);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_sessions_tab SEC(".maps");

/* Set by tcpcryptd after load (the program's .bss): keep tc_sessions_tab. */
volatile __u32 tc_use_table;

/* Set to 0 by tcpcryptd before load (.rodata: the verifier then skips the
 * code it guards) on a kernel that refuses bpf_setsockopt in sockopt
 * hooks (before 5.15): listeners are then renewed without the flag. */
const volatile __u32 tc_late_listen = 1;

/* Set by tcpcryptd once the guard's programs are attached: negotiated
 * sockets are enrolled from then on. */
volatile __u32 tc_guard_on;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} tc_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tc_session_rec);
} tc_scratch_rec SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&tc_counters, &i);

	if (v)
		(*v)++;
}

static __always_inline struct scratch *scratch(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&tc_scratch, &k);
}

/* Fills a tuple from the sock_ops context. */
static __always_inline void get_tuple(struct bpf_sock_ops *s, struct tc_tuple *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->family = s->family;
	t->lport = s->local_port;
	t->rport = bpf_ntohl(s->remote_port);
	if (s->family == AF_INET) {
		__u32 l = s->local_ip4, r = s->remote_ip4;

		__builtin_memcpy(t->laddr, &l, 4);
		__builtin_memcpy(t->raddr, &r, 4);
	} else {
		__u32 a[4];

		/* one 4-byte load each: clang would merge neighbours into an
		 * 8-byte ctx load, which the verifier rejects */
		a[0] = *(volatile __u32 *)&s->local_ip6[0];
		a[1] = *(volatile __u32 *)&s->local_ip6[1];
		a[2] = *(volatile __u32 *)&s->local_ip6[2];
		a[3] = *(volatile __u32 *)&s->local_ip6[3];
		__builtin_memcpy(t->laddr, a, 16);
		a[0] = *(volatile __u32 *)&s->remote_ip6[0];
		a[1] = *(volatile __u32 *)&s->remote_ip6[1];
		a[2] = *(volatile __u32 *)&s->remote_ip6[2];
		a[3] = *(volatile __u32 *)&s->remote_ip6[3];
		__builtin_memcpy(t->raddr, a, 16);
	}
}

/* Marks an established opted-in connection for the sessions iterator. */
/* Callback flags for a socket: those asked for, plus the state callback
 * while it has a sessions table entry to remove at close. */
static __always_inline void cb_set(struct bpf_sock_ops *skops, struct tc_sk *s, __u32 flags)
{
	if (s && (s->st & ST_TABLE))
		flags |= BPF_SOCK_OPS_STATE_CB_FLAG;
	bpf_sock_ops_cb_flags_set(skops, flags);
}

/* Copies a socket's state into its sessions table record. */
static __always_inline void table_fill(struct tc_session *r, const struct tc_sk *s, __u8 state)
{
	__builtin_memcpy(&r->tuple, &s->tuple, sizeof(r->tuple));
	r->state = state;
	r->pid = s->pid;
	r->uid = s->uid;
	__builtin_memcpy(r->comm, s->comm, TC_COMM_LEN);
	__builtin_memcpy(&r->result, &s->res, sizeof(r->result));
	if (s->has_report) {
		__builtin_memcpy(&r->report, &s->rep, sizeof(r->report));
		r->has_report = 1;
	}
	r->est_ns = s->est_ns;
}

/* The connection is established: listed from now on. */
static __always_inline void session_put(struct bpf_sock_ops *skops, struct tc_sk *s)
{
	struct tc_session_rec *rec;
	__u32 k = 0;

	get_tuple(skops, &s->tuple);
	s->cookie = bpf_get_socket_cookie(skops);
	s->est_ns = bpf_ktime_get_ns();
	s->st |= ST_SESSION;
	if (!tc_use_table)
		return;
	rec = bpf_map_lookup_elem(&tc_scratch_rec, &k);
	if (!rec)
		return;
	__builtin_memset(rec, 0, sizeof(*rec));
	table_fill(&rec->s, s, BPF_TCP_ESTABLISHED);
	if (bpf_map_update_elem(&tc_sessions_tab, &s->cookie, &rec->s, BPF_ANY)) {
		count(TC_C_ERRORS);
		return;
	}
	s->st |= ST_TABLE;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* Fills a tc_listen key from a family, an address (16 bytes, network
 * order, IPv4 in the first 4) and a port: an IPv4-mapped IPv6 address
 * becomes IPv4. */
static __always_inline void listen_key_set(struct listen_key *k, __u64 netns, __u32 family,
					   const __u8 *addr, __u32 port)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->port = port;
	k->family = family;
	if (family == AF_INET6 && !addr[0] && !addr[1] && !addr[2] && !addr[3] && !addr[4] &&
	    !addr[5] && !addr[6] && !addr[7] && !addr[8] && !addr[9] && addr[10] == 0xff &&
	    addr[11] == 0xff) {
		k->family = AF_INET;
		__builtin_memcpy(k->addr, addr + 12, 4);
	} else if (family == AF_INET) {
		__builtin_memcpy(k->addr, addr, 4);
	} else {
		__builtin_memcpy(k->addr, addr, 16);
	}
}

/* The offer of the listener that answers a SYN to this local address and
 * port: the exact address, else the family's wildcard, else for IPv4 a
 * dual-stack IPv6 listener's. */
static __always_inline struct listen_val *listen_find(struct listen_key *k)
{
	struct listen_val *v = bpf_map_lookup_elem(&tc_listen, k);

	if (v)
		return v;
	__builtin_memset(k->addr, 0, sizeof(k->addr));
	v = bpf_map_lookup_elem(&tc_listen, k);
	if (v || k->family != AF_INET)
		return v;
	k->family = AF_INET6;
	return bpf_map_lookup_elem(&tc_listen, k);
}

/* A listener (listen(), or an opt-in after it) writes its offer for key k
 * (v: the offer, refs 0), and counts itself in the entry once: listeners
 * of one SO_REUSEPORT group share it. Returns 0 or -ENOMEM. */
static __always_inline int listen_put(struct listen_key *k, struct listen_val *v, struct tc_sk *s)
{
	struct listen_val *old;
	int i;

	for (i = 0; i < 2; i++) {
		old = bpf_map_lookup_elem(&tc_listen, k);
		if (old) {
			old->cookie = v->cookie;
			old->flags = v->flags;
			old->len = v->len;
			__builtin_memcpy(old->content, v->content, TCPCRYPT_ENO_CONTENT_MAX);
			if (!(s->lflags & LST_COUNTED))
				__sync_fetch_and_add(&old->refs, 1);
			s->lflags |= LST_COUNTED;
			return 0;
		}
		v->refs = 1;
		if (bpf_map_update_elem(&tc_listen, k, v, BPF_NOEXIST) == 0) {
			s->lflags |= LST_COUNTED;
			return 0;
		}
		/* another CPU inserted it meanwhile: count on that one */
	}
	return -ENOMEM;
}

/* A listener closes: it leaves its tc_listen entry, which goes with the
 * last listener counted on it. */
static __always_inline void listen_gone(struct bpf_sock_ops *skops, struct tc_sk *s)
{
	struct listen_key k;
	struct listen_val *v;
	__u8 a[16];

	s->st &= ~ST_LISTENER;
	if (!(s->lflags & LST_COUNTED))
		return;
	s->lflags &= ~LST_COUNTED;
	if (skops->family == AF_INET) {
		__u32 l = skops->local_ip4;

		__builtin_memset(a, 0, sizeof(a));
		__builtin_memcpy(a, &l, 4);
	} else {
		__u32 w[4];

		w[0] = *(volatile __u32 *)&skops->local_ip6[0];
		w[1] = *(volatile __u32 *)&skops->local_ip6[1];
		w[2] = *(volatile __u32 *)&skops->local_ip6[2];
		w[3] = *(volatile __u32 *)&skops->local_ip6[3];
		__builtin_memcpy(a, w, 16);
	}
	listen_key_set(&k, bpf_get_netns_cookie(skops), skops->family, a, skops->local_port);
	v = bpf_map_lookup_elem(&tc_listen, &k);
	if (!v)
		return;
	/* (an atomic add without fetch: what clang emits for every BPF cpu
	 * version; a listen() racing with the delete is opted in again by
	 * the shim, its getsockopt finding no entry) */
	__sync_fetch_and_add(&v->refs, -1);
	if ((__s32)*(volatile __u32 *)&v->refs <= 0)
		bpf_map_delete_elem(&tc_listen, &k);
}

/* State callback: of an opted-in listener (remove its offer when it
 * closes), and of a socket in the sessions table (follow its TCP state,
 * remove it at close). */
static __always_inline void on_state(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct tc_session *r;
	struct tc_sk *s;
	__u32 st = skops->args[1];

	if (!sk)
		return;
	s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
	if (s && (s->st & ST_LISTENER) && skops->args[0] == BPF_TCP_LISTEN && st != BPF_TCP_LISTEN) {
		listen_gone(skops, s);
		return;
	}
	if (!s || !(s->st & ST_TABLE))
		return;
	if (st == BPF_TCP_CLOSE) {
		bpf_map_delete_elem(&tc_sessions_tab, &s->cookie);
		s->st &= ~ST_TABLE;
		return;
	}
	/* no byte counts: a snapshot taken at a state change would be stale
	 * at once; tcnetstat reads live ones from socket diagnostics */
	r = bpf_map_lookup_elem(&tc_sessions_tab, &s->cookie);
	if (r)
		r->state = st;
}

/* ---------------------------------------------------------------- sock_ops */

static __always_inline void on_connect(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct tc_sk *s;

	if (!sk)
		return;
	s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
	if (!s || !(s->st & ST_OPTED))
		return;
	s->st = (s->st & ST_OPTED) | ST_ACTIVE;
	s->res.flags = TCPCRYPT_RES_F_OPTED_IN;
	s->res.reason = TCPCRYPT_ENO_R_PENDING;
	s->res.local_len = 0;
	s->res.peer_len = 0;
	bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

static __always_inline void on_listen(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct listen_key k;
	struct listen_val v = {};
	struct tc_tuple t;
	struct tc_sk *s;
	__u32 len;

	if (!sk)
		return;
	s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
	if (!s || !(s->st & ST_OPTED))
		return;
	s->st = ST_OPTED | ST_LISTENER;
	s->res.flags = TCPCRYPT_RES_F_OPTED_IN | TCPCRYPT_RES_F_ROLE_B;
	s->res.reason = TCPCRYPT_ENO_R_PENDING;
	get_tuple(skops, &t);
	listen_key_set(&k, bpf_get_netns_cookie(skops), t.family, t.laddr, skops->local_port);
	v.cookie = bpf_get_socket_cookie(skops);
	s->cookie = v.cookie;
	v.flags = s->offer_flags;
	len = s->offer_len;
	if (len > TCPCRYPT_ENO_CONTENT_MAX)
		len = TCPCRYPT_ENO_CONTENT_MAX;
	v.len = len;
	__builtin_memcpy(v.content, s->offer, TCPCRYPT_ENO_CONTENT_MAX);
	if (listen_put(&k, &v, s)) {
		count(TC_C_ERRORS);
		return;
	}
	/* calls us for the SYN-ACKs of its request socks, and when it closes */
	bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
				  BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* Does the SYN being answered carry data? Reads the start of its IP header
 * (TCP_BPF_SYN_IP) for the packet length; hlen is its TCP header length. */
static __always_inline int syn_has_data(struct bpf_sock_ops *skops, __u32 hlen)
{
	__u8 ip[8] = {};
	__u32 tot, ihl;
	int r;

	r = bpf_getsockopt(skops, SOL_TCP, TCP_BPF_SYN_IP, ip, sizeof(ip));
	if (r <= 0 && r != -ENOSPC)
		return 0;
	if ((ip[0] >> 4) == 4) {
		tot = (__u32)ip[2] << 8 | ip[3];
		ihl = (ip[0] & 15) * 4;
		return tot > ihl + hlen;
	}
	if ((ip[0] >> 4) == 6)
		return ((__u32)ip[4] << 8 | ip[5]) > hlen;
	return 0;
}

/* HDR_OPT_LEN for an opted-in listener's SYN-ACK (ctx sk = request sock). */
static __always_inline void synack_len(struct bpf_sock_ops *skops)
{
	struct listen_key lk;
	struct listen_val *lv;
	struct scratch *sc = scratch();
	struct tc_tuple t;
	struct syn_val *old;
	int n;

	if (!sc)
		return;
	get_tuple(skops, &t);
	__builtin_memset(sc->hdr, 0, sizeof(sc->hdr));
	n = bpf_getsockopt(skops, SOL_TCP, TCP_BPF_SYN, sc->hdr, 60);
	if (n <= 0) {
		/* retransmit: no SYN at hand, repeat what we said before */
		old = bpf_map_lookup_elem(&tc_syn, &t);
		if (!old || !old->local_len)
			return;
		count(TC_C_SYNACK_RTX);
		if (bpf_reserve_hdr_opt(skops, old->local_len & 63, 0)) {
			count(TC_C_NO_SPACE);
			old->local_len = 0;
			old->reason = TCPCRYPT_ENO_R_NO_SPACE;
		}
		return;
	}
	listen_key_set(&lk, bpf_get_netns_cookie(skops), t.family, t.laddr, skops->local_port);
	lv = listen_find(&lk);
	if (!lv)
		return;
	__builtin_memset(&sc->sv, 0, sizeof(sc->sv));
	if (skops->args[0] == BPF_WRITE_HDR_TCP_SYNACK_COOKIE)
		sc->sv.flags |= TCPCRYPT_RES_F_COOKIE;
	decide_synack(sc, (__u32)n, lv, syn_has_data(skops, (__u32)n));
	if (sc->sv.local_len) {
		if (bpf_reserve_hdr_opt(skops, sc->sv.local_len & 63, 0)) {
			count(TC_C_NO_SPACE);
			sc->sv.local_len = 0;
			sc->sv.reason = TCPCRYPT_ENO_R_NO_SPACE;
		}
	}
	if (!sc->sv.local_len)
		count(TC_C_SYNACK_PLAIN);
	/* In SYN-cookie mode (a SYN flood, likely) keep entries only for
	 * SYN-ACKs that carry ENO: a flood of plain SYNs must not evict the
	 * state of connections B answered with ENO (a lost entry would leave
	 * B plain while A has negotiated). A child without an entry gets
	 * reason PEER_NO_ENO, which is right for plain SYNs. */
	if (sc->sv.local_len || skops->args[0] != BPF_WRITE_HDR_TCP_SYNACK_COOKIE)
		bpf_map_update_elem(&tc_syn, &t, &sc->sv, BPF_ANY);
}

static __always_inline void synack_write(struct bpf_sock_ops *skops)
{
	struct tc_tuple t;
	struct syn_val *sv;

	get_tuple(skops, &t);
	sv = bpf_map_lookup_elem(&tc_syn, &t);
	if (!sv || sv->local_len != 4)
		return;
	if (bpf_store_hdr_opt(skops, sv->local_opt, 4, 0))
		count(TC_C_ERRORS);
	else
		count(TC_C_SYNACK_ENO);
}

/* A: the option for our SYN is the offer, verbatim. */
static __always_inline void syn_len(struct bpf_sock_ops *skops, struct tc_sk *s)
{
	__u32 len = s->offer_len;

	if (!(s->st & ST_SYN_DEC)) {
		s->st |= ST_SYN_DEC;
		if (len < 1 || len > TCPCRYPT_ENO_CONTENT_MAX)
			return;
		if (skops->skb_len) {
			/* TFO data in the SYN: tcpcrypt defines no SYN data
			 * (RFC 8547 4.7), so this connection goes without ENO */
			s->res.reason = TCPCRYPT_ENO_R_SYN_DATA;
			return;
		}
		if (bpf_reserve_hdr_opt(skops, len + 2, 0)) {
			count(TC_C_NO_SPACE);
			s->res.reason = TCPCRYPT_ENO_R_NO_SPACE;
			return;
		}
		s->st |= ST_SYN_ENO;
		s->res.local_opt[0] = TCPCRYPT_ENO_KIND;
		s->res.local_opt[1] = len + 2;
		copy40(s->res.local_opt + 2, s->offer, len);
		s->res.local_len = len + 2;
		return;
	}
	if ((s->st & ST_SYN_ENO) && bpf_reserve_hdr_opt(skops, len + 2, 0))
		count(TC_C_NO_SPACE);  /* retransmit: cannot happen, same space as before */
}

static __always_inline void syn_write(struct bpf_sock_ops *skops, struct tc_sk *s)
{
	__u32 len = s->res.local_len;

	if (!(s->st & ST_SYN_ENO) || len < 3 || len > TCPCRYPT_ENO_OPT_MAX)
		return;
	if (bpf_store_hdr_opt(skops, s->res.local_opt, len, 0))
		count(TC_C_ERRORS);
	else
		count(TC_C_SYN_ENO);
}

/* A: stop sending 45 02 and stop every per-segment callback. */
static __always_inline void a_stop(struct bpf_sock_ops *skops, struct tc_sk *s)
{
	s->st &= ~ST_ACK_ENO;
	cb_set(skops, s, 0);
}

/* A negotiated connection that the shim enrolled in the guard (when
 * loaded): armed, with nothing granted yet (no byte has been written:
 * ok_end is the first one's sequence number). */
static __always_inline void guard_arm(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct tc_guard *g;

	if (!tc_guard_on || !sk)
		return;
	g = bpf_sk_storage_get(&tc_guard, sk, 0, 0);
	if (!g)
		return;
	g->ok_end = skops->snd_nxt;
	g->open = 0;
	g->tainted = 0;
	g->armed = 1;
}

/* Does the segment at hand (B: A's ACK completing the handshake) carry an
 * ENO option, in any form? */
static __always_inline int ack_has_eno(struct bpf_sock_ops *skops)
{
	__u8 buf[4] = {};
	int n;

	/* buf[0]: kind to find; buf[1] = 0: no magic to match */
	buf[0] = TCPCRYPT_ENO_KIND;
	n = bpf_load_hdr_opt(skops, buf, sizeof(buf), 0);
	return n >= 2 || n == -ENOSPC;
}

/* A connection that must never carry a byte (B lost its ENO state while
 * A negotiated): when the shim enrolled it in the guard (loaded), armed and
 * tainted, so that no payload leaves whoever writes it, even if nothing in
 * user space aborts it. */
static __always_inline void guard_freeze(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct tc_guard *g;

	if (!tc_guard_on || !sk)
		return;
	g = bpf_sk_storage_get(&tc_guard, sk, 0, 0);
	if (!g)
		return;
	g->ok_end = skops->snd_nxt;
	g->open = 0;
	g->tainted = 1;
	g->armed = 1;
}

/* Copies the TCP header of the segment at hand into sc->hdr; returns its
 * length (bytes available, up to 60). */
static __always_inline __u32 copy_hdr(struct bpf_sock_ops *skops, struct scratch *sc)
{
	__u8 *d = (__u8 *)(long)skops->skb_data;
	__u8 *e = (__u8 *)(long)skops->skb_data_end;
	__u32 j;

	__builtin_memset(sc->hdr, 0, sizeof(sc->hdr));
	for (j = 0; j < 60; j++) {
		if (d + j + 1 > e)
			break;
		sc->hdr[j] = d[j];
	}
	return j;
}

/* The peer's SYN-form option is in the segment at hand (sc->hdr, hlen
 * bytes): B's SYN-ACK, or in a simultaneous open the peer's SYN-ACK, which
 * carries the same option as its SYN (RFC 8547 4.6). Judges it against
 * our offer into s->res, roles by the b bits; on success arms A's (or in
 * a simultaneous open either end's) ENO in the non-SYN segments that
 * follow, until the peer's first non-SYN segment. active: we completed
 * as an active opener, on a SYN-ACK that acknowledged our SYN. */
static __always_inline void judge_peer_syn(struct bpf_sock_ops *skops, struct scratch *sc,
					   struct tc_sk *s, __u32 hlen, int active)
{
	__u8 reason;
	int r;

	__builtin_memset(&sc->sv, 0, sizeof(sc->sv));
	r = decide_active(sc, hlen, s->offer, s->offer_len, s->offer_flags);
	s->res.peer_len = sc->sv.peer_len <= TCPCRYPT_ENO_OPT_MAX ? sc->sv.peer_len : 0;
	copy40(s->res.peer_opt, sc->sv.peer_opt, s->res.peer_len);
	if (!(s->st & ST_SYN_ENO))
		reason = (s->res.reason == TCPCRYPT_ENO_R_NO_SPACE ||
			  s->res.reason == TCPCRYPT_ENO_R_SYN_DATA) ? s->res.reason
								    : TCPCRYPT_ENO_R_MALFORMED;
	else {
		reason = r;
		s->res.flags |= sc->sv.flags;
	}
	if (reason == TCPCRYPT_ENO_R_OK && active && (s->res.flags & TCPCRYPT_RES_F_ROLE_B)) {
		/* We sent b=1 and got a SYN-ACK with b=0, which no passive
		 * opener sends (RFC 8547 4.2): a simultaneous opener that
		 * got our SYN in SYN-SENT and whose SYN has not reached us.
		 * If it runs these programs it never saw our option (see
		 * simopen_established), so decline: no ENO in our ACK, and
		 * the peer falls back as well. */
		reason = TCPCRYPT_ENO_R_SIMOPEN;
	}
	s->res.reason = reason;
	s->res.flags |= TCPCRYPT_RES_F_DONE;
	if (reason == TCPCRYPT_ENO_R_OK) {
		s->res.flags |= TCPCRYPT_RES_F_ENO_OK;
		s->st |= ST_ACK_ENO;
		s->una0 = skops->snd_una;
		s->rcv0 = skops->rcv_nxt;
		count((s->res.flags & TCPCRYPT_RES_F_ROLE_B) ? TC_C_OK_B : TC_C_OK_A);
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
					  BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
		guard_arm(skops);
	} else {
		s->res.flags &= ~TCPCRYPT_RES_F_ROLE_B;
		count(TC_C_FALLBACK);
		bpf_sock_ops_cb_flags_set(skops, 0);
	}
	session_put(skops, s);
}

/* A, on the SYN-ACK that completes the handshake. */
static __always_inline void active_established(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct scratch *sc = scratch();
	struct tc_sk *s;

	if (!sk || !sc)
		return;
	s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
	if (!s || !(s->st & ST_ACTIVE))
		return;
	judge_peer_syn(skops, sc, s, copy_hdr(skops, sc), 1);
}

/* This end has no record of the peer's option. lost: the peer's ACK
 * shows it negotiated, so this end must never run plain: final without
 * ENO_OK (STATE_LOST: the shim aborts the connection with an RST, and the
 * guard, when the shim enrolled it, lets no byte out). Else plain. */
static __always_inline void judge_lost(struct bpf_sock_ops *skops, struct tc_sk *s, int lost)
{
	if (lost) {
		s->res.reason = TCPCRYPT_ENO_R_STATE_LOST;
		count(TC_C_STATE_LOST);
		guard_freeze(skops);
	} else {
		s->res.reason = TCPCRYPT_ENO_R_PEER_NO_ENO;
		count(TC_C_FALLBACK);
	}
}

/* A connecting socket that got the peer's SYN in SYN-SENT (simultaneous
 * open, RFC 8547 4.7) completes its handshake on the segment at hand.
 * The kernel showed us no callback with that SYN (the parse callback is
 * skipped in SYN-SENT and SYN-RECV, and TCP_BPF_SYN has no saved SYN for
 * a connecting socket), but our SYN-ACK carried our SYN's option, and:
 *  - when the SYNs crossed, this segment is the peer's SYN-ACK, with the
 *    peer's SYN option: judged as A judges B's SYN-ACK, roles by b bits;
 *  - when only our SYN-ACK reached the peer before its SYN reached us
 *    (its SYN lost or late), the peer completed as an active opener on
 *    our SYN-ACK and this is its ACK. We cannot know its option: if the
 *    ACK carries ENO the peer negotiated, and this end must never run
 *    plain (STATE_LOST: the shim resets it, the guard freezes it);
 *    otherwise both ends are plain. A peer of ours negotiates there only
 *    as A (b=0, our b=1): as B it declines (judge_peer_syn). */
static __always_inline void simopen_established(struct bpf_sock_ops *skops, struct tc_sk *s)
{
	struct scratch *sc = scratch();
	__u32 hlen;

	if (!sc)
		return;
	hlen = copy_hdr(skops, sc);
	if (hlen >= 20 && (sc->hdr[13] & TCPHDR_SYN)) {
		judge_peer_syn(skops, sc, s, hlen, 0);
		return;
	}
	s->res.flags |= TCPCRYPT_RES_F_DONE;
	s->res.flags &= ~TCPCRYPT_RES_F_ROLE_B;
	judge_lost(skops, s, (s->st & ST_SYN_ENO) && ack_has_eno(skops));
	bpf_sock_ops_cb_flags_set(skops, 0);
	session_put(skops, s);
}

/* B, on the ACK that completes the handshake (ctx sk = the child). */
static __always_inline void passive_established(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct tc_tuple t;
	struct syn_val *sv;
	struct tc_sk *s;

	if (!sk)
		return;
	/* the child inherits the listener's callback flags: drop them */
	if (skops->bpf_sock_ops_cb_flags)
		bpf_sock_ops_cb_flags_set(skops, 0);
	s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
	if (s && (s->st & ST_ACTIVE)) {
		simopen_established(skops, s);
		return;
	}
	if (!s || !(s->st & ST_LISTENER))
		return;
	/* cloned from the listener: becomes the connection's own state */
	s->st = ST_OPTED;
	__builtin_memset(&s->res, 0, sizeof(s->res));
	s->has_report = 0;
	s->res.version = TCPCRYPT_ENO_ABI_VERSION;
	s->res.flags = TCPCRYPT_RES_F_OPTED_IN | TCPCRYPT_RES_F_ROLE_B | TCPCRYPT_RES_F_DONE;
	get_tuple(skops, &t);
	sv = bpf_map_lookup_elem(&tc_syn, &t);
	if (!sv) {
		/* With ENO on the ACK, A negotiated on our SYN-ACK, whose
		 * record is gone (evicted by a flood of SYNs, or a daemon
		 * restart with fresh maps): B cannot follow, and must not
		 * run plain while A encrypts. */
		judge_lost(skops, s, ack_has_eno(skops));
		session_put(skops, s);
		return;
	}
	s->res.flags |= sv->flags & (TCPCRYPT_RES_F_COOKIE | TCPCRYPT_RES_F_PEER_APP);
	s->res.peer_len = sv->peer_len <= TCPCRYPT_ENO_OPT_MAX ? sv->peer_len : 0;
	copy40(s->res.peer_opt, sv->peer_opt, s->res.peer_len);
	s->res.local_len = sv->local_len <= TCPCRYPT_ENO_OPT_MAX ? sv->local_len : 0;
	copy40(s->res.local_opt, sv->local_opt, s->res.local_len);
	s->res.reason = sv->reason;
	if (sv->local_len) {
		/* A's first ACK must carry ENO (any non-SYN form) */
		if (ack_has_eno(skops)) {
			s->res.flags |= TCPCRYPT_RES_F_ENO_OK;
			s->res.reason = TCPCRYPT_ENO_R_OK;
		} else {
			s->res.reason = TCPCRYPT_ENO_R_ACK_NO_ENO;
		}
	}
	count(s->res.reason == TCPCRYPT_ENO_R_OK ? TC_C_OK_B : TC_C_FALLBACK);
	bpf_map_delete_elem(&tc_syn, &t);
	session_put(skops, s);
	if (s->res.reason == TCPCRYPT_ENO_R_OK)
		guard_arm(skops);
}

SEC("sockops")
int tc_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;
	struct tc_sk *s;
	__u8 fl;

	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		on_connect(skops);
		break;
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		on_listen(skops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		active_established(skops);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		passive_established(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		on_state(skops);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		fl = skops->skb_tcp_flags;
		if ((fl & (TCPHDR_SYN | TCPHDR_ACK)) == (TCPHDR_SYN | TCPHDR_ACK) &&
		    !skops->sk) {
			synack_len(skops);
			break;
		}
		sk = skops->sk;
		if (!sk)
			break;
		s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
		if (!s)
			break;
		if (fl & TCPHDR_SYN) {
			/* our SYN, or in a simultaneous open our SYN-ACK,
			 * which carries the same option (RFC 8547 4.6) */
			if (s->st & ST_ACTIVE)
				syn_len(skops, s);
			break;
		}
		if (!(s->st & ST_ACK_ENO))
			break;
		/* B has acked or sent something: it got a non-SYN segment
		 * from us and answered; we received a non-SYN segment */
		if (skops->snd_una != s->una0 || skops->rcv_nxt != s->rcv0) {
			a_stop(skops, s);
			break;
		}
		if (bpf_reserve_hdr_opt(skops, 2, 0))
			count(TC_C_NO_SPACE);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		fl = skops->skb_tcp_flags;
		if ((fl & (TCPHDR_SYN | TCPHDR_ACK)) == (TCPHDR_SYN | TCPHDR_ACK) &&
		    !skops->sk) {
			synack_write(skops);
			break;
		}
		sk = skops->sk;
		if (!sk)
			break;
		s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
		if (!s)
			break;
		if (fl & TCPHDR_SYN) {
			if (s->st & ST_ACTIVE)
				syn_write(skops, s);
			break;
		}
		if (s->st & ST_ACK_ENO) {
			__u8 o[2] = { TCPCRYPT_ENO_KIND, 2 };

			if (bpf_store_hdr_opt(skops, o, 2, 0) == 0)
				count(TC_C_ACK_ENO);
		}
		break;
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		/* A receives a segment from B after the handshake */
		fl = skops->skb_tcp_flags;
		sk = skops->sk;
		if (!sk || (fl & TCPHDR_SYN))
			break;
		s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
		if (s && (s->st & ST_ACK_ENO))
			a_stop(skops, s);
		else
			bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
						  ~BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
		break;
	}
	return 1;
}

/* --------------------------------------------------------------- sockopts */

static __always_inline void set_caller(struct tc_sk *s)
{
	s->pid = bpf_get_current_pid_tgid() >> 32;
	s->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(s->comm, sizeof(s->comm));
}

/* The tc_listen key of a listening socket, from a sockopt hook. */
static __always_inline void sockopt_listen_key(struct bpf_sockopt *ctx, struct bpf_sock *sk,
					       struct listen_key *k)
{
	__u32 w[4];

	if (sk->family == AF_INET) {
		w[0] = sk->src_ip4;
		w[1] = w[2] = w[3] = 0;
	} else {
		w[0] = *(volatile __u32 *)&sk->src_ip6[0];
		w[1] = *(volatile __u32 *)&sk->src_ip6[1];
		w[2] = *(volatile __u32 *)&sk->src_ip6[2];
		w[3] = *(volatile __u32 *)&sk->src_ip6[3];
	}
	listen_key_set(k, bpf_get_netns_cookie(ctx), sk->family, (const __u8 *)w, sk->src_port);
}

/* A listener opted in after listen() (it started before tcpcryptd, or
 * tcpcryptd was restarted): what on_listen does, from the setsockopt hook.
 * The header-option flag, which the kernel reads on the listener for each
 * SYN-ACK, is set with bpf_setsockopt (TCP_BPF_SOCK_OPS_CB_FLAGS, Linux
 * >= 6.12); a listener that still has it from an earlier daemon needs only
 * the tc_listen entry. -EOPNOTSUPP: the entry is written but this kernel
 * cannot set the flag, so the listener's SYN-ACKs stay plain. */
static __always_inline int renew_listener(struct bpf_sockopt *ctx, struct bpf_sock *sk,
					  struct tc_sk *s)
{
	struct listen_key k;
	struct listen_val v = {};
	int fl = 0, want = BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG | BPF_SOCK_OPS_STATE_CB_FLAG;

	s->st = ST_OPTED | ST_LISTENER;
	s->res.flags = TCPCRYPT_RES_F_OPTED_IN | TCPCRYPT_RES_F_ROLE_B;
	sockopt_listen_key(ctx, sk, &k);
	v.cookie = s->cookie;    /* on_listen's socket cookie, 0 if none */
	v.flags = s->offer_flags;
	v.len = s->offer_len <= TCPCRYPT_ENO_CONTENT_MAX ? s->offer_len : TCPCRYPT_ENO_CONTENT_MAX;
	__builtin_memcpy(v.content, s->offer, TCPCRYPT_ENO_CONTENT_MAX);
	if (listen_put(&k, &v, s)) {
		count(TC_C_ERRORS);
		return -ENOMEM;
	}
	if (!tc_late_listen ||
	    bpf_getsockopt(ctx->sk, SOL_TCP, TC_TCP_BPF_SOCK_OPS_CB_FLAGS, &fl, sizeof(fl)))
		return -EOPNOTSUPP;
	if ((fl & want) == want)
		return 0;
	fl |= want;
	if (bpf_setsockopt(ctx->sk, SOL_TCP, TC_TCP_BPF_SOCK_OPS_CB_FLAGS, &fl, sizeof(fl)))
		return -EOPNOTSUPP;
	return 0;
}

static __always_inline int do_offer(struct bpf_sockopt *ctx, struct bpf_sock *sk)
{
	struct tcpcrypt_eno_offer *o = ctx->optval;
	struct tc_sk *s;
	__u32 len;

	if (ctx->optlen < (int)sizeof(*o) || (void *)(o + 1) > ctx->optval_end)
		return -EINVAL;
	len = o->len;
	if (o->version != TCPCRYPT_ENO_ABI_VERSION || len < 1 || len > TCPCRYPT_ENO_CONTENT_MAX ||
	    (o->flags & ~TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE))
		return -EINVAL;
	if (sk->state != BPF_TCP_CLOSE && sk->state != BPF_TCP_LISTEN)
		return -EISCONN;
	s = bpf_sk_storage_get(&tc_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!s)
		return -ENOMEM;
	s->st = ST_OPTED;
	s->offer_flags = o->flags;
	s->offer_len = len;
	__builtin_memcpy(s->offer, o->content, TCPCRYPT_ENO_CONTENT_MAX);
	__builtin_memset(&s->res, 0, sizeof(s->res));
	s->res.version = TCPCRYPT_ENO_ABI_VERSION;
	s->res.flags = TCPCRYPT_RES_F_OPTED_IN;
	s->res.reason = TCPCRYPT_ENO_R_PENDING;
	set_caller(s);
	count(TC_C_OPT_IN);
	if (sk->state == BPF_TCP_LISTEN)
		return renew_listener(ctx, sk, s);
	return 0;
}

static __always_inline int do_report(struct bpf_sockopt *ctx, struct bpf_sock *sk)
{
	struct tcpcrypt_eno_report *r = ctx->optval;
	struct tc_sk *s;

	if (ctx->optlen < (int)sizeof(*r) || (void *)(r + 1) > ctx->optval_end)
		return -EINVAL;
	if (r->version != TCPCRYPT_ENO_ABI_VERSION || r->sessid_len > sizeof(r->sessid) ||
	    r->role > 1)
		return -EINVAL;
	s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
	if (!s || !(s->st & ST_OPTED))
		return -ENOENT;
	__builtin_memcpy(&s->rep, r, sizeof(s->rep));
	s->has_report = 1;
	set_caller(s);
	count(TC_C_REPORTS);
	if (s->st & ST_TABLE) {
		struct tc_session *t = bpf_map_lookup_elem(&tc_sessions_tab, &s->cookie);

		if (t) {
			__builtin_memcpy(&t->report, &s->rep, sizeof(t->report));
			t->has_report = 1;
			t->pid = s->pid;
			t->uid = s->uid;
			__builtin_memcpy(t->comm, s->comm, TC_COMM_LEN);
		}
	}
	return 0;
}

SEC("cgroup/setsockopt")
int tc_setsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	int err;

	if (ctx->level != SOL_TCP ||
	    (ctx->optname != TCPCRYPT_ENO_SOCKOPT && ctx->optname != TCPCRYPT_ENO_REPORT)) {
		if (ctx->optlen > 4096)
			ctx->optlen = 0;      /* big optval: the kernel uses the original */
		return 1;
	}
	if (!sk || sk->protocol != IPPROTO_TCP) {
		bpf_set_retval(-EINVAL);
		return 0;
	}
	if (ctx->optname == TCPCRYPT_ENO_SOCKOPT)
		err = do_offer(ctx, sk);
	else
		err = do_report(ctx, sk);
	if (err) {
		bpf_set_retval(err);
		return 0;
	}
	ctx->optlen = -1;                     /* handled: the kernel never sees it */
	return 1;
}

SEC("cgroup/getsockopt")
int tc_getsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	__u8 *p = ctx->optval, *end = ctx->optval_end;
	struct tc_sk *s;

	if (ctx->level != SOL_TCP || ctx->optname != TCPCRYPT_ENO_SOCKOPT) {
		if (ctx->optlen > 4096)
			ctx->optlen = 0;
		return 1;
	}
	if (!sk)
		return 1;
	if (p + sizeof(struct tcpcrypt_eno_result) > end) {
		ctx->retval = -EINVAL;
		return 1;
	}
	s = bpf_sk_storage_get(&tc_sk, sk, 0, 0);
	if (!s || !(s->st & ST_OPTED)) {
		ctx->retval = -ENOENT;
		return 1;
	}
	if ((s->st & ST_LISTENER) && sk->state == BPF_TCP_LISTEN) {
		/* a listener whose offer is no longer in tc_listen (a new
		 * daemon started with a fresh map, or the LRU dropped it)
		 * answers as not opted in, so that the shim renews it */
		struct listen_key k;
		struct listen_val *v;

		sockopt_listen_key(ctx, sk, &k);
		v = bpf_map_lookup_elem(&tc_listen, &k);
		if (!v) {
			ctx->retval = -ENOENT;
			return 1;
		}
	}
	__builtin_memcpy(p, &s->res, sizeof(struct tcpcrypt_eno_result));
	ctx->optlen = sizeof(struct tcpcrypt_eno_result);
	/* clang 14 would merge the two adjacent ctx stores into one 8-byte
	 * store, which the verifier rejects */
	asm volatile("" ::: "memory");
	ctx->retval = 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
