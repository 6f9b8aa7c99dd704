/*
 * tcd_frames.h - the frames of one direction of a tcpcrypt connection,
 * read from its reassembled stream and opened with the keys of a key-log
 * secret (libtcpcrypt's key schedule and frame open: RFC 8548 3.3-3.8),
 * and the map from that stream's offsets to offsets in its plaintext.
 */
#ifndef TCD_FRAMES_H
#define TCD_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "tcd_stream.h"

enum tcd_fstatus {
	TCD_F_OK,        /* opened: its data is in the plaintext */
	TCD_F_BAD,       /* captured whole, failed authentication */
	TCD_F_PARTIAL,   /* not captured whole */
};

struct tcd_frame {
	uint64_t coff;      /* stream offset of its first byte (its nonce) */
	uint32_t flen;      /* 3 + clen */
	uint32_t dstart;    /* offset of the data in the frame (4, or 6 with URGp) */
	uint32_t dlen;      /* data bytes (for a frame not opened: clen - 17) */
	uint64_t poff;      /* offset of its data in the plaintext stream */
	uint8_t status;     /* enum tcd_fstatus */
	uint8_t ctl;        /* control byte (rekey bit) */
	uint8_t pflags;     /* plaintext flags (FINp, URGp), when opened */
};

struct tcd_dir {
	uint64_t init_len;  /* the Init message: the first frame's offset */
	struct tcd_frame *fr;
	size_t nfr;
	uint8_t *plain;     /* plaintext by plaintext offset, zeros where not opened */
	uint64_t plen;
	uint64_t framed_end;  /* end of the last frame whose header was read */
	int lost;           /* framing stopped before the end of the stream */
	size_t nok, nbad, npartial, nrekey;
};

/* Reads the frames after init_len with the keys of generation 0 from mk0,
 * A's keys if a_to_b. trial != 0: stops at the first frame captured whole
 * and returns 1 if it opened, 0 if not (nothing recorded in d, which may
 * be NULL). trial == 0: records every frame in d; returns 0. Negative:
 * -ENOTSUP (AEAD not usable here), -ENOMEM. */
int tcd_frames_read(struct tcd_dir *d, const struct tcd_stream *s, uint64_t init_len,
                    uint16_t aead, const uint8_t mk0[32], int a_to_b, int trial);

/* The plaintext offset that the stream offset c maps to. */
uint64_t tcd_frames_map(const struct tcd_dir *d, uint64_t c);

/* The first run of opened plaintext within [p0, p1): sets *start and
 * returns its length, or 0 if there is none. */
uint64_t tcd_frames_run(const struct tcd_dir *d, uint64_t p0, uint64_t p1, uint64_t *start);

void tcd_frames_free(struct tcd_dir *d);

#endif /* TCD_FRAMES_H */
