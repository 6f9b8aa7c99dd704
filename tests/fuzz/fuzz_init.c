/*
 * fuzz_init.c - libFuzzer harness for Init1/Init2 parsing.
 *
 * Input: one control byte, then the stream. Bit 0 of the control byte
 * picks the target: 0 = a fixed B reading Init1, 1 = a fixed A (Init1
 * sent) reading Init2. The rest picks the chunk size. The same stream is
 * also fed whole to a second session: both must end in the same state
 * (result, bytes consumed unless it failed, Init2 sent, session ID),
 * whatever the chunking.
 * Seeds: the KAT Init messages (tests/unit/kat).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tc_session *s1, *s2;

/* Runs the handshake over in[0..len) in chunks; returns the last result
 * and sets *used and the output. */
static int run(tc_session *s, const uint8_t *in, size_t len, size_t chunk, size_t *used,
               uint8_t *out, size_t *outlen)
{
	uint8_t tmp[TC_HANDSHAKE_MAX];
	size_t off = 0, n, c, ol;
	int r = 0;

	*used = 0;
	*outlen = 0;
	do {
		n = len - off < chunk ? len - off : chunk;
		r = tc_session_handshake(s, in + off, n, &c, tmp, sizeof tmp, &ol);
		if (c > n)
			abort();
		if (ol > 0) {
			if (*outlen != 0 || ol > TC_HANDSHAKE_MAX)
				abort();   /* one message only */
			memcpy(out, tmp, ol);
			*outlen = ol;
		}
		off += c;
		if (r != 0)
			break;
		if (c < n)
			abort();      /* must take everything while the message goes on */
	} while (off < len);
	*used = off;
	return r;
}

static void start(tc_session *s, int role)
{
	uint8_t tmp[TC_HANDSHAKE_MAX];
	size_t c, ol;

	fz_init(s, role);
	if (role == TCPCRYPT_ROLE_A &&
	    tc_session_handshake(s, NULL, 0, &c, tmp, sizeof tmp, &ol) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t o1[TC_HANDSHAKE_MAX], o2[TC_HANDSHAKE_MAX], id1[TC_SESSID_LEN], id2[TC_SESSID_LEN];
	size_t u1, u2, l1, l2, chunk;
	int role, r1, r2;

	if (s1 == NULL) {
		s1 = fz_alloc();
		s2 = fz_alloc();
	}
	if (size < 1)
		return 0;
	role = data[0] & 1 ? TCPCRYPT_ROLE_A : TCPCRYPT_ROLE_B;
	chunk = (size_t)(data[0] >> 1) + 1;
	data++;
	size--;
	start(s1, role);
	start(s2, role);
	r1 = run(s1, data, size, chunk, &u1, o1, &l1);
	r2 = run(s2, data, size, size ? size : 1, &u2, o2, &l2);
	if (r1 != r2 || (r1 >= 0 && u1 != u2) || l1 != l2 || memcmp(o1, o2, l1) != 0)
		abort();
	if (r1 == 1) {
		if (tc_session_sessid(s1, id1, sizeof id1) != TC_SESSID_LEN ||
		    tc_session_sessid(s2, id2, sizeof id2) != TC_SESSID_LEN ||
		    memcmp(id1, id2, sizeof id1) != 0 || id1[0] != 0x23)
			abort();
	}
	tc_session_wipe(s1);
	tc_session_wipe(s2);
	return 0;
}
