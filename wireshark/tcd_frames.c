/*
 * tcd_frames.c - see tcd_frames.h. The frame layout, nonce and rekey rule
 * are libtcpcrypt's (frame.h, keysched.h, traffic_key.h); this file only
 * walks the frame headers and keeps the results.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "frame.h"
#include "keysched.h"
#include "session.h"
#include "tcd_frames.h"
#include "traffic_key.h"
#include "util.h"

#define MIN_CLEN (1 + TC_TAG_LEN)   /* flags byte and tag */

static int add_frame(struct tcd_dir *d, const struct tcd_frame *f, const uint8_t *data)
{
	struct tcd_frame *nf;
	uint8_t *np;

	if ((d->nfr & (d->nfr - 1)) == 0) {   /* 0, 1, 2, 4...: double */
		nf = realloc(d->fr, (d->nfr ? 2 * d->nfr : 1) * sizeof *nf);
		if (nf == NULL)
			return -ENOMEM;
		d->fr = nf;
	}
	if (f->dlen > 0) {
		np = realloc(d->plain, d->plen + f->dlen);
		if (np == NULL)
			return -ENOMEM;
		d->plain = np;
		if (data != NULL)
			memcpy(d->plain + d->plen, data, f->dlen);
		else
			memset(d->plain + d->plen, 0, f->dlen);
	}
	d->fr[d->nfr++] = *f;
	d->plen += f->dlen;
	return 0;
}

int tcd_frames_read(struct tcd_dir *d, const struct tcd_stream *s, uint64_t init_len,
                    uint16_t aead, const uint8_t mk0[32], int a_to_b, int trial)
{
	static uint8_t scratch[TC_FRAME_MAX];
	struct tc_frame_plain pl;
	struct tcd_frame f;
	tc_aead_key key;
	uint8_t mk[32];
	uint64_t off = init_len;
	int r, ret = 0;

	memcpy(mk, mk0, sizeof mk);
	r = tc_traffic_key(&key, aead, mk, a_to_b);
	if (r < 0)
		goto out_r;
	if (!trial) {
		d->init_len = d->framed_end = init_len;
	}
	while (off < s->end) {
		if (off + TC_FRAME_HDR > s->end || !tcd_stream_has(s, off, TC_FRAME_HDR) ||
		    tc_get_be16(s->buf + off + 1) < MIN_CLEN) {
			if (!trial)
				d->lost = 1;
			break;
		}
		memset(&f, 0, sizeof f);
		f.coff = off;
		f.ctl = s->buf[off];
		f.flen = (uint32_t)tc_frame_len(s->buf + off);
		f.dstart = TC_FRAME_HDR + 1;
		f.dlen = f.flen - TC_FRAME_HDR - MIN_CLEN;
		f.poff = trial ? 0 : d->plen;
		f.status = TCD_F_PARTIAL;
		if (f.ctl & TC_FRAME_CTL_REKEY) {
			/* the sender's next generation (RFC 8548 3.8) */
			tc_ks_next_mk(mk);
			tc_aead_key_wipe(&key);
			r = tc_traffic_key(&key, aead, mk, a_to_b);
			if (r < 0)
				goto out_r;
			if (!trial)
				d->nrekey++;
		}
		pl.data = NULL;
		if (off + f.flen <= s->end && tcd_stream_has(s, off, f.flen)) {
			memcpy(scratch, s->buf + off, f.flen);
			r = tc_frame_open(&key, off, scratch, f.flen, &pl);
			if (trial) {
				ret = r == 0;
				goto out;
			}
			if (r == 0) {
				f.status = TCD_F_OK;
				f.dstart = (uint32_t)(pl.data - scratch);
				f.dlen = (uint32_t)pl.datalen;
				f.pflags = pl.flags;
			} else {
				f.status = TCD_F_BAD;
				pl.data = NULL;
			}
		}
		off += f.flen;
		if (trial)
			continue;
		r = add_frame(d, &f, f.status == TCD_F_OK ? pl.data : NULL);
		if (r < 0)
			goto out_r;
		d->framed_end = off;
		if (f.status == TCD_F_OK)
			d->nok++;
		else if (f.status == TCD_F_BAD)
			d->nbad++;
		else
			d->npartial++;
	}
	goto out;
out_r:
	ret = r;
out:
	sodium_memzero(scratch, sizeof scratch);
	sodium_memzero(mk, sizeof mk);
	tc_aead_key_wipe(&key);
	return ret;
}

/* The last frame with coff <= c, or NULL. */
static const struct tcd_frame *frame_at(const struct tcd_dir *d, uint64_t c)
{
	size_t lo = 0, hi = d->nfr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->fr[mid].coff <= c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 ? &d->fr[lo - 1] : NULL;
}

uint64_t tcd_frames_map(const struct tcd_dir *d, uint64_t c)
{
	const struct tcd_frame *f;
	uint64_t in;

	if (c >= d->framed_end)   /* past the frames: opaque bytes, and FIN */
		return d->plen + (c - d->framed_end);
	f = frame_at(d, c);
	if (f == NULL)            /* the Init message */
		return 0;
	in = c - f->coff;
	if (in <= f->dstart)
		return f->poff;
	in -= f->dstart;
	return f->poff + (in < f->dlen ? in : f->dlen);
}

uint64_t tcd_frames_run(const struct tcd_dir *d, uint64_t p0, uint64_t p1, uint64_t *start)
{
	size_t lo = 0, hi = d->nfr, i;
	uint64_t s = 0, e = 0;
	int in = 0;

	if (p1 > d->plen)
		p1 = d->plen;
	/* first frame whose data ends after p0 */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->fr[mid].poff + d->fr[mid].dlen <= p0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < d->nfr && d->fr[i].poff < p1; i++) {
		const struct tcd_frame *f = &d->fr[i];

		if (f->dlen == 0)
			continue;
		if (f->status != TCD_F_OK) {
			if (in)
				break;
			continue;
		}
		if (!in) {
			s = f->poff > p0 ? f->poff : p0;
			in = 1;
		}
		e = f->poff + f->dlen < p1 ? f->poff + f->dlen : p1;
	}
	*start = s;
	return in ? e - s : 0;
}

void tcd_frames_free(struct tcd_dir *d)
{
	if (d->plain != NULL)
		sodium_memzero(d->plain, d->plen);
	free(d->plain);
	free(d->fr);
	memset(d, 0, sizeof *d);
}
