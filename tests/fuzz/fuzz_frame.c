/*
 * fuzz_frame.c - libFuzzer harness for the frame reader (tc_session_recv
 * and tc_session_open) on a keyed session built from fixed keys (the KAT
 * inputs of tests/unit/kat, ChaCha20-Poly1305).
 *
 * Input: one control byte, then the rest.
 *  - control bit 7 clear ("raw"): the rest is A's stream after Init1, read
 *    by B in chunks of (control + 1) bytes with a small plaintext buffer,
 *    and again in one call with a large one: the plaintext delivered, the
 *    FIN flag and the error must be the same; tc_session_peek() of the
 *    frames gives a prefix of that plaintext and changes nothing.
 *    Seeds: the KAT frames.
 *  - control bit 7 set ("script"): the rest drives a real A: each command
 *    byte seals a frame (length from the next byte, optional FIN), starts
 *    a rekey, or lets B read. B must get exactly what A sealed, with no
 *    error, under chunking picked by the input.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tc_session *a0, *b0, *a, *b, *b2;
#define SCRIPT_MAX (256u << 10)   /* bytes one script may put on the wire */
static uint8_t plain[TC_FRAME_MAX], wire[1 << 20], got1[1 << 20], got2[1 << 20];

/* The keyed pair once; every input starts from a copy of it. */
static void setup(void)
{
	uint8_t m1[TC_HANDSHAKE_MAX], m2[TC_HANDSHAKE_MAX];
	size_t l1, l2, c;

	a0 = fz_alloc();
	b0 = fz_alloc();
	a = fz_alloc();
	b = fz_alloc();
	b2 = fz_alloc();
	fz_init(a0, TCPCRYPT_ROLE_A);
	fz_init(b0, TCPCRYPT_ROLE_B);
	if (tc_session_handshake(a0, NULL, 0, &c, m1, sizeof m1, &l1) != 0 ||
	    tc_session_handshake(b0, m1, l1, &c, m2, sizeof m2, &l2) != 1 ||
	    tc_session_handshake(a0, m2, l2, &c, m1, sizeof m1, &l1) != 1)
		abort();
}

/* B reads in[0..len) in chunks with plaintext room cap; returns the error
 * (0 if none) and the plaintext length in *glen, FIN in *fin. */
static int reader(tc_session *s, const uint8_t *in, size_t len, size_t chunk, size_t cap,
                  uint8_t *got, size_t *glen, unsigned *fin)
{
	uint8_t hs[TC_HANDSHAKE_MAX];
	size_t off = 0, n, pl, hl;
	unsigned fl;
	ssize_t r;
	int stall = 0;

	*glen = 0;
	*fin = 0;
	for (;;) {
		n = len - off < chunk ? len - off : chunk;
		r = tc_session_recv(s, in + off, n, plain, cap, &pl, &fl, hs, sizeof hs, &hl);
		if (r < 0)
			return (int)r;
		if ((size_t)r > n || pl > cap || hl != 0)
			abort();
		memcpy(got + *glen, plain, pl);
		*glen += pl;
		*fin |= fl;
		off += (size_t)r;
		if (off == len && pl < cap) {
			if (++stall > 1)
				return 0;
		} else {
			stall = 0;
		}
	}
}

/* tc_session_peek() over the same stream, each frame at its offset
 * ahead of B's: it changes nothing in the session, and what it opens
 * (up to a rekey, an error or FINp) is a prefix of what the reader got. */
static void peek_ahead(const uint8_t *in, size_t len, const uint8_t *got, size_t glen)
{
	static uint8_t fr[TC_FRAME_MAX];
	size_t p = 0, g = 0, flen, dl;
	uint8_t *d;
	unsigned fl;
	uint16_t u;

	memcpy(b, b0, tc_session_size());
	while (len - p >= TC_FRAME_HDR && (flen = tc_frame_len(in + p)) <= len - p) {
		memcpy(fr, in + p, flen);
		if (tc_session_peek(b, NULL, p, fr, flen, &d, &dl, &fl, &u) != 0)
			break;
		if (dl > glen - g || memcmp(got + g, d, dl) != 0)
			abort();
		g += dl;
		p += flen;
		if (fl & TC_OPEN_FIN)
			break;
	}
	if (memcmp(b, b0, tc_session_size()) != 0)
		abort();
}

