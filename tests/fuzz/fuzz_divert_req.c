/*
 * fuzz_divert_req.c - libFuzzer harness for the divert backend's control
 * requests (tools/tcpcryptd/divert/tcpcryptd_divert_req.c) and the offer they carry
 * (dv_offer_policy, tools/tcpcryptd/divert/tcpcryptd_divert_tab.c): any local process may
 * write to the control socket.
 *
 * Input: the bytes of one request. Checks with abort(): the kind agrees
 * with the length and the magic; a binary request is copied exactly; a
 * report that passes dv_report_check has a session ID length 1..64 and a
 * known AEAD; an offer's policy lists only TEPs of the option.
 */
/* fuzz-extra: tools/tcpcryptd/divert/tcpcryptd_divert_req.c tools/tcpcryptd/divert/tcpcryptd_divert_tab.c -Itools/tcpcryptd/divert -Itools/tcpcryptd */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpcrypt/tcpcrypt.h"
#include "session.h"
#include "tcpcryptd_divert_req.h"
#include "tcpcryptd_divert_tab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union dv_req rq;
	enum dv_req_kind k = dv_req_parse(data, size, &rq);
	uint32_t magic = 0;

	if (size >= 4)
		memcpy(&magic, data, 4);
	switch (k) {
	case DV_REQ_NONE:
		CHECK(size == 0);
		break;
	case DV_REQ_TEXT:
		CHECK(size > 0 && (size < 5 || magic != TCD_MAGIC));
		break;
	case DV_REQ_BAD:
		CHECK(size >= 5 && magic == TCD_MAGIC);
		break;
	case DV_REQ_OPTIN:
	case DV_REQ_RESULT: {
		struct tc_eno_policy pol;

		CHECK(size == sizeof(rq.rq) && memcmp(&rq.rq, data, size) == 0);
		if (k == DV_REQ_OPTIN && dv_offer_policy(&rq.rq.offer, &pol) == 0) {
			CHECK(rq.rq.offer.len >= 1 && rq.rq.offer.len <= TCPCRYPT_ENO_CONTENT_MAX);
			CHECK(pol.nteps <= sizeof(pol.teps) && pol.app_aware <= 2 && pol.passive <= 1);
			for (size_t i = 0; i < pol.nteps; i++)
				CHECK(memchr(rq.rq.offer.content, pol.teps[i], rq.rq.offer.len) ||
				      memchr(rq.rq.offer.content, pol.teps[i] | 0x80, rq.rq.offer.len));
		}
		break;
	}
	case DV_REQ_REPORT:
		CHECK(size == sizeof(rq.rep) && memcmp(&rq.rep, data, size) == 0);
		if (dv_report_check(&rq.rep.report) == 0) {
			CHECK(rq.rep.report.sessid_len >= 1 && rq.rep.report.sessid_len <= 64);
			CHECK(tc_aead_name(rq.rep.report.aead) != NULL);
		}
		break;
	default:
		abort();
	}
	return 0;
}
