/* tcpcryptd_divert_pkt.c - parse and mangle TCP segments for the divert
 * backend (see the header). */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "tcpcryptd_divert_pkt.h"

static uint32_t sum16(const uint8_t *b, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

/* Full TCP checksum over the pseudo header and the whole segment. */
static void tcp_checksum(struct dv_pkt *p)
{
	uint8_t *tcp = p->buf + p->l4off, ph[8];
	size_t tlen = p->len - p->l4off;
	uint32_t s;

	tcp[16] = tcp[17] = 0;
	if (p->family == AF_INET6) {
		s = sum16(p->buf + 8, 32, 0);
		ph[0] = 0; ph[1] = 0; ph[2] = tlen >> 8; ph[3] = tlen & 0xff;
		ph[4] = ph[5] = ph[6] = 0; ph[7] = 6;
		s = sum16(ph, 8, s);
	} else {
		s = sum16(p->buf + 12, 8, 0);
		ph[0] = 0; ph[1] = 6; ph[2] = tlen >> 8; ph[3] = tlen & 0xff;
		s = sum16(ph, 4, s);
	}
	put16(tcp + 16, fold(sum16(tcp, tlen, s)));
}

int dv_pkt_parse(struct dv_pkt *p, uint8_t *buf, size_t len, size_t cap)
{
	size_t ihl, tot;
	uint8_t *tcp;

	memset(p, 0, sizeof(*p));
	if (!buf || len < 20 || cap < len)
		return -EINVAL;
	switch (buf[0] >> 4) {
	case 4:
		ihl = (size_t)(buf[0] & 15) * 4;
		tot = (size_t)buf[2] << 8 | buf[3];
		if (ihl < 20 || tot < ihl || tot > len || buf[9] != 6)
			return -EINVAL;
		if ((buf[6] & 0x3f) || buf[7])      /* MF or a fragment offset */
			return -EINVAL;
		p->family = AF_INET;
		memcpy(p->saddr, buf + 12, 4);
		memcpy(p->daddr, buf + 16, 4);
		p->l4off = ihl;
		break;
	case 6:
		if (len < 40 || buf[6] != 6)        /* TCP right after the fixed header */
			return -EINVAL;
		tot = 40 + ((size_t)buf[4] << 8 | buf[5]);
		if (tot > len)
			return -EINVAL;
		p->family = AF_INET6;
		memcpy(p->saddr, buf + 8, 16);
		memcpy(p->daddr, buf + 24, 16);
		p->l4off = 40;
		break;
	default:
		return -EINVAL;
	}
	if (tot < p->l4off + 20)
		return -EINVAL;
	tcp = buf + p->l4off;
	p->doff = (size_t)(tcp[12] >> 4) * 4;
	if (p->doff < 20 || p->l4off + p->doff > tot)
		return -EINVAL;
	p->buf = buf;
	p->len = tot;
	p->cap = cap;
	p->paylen = tot - p->l4off - p->doff;
	p->flags = tcp[13];
	p->sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
	p->dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
	p->seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	p->ack = (uint32_t)tcp[8] << 24 | (uint32_t)tcp[9] << 16 | (uint32_t)tcp[10] << 8 | tcp[11];
	return 0;
}

const uint8_t *dv_pkt_opts(const struct dv_pkt *p, size_t *len)
{
	*len = p->doff - 20;
	return p->buf + p->l4off + 20;
}

/* Where the options really end: the offset of an EOL, or the area's end.
 * -EINVAL if an option runs past the area. */
static int opts_end(const uint8_t *o, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (o[i] == 0)
			return (int)i;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i)
			return -EINVAL;
		i += o[i + 1];
	}
	return (int)n;
}

int dv_pkt_add_option(struct dv_pkt *p, const uint8_t *opt, size_t olen)
{
	uint8_t *tcp = p->buf + p->l4off, *o = tcp + 20;
	size_t nopts, used, ndoff, newlen;
	long delta;
	int end;

	if (olen < 2 || olen > 40)
		return -EINVAL;
	end = opts_end(o, p->doff - 20);
	if (end < 0)
		return end;
	used = (size_t)end + olen;
	nopts = (used + 3) & ~(size_t)3;
	ndoff = 20 + nopts;
	if (ndoff > 60)
		return -ENOSPC;
	delta = (long)ndoff - (long)p->doff;
	newlen = p->len + delta;
	if (newlen > p->cap || newlen > 65535)
		return -ENOSPC;
	/* move the payload, then write our option and the padding */
	memmove(tcp + ndoff, tcp + p->doff, p->paylen);
	memcpy(o + end, opt, olen);
	memset(o + used, 1, nopts - used);
	tcp[12] = (uint8_t)((ndoff / 4) << 4 | (tcp[12] & 0x0f));
	p->doff = ndoff;
	p->len = newlen;
	if (p->family == AF_INET6)
		put16(p->buf + 4, (uint16_t)(newlen - 40));
	else
		put16(p->buf + 2, (uint16_t)newlen);
	dv_pkt_fix_checksums(p);
	return 0;
}

void dv_pkt_fix_checksums(struct dv_pkt *p)
{
	if (p->family == AF_INET) {
		p->buf[10] = p->buf[11] = 0;
		put16(p->buf + 10, fold(sum16(p->buf, p->l4off, 0)));
	}
	tcp_checksum(p);
}
