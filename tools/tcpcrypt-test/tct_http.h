/* tct_http.h - the small part of HTTP/1.x that `tcpcrypt-test --serve`
 * speaks: parsing a request head, strictly and within bounds, and
 * writing a response. */
#ifndef TCT_HTTP_H
#define TCT_HTTP_H

#include <stddef.h>

struct tct_req {
	int status;          /* 0: fine; else the error status to answer (400, 404, 405, 505) */
	const char *error;   /* with status: why, for the log and the body */
	int head_only;       /* HEAD */
	int keep_alive;      /* the connection may serve another request */
	int want_text;       /* ?plain, Accept: text/plain (without text/html), curl, Wget */
};

/* Length of the request head at the start of buf (request line and
 * headers up to and including the empty line), 0 while incomplete. */
size_t tct_http_head_len(const char *buf, size_t len);

/* Parses a complete head of len bytes into *r. Never reads past len. */
void tct_http_parse(const char *head, size_t len, struct tct_req *r);

/* Writes a whole response (status line, headers, body unless head_only)
 * into out. Returns its length, or 0 if it does not fit. */
size_t tct_http_response(char *out, size_t cap, int status, const char *ctype, const char *body,
                         size_t blen, int head_only, int keep_alive);

#endif
