/*
 * tcd_pkt.h - a captured packet as tcpcrypt-decrypt sees it: link header,
 * IPv4 or IPv6 header, TCP header and payload; and the same packet rebuilt
 * with other sequence numbers and another payload (lengths and checksums
 * made right).
 */
#ifndef TCD_PKT_H
#define TCD_PKT_H

#include <stddef.h>
#include <stdint.h>

#define TCD_TH_FIN 0x01
#define TCD_TH_SYN 0x02
#define TCD_TH_RST 0x04
#define TCD_TH_PSH 0x08
#define TCD_TH_ACK 0x10

struct tcd_pkt {
	int af;                /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	size_t ip_off;         /* offset of the IP header in the packet */
	size_t tcp_off;        /* offset of the TCP header */
	size_t pay_off;        /* offset of the payload */
	size_t pay_len;        /* TCP payload length (from the IP header) */
	size_t pay_caplen;     /* how much of it the capture holds */
};

/* Parses a packet of the link type (DLT_*) of caplen captured bytes.
 * 0, or -ENOENT for anything that is not a TCP segment with whole headers. */
int tcd_pkt_parse(int dlt, const uint8_t *p, size_t caplen, struct tcd_pkt *out);

/* 1 if the link type is one tcd_pkt_parse knows. */
int tcd_pkt_dlt_ok(int dlt);

/* Writes into out (cap bytes) the packet p (parsed as pk) with seq, ack,
 * flags and the payload replaced; returns its length or -ENOSPC. */
long tcd_pkt_rebuild(const uint8_t *p, const struct tcd_pkt *pk, uint32_t seq, uint32_t ack,
                     uint8_t flags, const uint8_t *pay, size_t paylen, uint8_t *out, size_t cap);

#endif /* TCD_PKT_H */
