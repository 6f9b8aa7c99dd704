/*
 * tcd_pkt.c - see tcd_pkt.h. Link types: Ethernet (with 802.1Q tags),
 * Linux cooked v1 and v2, raw IP, BSD loopback.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <pcap/dlt.h>

#include "tcd_pkt.h"
#include "util.h"

int tcd_pkt_dlt_ok(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
	       dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6 || dlt == DLT_NULL ||
	       dlt == DLT_LOOP;
}

/* The offset of the IP header, or -1. */
static long link_len(int dlt, const uint8_t *p, size_t caplen)
{
	size_t off;
	uint16_t et;

	switch (dlt) {
	case DLT_EN10MB:
		off = 12;
		for (;;) {
			if (caplen < off + 2)
				return -1;
			et = tc_get_be16(p + off);
			if (et != 0x8100 && et != 0x88a8)
				break;
			off += 4;
		}
		return et == 0x0800 || et == 0x86dd ? (long)off + 2 : -1;
	case DLT_LINUX_SLL:
		return 16;
	case DLT_LINUX_SLL2:
		return 20;
	case DLT_NULL:
	case DLT_LOOP:
		return 4;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 0;
	default:
		return -1;
	}
}

int tcd_pkt_parse(int dlt, const uint8_t *p, size_t caplen, struct tcd_pkt *o)
{
	long l = link_len(dlt, p, caplen);
	size_t ip, ihl, tcp, thl, iplen;

	memset(o, 0, sizeof *o);
	if (l < 0 || caplen < (size_t)l + 20)
		return -ENOENT;
	ip = (size_t)l;
	if ((p[ip] >> 4) == 4) {
		ihl = (size_t)(p[ip] & 15) * 4;
		iplen = tc_get_be16(p + ip + 2);
		/* TCP, not a later fragment */
		if (ihl < 20 || p[ip + 9] != 6 || (tc_get_be16(p + ip + 6) & 0x1fff) != 0 ||
		    iplen < ihl)
			return -ENOENT;
		o->af = 4;
		memcpy(o->src, p + ip + 12, 4);
		memcpy(o->dst, p + ip + 16, 4);
	} else if ((p[ip] >> 4) == 6) {
		ihl = 40;
		if (caplen < ip + 40 || p[ip + 6] != 6)
			return -ENOENT;   /* extension headers are not followed */
		iplen = 40 + (size_t)tc_get_be16(p + ip + 4);
		o->af = 6;
		memcpy(o->src, p + ip + 8, 16);
		memcpy(o->dst, p + ip + 24, 16);
	} else {
		return -ENOENT;
	}
	tcp = ip + ihl;
	if (caplen < tcp + 20)
		return -ENOENT;
	thl = (size_t)(p[tcp + 12] >> 4) * 4;
	if (thl < 20 || caplen < tcp + thl || iplen < ihl + thl)
		return -ENOENT;
	o->ip_off = ip;
	o->tcp_off = tcp;
	o->pay_off = tcp + thl;
	o->pay_len = iplen - ihl - thl;
	o->pay_caplen = caplen - o->pay_off;
	if (o->pay_caplen > o->pay_len)
		o->pay_caplen = o->pay_len;   /* link-layer padding */
	o->sport = tc_get_be16(p + tcp);
	o->dport = tc_get_be16(p + tcp + 2);
	o->seq = tc_get_be32(p + tcp + 4);
	o->ack = tc_get_be32(p + tcp + 8);
	o->flags = p[tcp + 13];
	return 0;
}

/* Internet checksum of the buffer, added to sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += tc_get_be16(b + i);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

long tcd_pkt_rebuild(const uint8_t *p, const struct tcd_pkt *pk, uint32_t seq, uint32_t ack,
                     uint8_t flags, const uint8_t *pay, size_t paylen, uint8_t *out, size_t cap)
{
	size_t thl = pk->pay_off - pk->tcp_off, iphl = pk->tcp_off - pk->ip_off;
	size_t tcplen = thl + paylen, total = pk->pay_off + paylen;
	uint8_t *ip = out + pk->ip_off, *tcp = out + pk->tcp_off;
	uint8_t pseudo[40];
	uint32_t sum;

	if (total > cap || iphl + tcplen > 65535)
		return -ENOSPC;
	memcpy(out, p, pk->pay_off);
	memcpy(out + pk->pay_off, pay, paylen);
	tc_put_be32(tcp + 4, seq);
	tc_put_be32(tcp + 8, ack);
	tcp[13] = flags;
	tcp[16] = tcp[17] = 0;
	if (pk->af == 4) {
		tc_put_be16(ip + 2, (uint16_t)(iphl + tcplen));
		ip[10] = ip[11] = 0;
		tc_put_be16(ip + 10, csum_fold(csum_add(0, ip, iphl)));
		memcpy(pseudo, ip + 12, 8);
		sum = csum_add(0, pseudo, 8) + 6 + (uint32_t)tcplen;
	} else {
		tc_put_be16(ip + 4, (uint16_t)tcplen);
		memcpy(pseudo, ip + 8, 32);
		sum = csum_add(0, pseudo, 32) + 6 + (uint32_t)tcplen;
	}
	sum = csum_add(sum, tcp, tcplen);
	tc_put_be16(tcp + 16, csum_fold(sum));
	return (long)total;
}
