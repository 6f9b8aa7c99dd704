/* tcpcryptd_divert_req.c - classifying control requests (see
 * tcpcryptd_divert_req.h). Every length is checked against the op: a
 * request is untrusted input. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include "tcpcrypt/tcpcrypt.h"
#include "tcpcryptd_divert_req.h"

enum dv_req_kind dv_req_parse(const void *buf, size_t n, union dv_req *out)
{
	uint32_t magic;
	uint8_t op;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return DV_REQ_NONE;
	if (n < sizeof(magic) + 1)
		return DV_REQ_TEXT;
	memcpy(&magic, buf, sizeof(magic));
	if (magic != TCD_MAGIC)
		return DV_REQ_TEXT;
	op = ((const uint8_t *)buf)[sizeof(magic)];
	switch (op) {
	case TCD_OP_OPTIN:
	case TCD_OP_RESULT:
		if (n != sizeof(out->rq))
			return DV_REQ_BAD;
		memcpy(&out->rq, buf, sizeof(out->rq));
		return op == TCD_OP_OPTIN ? DV_REQ_OPTIN : DV_REQ_RESULT;
	case TCD_OP_REPORT:
		if (n != sizeof(out->rep))
			return DV_REQ_BAD;
		memcpy(&out->rep, buf, sizeof(out->rep));
		return DV_REQ_REPORT;
	default:
		return DV_REQ_BAD;
	}
}

int dv_report_check(const struct tcpcrypt_eno_report *r)
{
	if (r->version != TCPCRYPT_ENO_ABI_VERSION || r->role > 1 || r->sessid_len < 1 ||
	    r->sessid_len > sizeof(r->sessid))
		return -EINVAL;
	switch (r->aead) {
	case TCPCRYPT_AEAD_AES_128_GCM:
	case TCPCRYPT_AEAD_AES_256_GCM:
	case TCPCRYPT_AEAD_CHACHA20_POLY1305:
		return 0;
	default:
		return -EINVAL;
	}
}
