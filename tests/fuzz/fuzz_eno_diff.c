/*
 * fuzz_eno_diff.c - libFuzzer harness: the two implementations of the ENO
 * rules against each other (tests/unit/eno_diff.h): libtcpcrypt/eno.c and
 * the BPF program's parser and decisions (eno_rules.h) compiled as plain
 * C. Any disagreement aborts, with the input and both verdicts.
 *
 * Input: byte 0 picks the side (bit 0: A, else B), the mandatory flag
 * (bit 1), the a and b bits (bits 2, 3) and the number of TEPs (bits 4-5,
 * plus one); then one byte per TEP (0x20 + byte % 0x60); the rest, up to
 * 40 bytes, is the peer's TCP options area. The offer is the one the shim
 * makes from that policy (tc_eno_build_offer).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/eno_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_eno_policy pol;
	struct eno_input in;
	char why[1024];
	size_t i, k;
	int n;

	if (size < 1)
		return 0;
	memset(&pol, 0, sizeof pol);
	memset(&in, 0, sizeof in);
	in.side = (data[0] & 1) ? ENO_SIDE_A : ENO_SIDE_B;
	pol.app_aware = (data[0] & 2) ? 2 : (data[0] >> 2) & 1;
	pol.passive = (data[0] >> 3) & 1;
	pol.nteps = (uint8_t)(1 + ((data[0] >> 4) & 3));
	for (i = 1, k = 0; k < pol.nteps; k++, i++)
		pol.teps[k] = (uint8_t)(0x20 + (i < size ? data[i] : 0x03) % 0x60);
	n = tc_eno_build_offer(&pol, in.side == ENO_SIDE_B, in.content, sizeof in.content);
	if (n <= 0)
		abort();                /* a valid policy always makes an offer */
	in.clen = (size_t)n;
	in.oflags = pol.app_aware == 2 ? TCPCRYPT_OFFER_F_MANDATORY_APP_AWARE : 0;
	if (i < size) {
		in.alen = size - i < sizeof in.area ? size - i : sizeof in.area;
		memcpy(in.area, data + i, in.alen);
	}
	if (eno_diff_run(&in, why, sizeof why)) {
		fprintf(stderr, "fuzz_eno_diff: the implementations disagree: %s\n", why);
		abort();
	}
	return 0;
}
