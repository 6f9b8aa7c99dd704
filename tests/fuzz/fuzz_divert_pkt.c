/*
 * fuzz_divert_pkt.c - libFuzzer harness for the divert backend's packet
 * parser and option insertion (tools/tcpcryptd/divert/tcpcryptd_divert_pkt.c): every byte
 * of a queued packet comes from the network.
 *
 * Input: one control byte (bits 0-5: length of the option to insert, 2..40
 * taken from the input's end; bits 6-7: spare room in the buffer, 0..192),
 * then the IP packet. Checks with abort(): a parsed packet's fields lie
 * inside it; after an insertion the packet parses again, carries the
 * option in its options area, its IPv4 header and TCP checksums verify,
 * and its payload is unchanged; a refused insertion changes nothing.
 */
/* fuzz-extra: tools/tcpcryptd/divert/tcpcryptd_divert_pkt.c -Itools/tcpcryptd/divert -Itools/tcpcryptd */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpcryptd_divert_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint32_t sum16(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* 1 if the IPv4 header checksum (when IPv4) and the TCP checksum verify. */
static int checksums_ok(const struct dv_pkt *p)
{
	size_t tlen = p->len - p->l4off;
	uint32_t s;

	if (p->family == AF_INET) {
		if (fold(sum16(p->buf, p->l4off, 0)) != 0xffff)
			return 0;
		s = sum16(p->buf + 12, 8, 0) + 6 + (uint32_t)tlen;
	} else {
		s = sum16(p->buf + 8, 32, 0) + 6 + (uint32_t)tlen;
	}
	return fold(sum16(p->buf + p->l4off, tlen, s)) == 0xffff;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dv_pkt p, q;
	uint8_t *buf, opt[40], *payload;
	size_t olen, room, len, cap, optlen;
	const uint8_t *opts;
	int r;

	if (size < 1)
		return 0;
	olen = 2 + (data[0] & 0x3f) % 39;
	room = (size_t)(data[0] >> 6) * 64;
	data++;
	size--;
	if (size < olen)
		return 0;
	/* the option: kind from its first byte, length byte right */
	memcpy(opt, data + size - olen, olen);
	opt[1] = (uint8_t)olen;
	if (opt[0] <= 1)
		opt[0] = 69;
	len = size - olen;
	cap = len + room;
	buf = malloc(cap ? cap : 1);
	if (!buf)
		abort();
	memcpy(buf, data, len);
	r = dv_pkt_parse(&p, buf, len, cap);
	CHECK(r == 0 || r == -EINVAL);
	if (r < 0)
		goto out;
	CHECK(p.buf == buf && p.len <= len && p.cap == cap);
	CHECK(p.family == AF_INET || p.family == AF_INET6);
	CHECK(p.doff >= 20 && p.doff <= 60 && p.doff % 4 == 0);
	CHECK(p.l4off + p.doff + p.paylen == p.len);
	opts = dv_pkt_opts(&p, &optlen);
	CHECK(optlen == p.doff - 20 && opts == buf + p.l4off + 20);

	payload = malloc(p.paylen ? p.paylen : 1);
	if (!payload)
		abort();
	memcpy(payload, buf + p.l4off + p.doff, p.paylen);
	{
		uint8_t *before = malloc(p.len);
		struct dv_pkt was = p;

		if (!before)
			abort();
		memcpy(before, buf, p.len);
		r = dv_pkt_add_option(&p, opt, olen);
		CHECK(r == 0 || r == -EINVAL || r == -ENOSPC);
		if (r < 0) {
			CHECK(memcmp(before, buf, was.len) == 0);
			CHECK(p.len == was.len && p.doff == was.doff);
		}
		free(before);
	}
	if (r == 0) {
		CHECK(p.len <= cap && p.len <= 65535);
		CHECK(dv_pkt_parse(&q, buf, p.len, cap) == 0);
		CHECK(q.doff == p.doff && q.paylen == p.paylen && q.len == p.len);
		CHECK(memcmp(buf + q.l4off + q.doff, payload, q.paylen) == 0);
		opts = dv_pkt_opts(&q, &optlen);
		CHECK(memmem(opts, optlen, opt, olen) != NULL);
		CHECK(checksums_ok(&q));
	}
	free(payload);
out:
	free(buf);
	return 0;
}
