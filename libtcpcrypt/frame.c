/* frame.c - seal and open one tcpcrypt frame (RFC 8548 3.6, 4.2). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sodium.h>

#include "frame.h"
#include "session.h"
#include "util.h"

void tc_frame_nonce(uint8_t nonce[TC_AEAD_NONCELEN], const uint8_t nr[TC_AEAD_NONCELEN],
                    uint64_t offset)
{
	uint8_t id[TC_AEAD_NONCELEN] = { 0 };
	size_t i;

	tc_put_be64(id + 4, offset);
	for (i = 0; i < TC_AEAD_NONCELEN; i++)
		nonce[i] = id[i] ^ nr[i];
}

/* Position (piece, offset in it) of byte skip of an iovec array. */
static int iov_seek(const struct iovec *iov, int n, size_t *skip)
{
	int i = 0;

	while (i < n && *skip >= iov[i].iov_len) {
		*skip -= iov[i].iov_len;
		i++;
	}
	return i;
}

/* Feeds len bytes at offset skip of iov through the AEAD: from the pieces
 * into out (seal), or from in into the pieces (open: out == NULL). */
static int iov_feed(tc_aead_ctx *x, const struct iovec *iov, int n, size_t skip, size_t len,
                    uint8_t *out, const uint8_t *in)
{
	int i = iov_seek(iov, n, &skip), r;

	while (len > 0) {
		size_t take;
		uint8_t *base;

		if (i >= n)
			return -EINVAL;
		base = (uint8_t *)iov[i].iov_base + skip;
		take = iov[i].iov_len - skip;
		if (take > len)
			take = len;
		if (out != NULL) {
			r = tc_aead_update(x, out, base, take);
			out += take;
		} else {
			r = tc_aead_update(x, base, in, take);
			in += take;
		}
		if (r < 0)
			return r;
		len -= take;
		skip = 0;
		i++;
	}
	return 0;
}

/* Zeroes len bytes at offset skip of iov. */
static void iov_wipe(const struct iovec *iov, int n, size_t skip, size_t len)
{
	int i = iov_seek(iov, n, &skip);

	for (; len > 0 && i < n; i++, skip = 0) {
		size_t take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;

		sodium_memzero((uint8_t *)iov[i].iov_base + skip, take);
		len -= take;
	}
}

/* Seals the frame whose plaintext is head (the flags byte, and the urgent
 * field with URGp: hlen 1 or 3) followed by the len bytes at offset skip
 * of iov, encrypted straight into the frame. */
static long sealv_head(tc_aead_ctx *x, const tc_aead_key *k, uint64_t offset, int rekey,
                       const uint8_t *head, size_t hlen, const struct iovec *iov, int iovcnt,
                       size_t skip, size_t len, uint8_t *out, size_t outcap)
{
	tc_aead_ctx tmp = { 0 };
	uint8_t nonce[TC_AEAD_NONCELEN];
	size_t clen = hlen + len + TC_TAG_LEN;
	int r;

	if (len > TC_FRAME_MAX_DATA + 1 - hlen)
		return -EMSGSIZE;
	if (outcap < TC_FRAME_HDR + clen)
		return -ENOSPC;
	if (x == NULL)
		x = &tmp;
	out[0] = rekey ? TC_FRAME_CTL_REKEY : 0;
	tc_put_be16(out + 1, (uint16_t)clen);
	tc_frame_nonce(nonce, k->nr, offset);
	/* AD = the header; P = head | data, gathered from the caller's
	 * pieces and encrypted straight into the frame: no staging copy */
	memcpy(out + 3, head, hlen);
	r = tc_aead_begin(x, k, nonce, 1, out, TC_FRAME_HDR);
	if (r == 0)
		r = tc_aead_update(x, out + 3, out + 3, hlen);
	if (r == 0)
		r = iov_feed(x, iov, iovcnt, skip, len, out + 3 + hlen, NULL);
	if (r == 0)
		r = tc_aead_seal_end(x, out + 3 + hlen + len);
	if (x == &tmp)
		tc_aead_ctx_free(&tmp);
	if (r < 0) {
		sodium_memzero(out, TC_FRAME_HDR + clen);
		return r;
	}
	return (long)(TC_FRAME_HDR + clen);
}

long tc_frame_sealv(tc_aead_ctx *x, const tc_aead_key *k, uint64_t offset, int rekey,
                    uint8_t pflags, const struct iovec *iov, int iovcnt, size_t skip, size_t len,
                    uint8_t *out, size_t outcap)
{
	return sealv_head(x, k, offset, rekey, &pflags, 1, iov, iovcnt, skip, len, out, outcap);
}

