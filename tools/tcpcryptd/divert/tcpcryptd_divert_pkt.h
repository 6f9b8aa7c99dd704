/* tcpcryptd_divert_pkt.h - the divert backend's packet surgery: parses an
 * IPv4/IPv6 TCP segment as handed over by NFQUEUE and inserts a TCP option,
 * fixing doff, the IP lengths and every checksum. Sans I/O. Every byte is
 * attacker-controlled: all accesses are bounds-checked. */
#ifndef TCPCRYPTD_DIVERT_PKT_H
#define TCPCRYPTD_DIVERT_PKT_H

#include <stddef.h>
#include <stdint.h>

#define DV_TH_FIN 0x01
#define DV_TH_SYN 0x02
#define DV_TH_RST 0x04
#define DV_TH_ACK 0x10

struct dv_pkt {
	uint8_t *buf;        /* the whole IP packet */
	size_t len;          /* its length (the IP header's, <= what we got) */
	size_t cap;          /* room in buf */
	int family;          /* AF_INET or AF_INET6 */
	size_t l4off;        /* offset of the TCP header */
	size_t doff;         /* TCP header length in bytes (20..60) */
	size_t paylen;       /* TCP payload length */
	uint8_t flags;       /* TCP flags byte */
	uint8_t saddr[16], daddr[16]; /* IPv4 addresses in the first 4 bytes, rest 0 */
	uint16_t sport, dport;        /* host order */
	uint32_t seq;                 /* sequence number, host order */
	uint32_t ack;                 /* acknowledgment number, host order */
};

/* Parses buf as an IP packet carrying a whole TCP segment (no fragments,
 * IPv6 without extension headers). Returns 0 or -EINVAL. */
int dv_pkt_parse(struct dv_pkt *p, uint8_t *buf, size_t len, size_t cap);

/* The TCP options area of a parsed packet. */
const uint8_t *dv_pkt_opts(const struct dv_pkt *p, size_t *len);

/* Appends the whole option opt[0..olen) to the options (before an EOL, if
 * any), pads with NOPs to a multiple of 4, moves the payload, fixes doff,
 * the IPv4 total length and header checksum or the IPv6 payload length,
 * and recomputes the full TCP checksum. Returns 0, -ENOSPC when the option
 * does not fit in TCP's 40 bytes (or in buf), -EINVAL when the existing
 * options are ill-formed (then nothing is changed). */
int dv_pkt_add_option(struct dv_pkt *p, const uint8_t *opt, size_t olen);

/* Recomputes the IPv4 header checksum (IPv4) and the full TCP checksum of
 * a parsed packet whose bytes were changed in place (the test middlebox,
 * tests/integration/nfq_mangle.c, uses it too). */
void dv_pkt_fix_checksums(struct dv_pkt *p);

#endif
