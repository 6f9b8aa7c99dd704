/*
 * tcd_write.c - see tcd_write.h.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include "tcd_write.h"

/* Room for one rebuilt packet: headers and up to 64 KiB of payload. */
static uint8_t out[65536 + 256];

/* Largest payload in one rebuilt packet (IP lengths are 16 bits). */
#define CHUNK 32768

/* The sequence number of stream offset off in the plaintext numbering. */
static uint32_t map_seq(const struct tcd_conn *c, int dir, uint32_t seq)
{
	int64_t off = tcd_conn_off(c, dir, seq);

	if (off < 0)
		return seq;
	return c->isn[dir] + 1 + (uint32_t)tcd_frames_map(&c->dir[dir], (uint64_t)off);
}

static int emit_one(const uint8_t *p, const struct tcd_pkt *pk, uint32_t seq, uint32_t ack,
                    uint8_t flags, const uint8_t *pay, size_t len, tcd_emit_fn emit, void *arg)
{
	long n = tcd_pkt_rebuild(p, pk, seq, ack, flags, pay, len, out, sizeof out);

	return n < 0 ? (int)n : emit(arg, out, (size_t)n);
}

int tcd_write_segment(const struct tcd_conn *c, int dir, const uint8_t *p,
                      const struct tcd_pkt *pk, tcd_emit_fn emit, void *arg)
{
	const struct tcd_dir *d = &c->dir[dir];
	uint32_t ack = pk->ack, base = c->isn[dir] + 1;
	uint64_t p0, p1, s, n, k;
	int64_t off;
	int r, runs = 0;

	if (pk->flags & TCD_TH_ACK)
		ack = map_seq(c, !dir, pk->ack);
	if (pk->flags & TCD_TH_SYN)
		return emit_one(p, pk, pk->seq, ack, pk->flags, NULL, 0, emit, arg);
	off = tcd_conn_off(c, dir, pk->seq);
	if (off < 0)   /* before the stream (keep-alive): no payload */
		return emit_one(p, pk, pk->seq, ack, pk->flags, NULL, 0, emit, arg);
	p0 = tcd_frames_map(d, (uint64_t)off);
	p1 = tcd_frames_map(d, (uint64_t)off + pk->pay_len);
	/* the opened plaintext of these stream bytes, in runs and chunks */
	while (p0 < p1 && (n = tcd_frames_run(d, p0, p1, &s)) > 0) {
		for (k = 0; k < n; k += CHUNK) {
			size_t len = n - k < CHUNK ? (size_t)(n - k) : CHUNK;

			r = emit_one(p, pk, base + (uint32_t)(s + k), ack,
			             (uint8_t)(pk->flags & ~TCD_TH_FIN), d->plain + s + k, len, emit, arg);
			if (r < 0)
				return r;
			runs++;
		}
		p0 = s + n;
	}
	/* a pure ACK, or the FIN or RST: an empty segment at the end of these
	 * stream bytes; a segment of Init, frame overhead or lost bytes only
	 * goes away (Wireshark would call it a duplicate ACK) */
	if ((runs == 0 && pk->pay_len == 0) || (pk->flags & (TCD_TH_FIN | TCD_TH_RST)))
		return emit_one(p, pk, base + (uint32_t)p1, ack, pk->flags, NULL, 0, emit, arg);
	return 0;
}
