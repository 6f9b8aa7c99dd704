/* tcpcryptd_divert_req.h - what a request on the divert backend's control
 * socket is (include/tcpcrypt/divert_proto.h), and whether a session
 * report is well formed. No I/O: unit-tested (tests/divert/check_divert_req.c). */
#ifndef TCPCRYPTD_DIVERT_REQ_H
#define TCPCRYPTD_DIVERT_REQ_H

#include <stddef.h>
#include "tcpcrypt/divert_proto.h"

enum dv_req_kind {
	DV_REQ_NONE = 0,   /* nothing received */
	DV_REQ_OPTIN,      /* struct tcd_req, op TCD_OP_OPTIN */
	DV_REQ_RESULT,     /* struct tcd_req, op TCD_OP_RESULT */
	DV_REQ_REPORT,     /* struct tcd_req_report */
	DV_REQ_TEXT,       /* a text line ("list", "status", ...) */
	DV_REQ_BAD,        /* binary (our magic), but unknown op or too short */
};

union dv_req {
	struct tcd_req rq;
	struct tcd_req_report rep;
};

/* Classifies the n bytes received in buf; copies a binary request into
 * *out (zero-padded). */
enum dv_req_kind dv_req_parse(const void *buf, size_t n, union dv_req *out);

/* 0 if the report is well formed (version, role, session ID length 1..64,
 * a known AEAD id), else -EINVAL. */
int dv_report_check(const struct tcpcrypt_eno_report *r);

#endif
