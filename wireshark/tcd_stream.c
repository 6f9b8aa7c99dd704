/*
 * tcd_stream.c - see tcd_stream.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcd_stream.h"

/* Grows buf and have to hold at least need bytes (zero-filled). */
static int grow(struct tcd_stream *s, size_t need)
{
	size_t ncap = s->cap ? s->cap : 4096;
	uint8_t *b, *h;

	while (ncap < need)
		ncap *= 2;
	if (ncap > TCD_STREAM_MAX)
		ncap = TCD_STREAM_MAX;
	b = realloc(s->buf, ncap);
	if (b == NULL)
		return -ENOMEM;
	s->buf = b;
	h = realloc(s->have, ncap);
	if (h == NULL)
		return -ENOMEM;
	s->have = h;
	memset(s->buf + s->cap, 0, ncap - s->cap);
	memset(s->have + s->cap, 0, ncap - s->cap);
	s->cap = ncap;
	return 0;
}

int tcd_stream_add(struct tcd_stream *s, uint64_t off, const uint8_t *data, size_t caplen,
                   size_t len)
{
	size_t i;
	int r;

	if (caplen > len)
		caplen = len;
	if (off >= TCD_STREAM_MAX || len > TCD_STREAM_MAX - off) {
		s->truncated = 1;
		if (off >= TCD_STREAM_MAX)
			return 0;
		len = TCD_STREAM_MAX - (size_t)off;
		if (caplen > len)
			caplen = len;
	}
	if (off + len > s->end)
		s->end = (size_t)off + len;
	if (caplen == 0)
		return 0;
	if (off + caplen > s->cap) {
		r = grow(s, (size_t)off + caplen);
		if (r < 0)
			return r;
	}
	for (i = 0; i < caplen; i++) {
		size_t o = (size_t)off + i;

		if (!s->have[o]) {
			s->buf[o] = data[i];
			s->have[o] = 1;
		} else if (s->buf[o] != data[i]) {
			s->conflicts++;
		}
	}
	return 0;
}

int tcd_stream_has(const struct tcd_stream *s, size_t off, size_t len)
{
	size_t i;

	if (off > s->cap || len > s->cap - off)
		return 0;
	for (i = 0; i < len; i++)
		if (!s->have[off + i])
			return 0;
	return 1;
}

void tcd_stream_free(struct tcd_stream *s)
{
	free(s->buf);
	free(s->have);
	memset(s, 0, sizeof *s);
}