static void raw(const uint8_t *in, size_t len, size_t chunk)
{
	size_t g1, g2;
	unsigned f1, f2;
	int r1, r2;

	memcpy(b, b0, tc_session_size());
	memcpy(b2, b0, tc_session_size());
	r1 = reader(b, in, len, chunk, 1 + chunk % 7, got1, &g1, &f1);
	r2 = reader(b2, in, len, len ? len : 1, sizeof plain, got2, &g2, &f2);
	/* the one-call reader may stop at an error before handing out data
	 * of frames that the chunked one delivered; the data it did hand out
	 * is a prefix */
	if (r1 != r2 || g2 > g1 || memcmp(got1, got2, g2) != 0)
		abort();
	if (r1 == 0 && (g1 != g2 || f1 != f2))
		abort();
	peek_ahead(in, len, got1, g1);
}

static void script(const uint8_t *in, size_t len)
{
	static uint8_t data[TC_FRAME_MAX_DATA];
	size_t i = 0, wlen = 0, sent = 0, glen = 0, g, outlen, dlen, chunk = 4096;
	unsigned fin, allfin = 0;
	uint8_t op;
	int r, fin_sent = 0;

	memcpy(a, a0, tc_session_size());
	memcpy(b, b0, tc_session_size());
	while (i < len) {
		op = in[i++];
		switch (op & 3) {
		case 0:   /* seal a frame: length from the next byte, scaled */
		case 1:
			dlen = i < len ? (size_t)in[i++] * ((op >> 2) & 7 ? 1 : 257) : 0;
			if (dlen > TC_FRAME_MAX_DATA)
				dlen = TC_FRAME_MAX_DATA;
			if (fin_sent || wlen + dlen + TC_FRAME_OVERHEAD > SCRIPT_MAX ||
			    sent + dlen > sizeof got1)
				break;
			memset(data, op, dlen);
			memcpy(got2 + sent, data, dlen);
			r = tc_session_seal(a, data, dlen, (op & 1) && (op & 0x80) ? TC_SEAL_FIN : 0,
			                    wire + wlen, sizeof wire - wlen, &outlen);
			if (r != 0)
				abort();
			fin_sent = (op & 1) && (op & 0x80);
			wlen += outlen;
			sent += dlen;
			break;
		case 2:
			r = tc_session_rekey(a);
			if (r != (fin_sent ? -EINVAL : 0))
				abort();
			break;
		case 3:   /* B's chunk size: 1..32 bytes, or large ones */
			chunk = (op >> 2) < 32 ? (size_t)(op >> 2) + 1 : (size_t)((op >> 2) - 31) * 2039;
			break;
		}
	}
	r = reader(b, wire, wlen, chunk, (chunk % 5 + 1) * 997, got1, &g, &fin);
	glen = g;
	allfin |= fin;
	if (r != 0 || glen != sent || memcmp(got1, got2, sent) != 0)
		abort();
	if (!!allfin != fin_sent || tc_session_recv_offset(b) != tc_session_send_offset(a))
		abort();
	/* answering the last rekey, if any, must keep B's frames readable by A */
	while (tc_session_rekey_pending(b))
		if (tc_session_seal(b, NULL, 0, 0, wire, sizeof wire, &outlen) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	if (a0 == NULL)
		setup();
	if (size < 1)
		return 0;
	if (in[0] & 0x80)
		script(in + 1, size - 1);
	else
		raw(in + 1, size - 1, (size_t)in[0] + 1);
	return 0;
}