long tc_frame_sealv_urgent(tc_aead_ctx *x, const tc_aead_key *k, uint64_t offset, int rekey,
                           uint8_t pflags, uint16_t urgent, const struct iovec *iov, int iovcnt,
                           size_t skip, size_t len, uint8_t *out, size_t outcap)
{
	uint8_t head[3] = { (uint8_t)(pflags | TC_FRAME_FL_URG) };

	if (urgent >= len)
		return -EINVAL;       /* the urgent byte lies in this frame's data */
	tc_put_be16(head + 1, urgent);
	return sealv_head(x, k, offset, rekey, head, 3, iov, iovcnt, skip, len, out, outcap);
}

long tc_frame_seal(const tc_aead_key *k, uint64_t offset, int rekey, uint8_t pflags,
                   const uint8_t *data, size_t len, uint8_t *out, size_t outcap)
{
	struct iovec v = { (void *)(uintptr_t)data, len };

	/* data overlapping the frame other than exactly at out + 4 is moved
	 * there first (the AEAD works in place, not on overlapping buffers) */
	if (len > 0 && len <= TC_FRAME_MAX_DATA && outcap >= len + TC_FRAME_OVERHEAD &&
	    data != out + 4 && data < out + outcap && data + len > out) {
		memmove(out + 4, data, len);
		v.iov_base = out + 4;
	}
	return tc_frame_sealv(NULL, k, offset, rekey, pflags, &v, 1, 0, len, out, outcap);
}

int tc_frame_open_to(tc_aead_ctx *x, const tc_aead_key *k, uint64_t offset, uint8_t *frame,
                     size_t framelen, const struct iovec *dst, int ndst, size_t skip,
                     struct tc_frame_plain *out)
{
	tc_aead_ctx tmp = { 0 };
	uint8_t nonce[TC_AEAD_NONCELEN], head[3];
	size_t clen, plen, dlen, hlen = 1;
	int r, proto = 0;

	if (framelen < TC_FRAME_HDR)
		return -EMSGSIZE;
	clen = tc_get_be16(frame + 1);
	if (clen < 1 + TC_TAG_LEN)
		return -EMSGSIZE;
	if (framelen != TC_FRAME_HDR + clen)
		return -EINVAL;
	plen = clen - TC_TAG_LEN;
	if (x == NULL)
		x = &tmp;
	tc_frame_nonce(nonce, k->nr, offset);
	/* the flags byte (and the urgent field) to a local buffer, the data
	 * straight to dst or in place */
	r = tc_aead_begin(x, k, nonce, 0, frame, TC_FRAME_HDR);
	if (r == 0)
		r = tc_aead_update(x, head, frame + 3, 1);
	if (r == 0 && (head[0] & TC_FRAME_FL_URG)) {
		hlen = plen >= 3 ? 3 : plen;   /* shorter: -EPROTO once authenticated */
		proto = plen < 3;
		r = tc_aead_update(x, head + 1, frame + 4, hlen - 1);
	}
	dlen = plen - hlen;
	if (r == 0) {
		if (dst != NULL)
			r = iov_feed(x, dst, ndst, skip, dlen, NULL, frame + 3 + hlen);
		else
			r = tc_aead_update(x, frame + 3 + hlen, frame + 3 + hlen, dlen);
	}
	if (r == 0)
		r = tc_aead_open_end(x, frame + 3 + plen);
	if (x == &tmp)
		tc_aead_ctx_free(&tmp);
	/* the urgent field names a byte of this frame's data (0: its first) */
	if (r == 0 && !proto && hlen == 3 && tc_get_be16(head + 1) >= dlen)
		proto = 1;
	if (r == 0 && proto)
		r = -EPROTO;
	if (r < 0) {
		/* never leave unauthenticated bytes behind */
		if (dst != NULL)
			iov_wipe(dst, ndst, skip, dlen);
		else
			sodium_memzero(frame + 3 + hlen, dlen);
		sodium_memzero(head, sizeof head);
		return r;
	}
	frame[3] = head[0];
	out->flags = head[0];
	out->urgent = hlen == 3 ? tc_get_be16(head + 1) : 0;
	out->data = dst != NULL ? NULL : frame + 3 + hlen;
	out->datalen = dlen;
	return 0;
}

int tc_frame_open(const tc_aead_key *k, uint64_t offset, uint8_t *frame, size_t framelen,
                  struct tc_frame_plain *out)
{
	return tc_frame_open_to(NULL, k, offset, frame, framelen, NULL, 0, 0, out);
}
