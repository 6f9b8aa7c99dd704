/*
 * frame.h - tcpcrypt encryption frames (RFC 8548 3.6, 4.2):
 *   control(1: bit0 rekey) | clen(u16 BE) | AEAD(flags(1) | [urgent u16] | data) | tag(16)
 *   AD = the 3 header bytes; nonce = (4 zero bytes | u64 BE offset) XOR NR.
 */
#ifndef TC_FRAME_H
#define TC_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "aead.h"

#define TC_FRAME_CTL_REKEY  0x01
#define TC_FRAME_FL_FIN     0x01
#define TC_FRAME_FL_URG     0x02

/* nonce = (0^4 | be64(offset)) XOR nr. */
void tc_frame_nonce(uint8_t nonce[TC_AEAD_NONCELEN], const uint8_t nr[TC_AEAD_NONCELEN],
                    uint64_t offset);

/* Seals data (len <= TC_FRAME_MAX_DATA) as the frame starting at stream
 * offset into out (outcap >= len + TC_FRAME_OVERHEAD). data may sit at
 * out + 4 (sealed in place) or anywhere else (in the frame's room too). Returns the frame length, or
 * -EMSGSIZE / -ENOSPC. */
long tc_frame_seal(const tc_aead_key *k, uint64_t offset, int rekey, uint8_t pflags,
                   const uint8_t *data, size_t len, uint8_t *out, size_t outcap);

/* The same from the len bytes at offset skip of the pieces iov[],
 * encrypted straight into the frame (no copy), with the caller's context
 * x (NULL: a temporary one). Returns the frame length, -EMSGSIZE,
 * -ENOSPC, -EINVAL (iov too short), -ENOMEM or -EIO (libcrypto). */
long tc_frame_sealv(tc_aead_ctx *x, const tc_aead_key *k, uint64_t offset, int rekey,
                    uint8_t pflags, const struct iovec *iov, int iovcnt, size_t skip, size_t len,
                    uint8_t *out, size_t outcap);

/* The same with URGp: the urgent field says that data byte number urgent
 * (0: the first of this frame; urgent < len) is the last urgent byte of
 * the application's stream (RFC 8548 3.7, read as an offset into this
 * frame's data). len <= TC_FRAME_MAX_DATA - 2. Returns as tc_frame_sealv,
 * or -EINVAL when urgent >= len. */
long tc_frame_sealv_urgent(tc_aead_ctx *x, const tc_aead_key *k, uint64_t offset, int rekey,
                           uint8_t pflags, uint16_t urgent, const struct iovec *iov, int iovcnt,
                           size_t skip, size_t len, uint8_t *out, size_t outcap);

/* The parsed plaintext of an opened frame. */
struct tc_frame_plain {
	uint8_t flags;         /* FINp, URGp, and the ignored fres bits */
	uint16_t urgent;       /* valid with URGp */
	uint8_t *data;
	size_t datalen;
};

/* Opens the whole frame (framelen == 3 + clen) in place. Returns 0,
 * -EMSGSIZE (clen < 17), -EBADMSG (authentication), -EPROTO (URGp
 * without room for the urgent field, or an urgent field that names no
 * byte of the frame's data). */
int tc_frame_open(const tc_aead_key *k, uint64_t offset, uint8_t *frame, size_t framelen,
                  struct tc_frame_plain *out);

/* The same with the caller's context x (NULL: a temporary one); with dst
 * (ndst pieces, from offset skip, room for framelen - TC_FRAME_OVERHEAD
 * bytes) the data go straight there and out->data is NULL. On any error
 * the bytes written to dst (or the frame) are zeroed. */
int tc_frame_open_to(tc_aead_ctx *x, const tc_aead_key *k, uint64_t offset, uint8_t *frame,
                     size_t framelen, const struct iovec *dst, int ndst, size_t skip,
                     struct tc_frame_plain *out);

#endif /* TC_FRAME_H */
