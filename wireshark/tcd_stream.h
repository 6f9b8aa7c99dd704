/*
 * tcd_stream.h - one direction of a captured TCP connection, reassembled
 * by stream offset (sequence number - ISN - 1): segments may come in any
 * order, retransmitted, overlapping, or cut short by the capture's snap
 * length; each byte remembers whether the capture held it.
 */
#ifndef TCD_STREAM_H
#define TCD_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Streams longer than this are not reassembled past it. */
#define TCD_STREAM_MAX ((size_t)1 << 30)

struct tcd_stream {
	uint8_t *buf;        /* bytes by stream offset */
	uint8_t *have;       /* 1 for each byte the capture held */
	size_t cap;          /* allocated length of buf and have */
	size_t end;          /* end of the furthest segment seen (captured or not) */
	uint64_t conflicts;  /* retransmitted bytes that differed from the first copy */
	int truncated;       /* a segment lay beyond TCD_STREAM_MAX */
};

/* Adds a segment of len bytes (its TCP payload length) at offset off, of
 * which the first caplen (<= len) were captured. The first copy of a byte
 * wins. Returns 0, or -ENOMEM. */
int tcd_stream_add(struct tcd_stream *s, uint64_t off, const uint8_t *data, size_t caplen,
                   size_t len);

/* 1 if every byte of [off, off + len) was captured. */
int tcd_stream_has(const struct tcd_stream *s, size_t off, size_t len);

void tcd_stream_free(struct tcd_stream *s);

#endif /* TCD_STREAM_H */
