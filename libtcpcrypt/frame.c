/* frame.c - seal and open one tcpcrypt frame (RFC 8548 3.6, 4.2). */
#include "config.h"

#include <errno.h>
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

long tc_frame_seal(const tc_aead_key *k, uint64_t offset, int rekey, uint8_t pflags,
                   const uint8_t *data, size_t len, uint8_t *out, size_t outcap)
{
	uint8_t nonce[TC_AEAD_NONCELEN];
	size_t clen = 1 + len + TC_TAG_LEN;

	if (len > TC_FRAME_MAX_DATA)
		return -EMSGSIZE;
	if (outcap < TC_FRAME_HDR + clen)
		return -ENOSPC;
	out[0] = rekey ? TC_FRAME_CTL_REKEY : 0;
	tc_put_be16(out + 1, (uint16_t)clen);
	tc_frame_nonce(nonce, k->nr, offset);
	/* P = flags | data must be contiguous for the one-shot AEAD: build it
	 * in the frame itself and encrypt in place. (No per-thread staging
	 * buffer: 64 KiB of static TLS in a preloaded library overflows the
	 * small thread stacks of programs such as Firefox.) Callers that put
	 * the data at out + 4 themselves avoid the copy. */
	if (len > 0 && data != out + 4)
		memmove(out + 4, data, len);
	out[3] = pflags;
	tc_aead_seal(k, nonce, out + 3, out + 4 + len, out + 3, 1 + len, out, TC_FRAME_HDR);
	return (long)(TC_FRAME_HDR + clen);
}

int tc_frame_open(const tc_aead_key *k, uint64_t offset, uint8_t *frame, size_t framelen,
                  struct tc_frame_plain *out)
{
	uint8_t nonce[TC_AEAD_NONCELEN];
	size_t clen, plen;

	if (framelen < TC_FRAME_HDR)
		return -EMSGSIZE;
	clen = tc_get_be16(frame + 1);
	if (clen < 1 + TC_TAG_LEN)
		return -EMSGSIZE;
	if (framelen != TC_FRAME_HDR + clen)
		return -EINVAL;
	plen = clen - TC_TAG_LEN;
	tc_frame_nonce(nonce, k->nr, offset);
	if (tc_aead_open(k, nonce, frame + 3, frame + 3, plen, frame + 3 + plen,
	                 frame, TC_FRAME_HDR) < 0)
		return -EBADMSG;
	out->flags = frame[3];
	out->urgent = 0;
	out->data = frame + 4;
	out->datalen = plen - 1;
	if (out->flags & TC_FRAME_FL_URG) {
		if (out->datalen < 2)
			return -EPROTO;
		out->urgent = tc_get_be16(frame + 4);
		out->data += 2;
		out->datalen -= 2;
	}
	return 0;
}
