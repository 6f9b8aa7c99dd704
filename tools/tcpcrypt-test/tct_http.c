/*
 * tct_http.c - see tct_http.h. Only GET and HEAD of "/" exist; no request
 * may carry a body (Content-Length other than 0, Transfer-Encoding: 400,
 * and the connection closes, since its framing is then unknown).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tct_http.h"

size_t tct_http_head_len(const char *buf, size_t len)
{
	size_t i;

	/* the end is CRLF CRLF; bare LF LF is taken too (RFC 9112 2.2) */
	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Records the first error of the request; returns 0 for the caller to return. */
static int bad(struct tct_req *r, int status, const char *why)
{
	if (!r->status) {
		r->status = status;
		r->error = why;
	}
	return 0;
}

/* 1 if the n bytes at s contain the word w, case-insensitively. */
static int has_word(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w), i;

	for (i = 0; i + k <= n; i++)
		if (!strncasecmp(s + i, w, k))
			return 1;
	return 0;
}

/* The request line "METHOD TARGET HTTP/1.x" of n bytes (no CR LF). */
static int request_line(const char *s, size_t n, struct tct_req *r, int *http11)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *t;
	size_t tl;

	if (!sp1 || sp1 == s || !(sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s))))
		return bad(r, 400, "malformed request line");
	t = sp1 + 1;
	tl = (size_t)(sp2 - t);
	if (n - (size_t)(sp2 + 1 - s) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7))
		return bad(r, 400, "malformed request line");
	if (sp2[8] != '0' && sp2[8] != '1')
		return bad(r, 505, "HTTP version not supported");
	*http11 = sp2[8] == '1';
	r->keep_alive = *http11;
	for (const char *p = s; p < sp1; p++)
		if (*p < 'A' || *p > 'Z')
			return bad(r, 400, "malformed method");
	if (tl == 0 || t[0] != '/' || memchr(t, ' ', tl))
		return bad(r, 400, "malformed target");
	if ((size_t)(sp1 - s) == 3 && !strncmp(s, "GET", 3))
		r->head_only = 0;
	else if ((size_t)(sp1 - s) == 4 && !strncmp(s, "HEAD", 4))
		r->head_only = 1;
	else
		return bad(r, 405, "method not allowed (GET or HEAD only)");
	if (tl == 1)
		return 0;
	if (t[1] == '?') {
		if (has_word(t + 2, tl - 2, "plain"))
			r->want_text = 1;
		return 0;
	}
	return bad(r, 404, "not found (the page is /, its text form /?plain)");
}

/* One "Name: value" header line of n bytes. */
static int header(const char *s, size_t n, struct tct_req *r, int http11, int *accept_html)
{
	const char *colon = memchr(s, ':', n), *v;
	size_t k, vl;

	if (!colon || colon == s)
		return bad(r, 400, "malformed header line");
	k = (size_t)(colon - s);
	v = colon + 1;
	vl = n - k - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	if (k == 10 && !strncasecmp(s, "Connection", k)) {
		if (has_word(v, vl, "close"))
			r->keep_alive = 0;
		else if (!http11 && has_word(v, vl, "keep-alive"))
			r->keep_alive = 1;
	} else if (k == 6 && !strncasecmp(s, "Accept", k)) {
		*accept_html = has_word(v, vl, "text/html");
		if (has_word(v, vl, "text/plain") && !*accept_html)
			r->want_text = 1;
	} else if (k == 10 && !strncasecmp(s, "User-Agent", k)) {
		if ((vl >= 5 && !strncasecmp(v, "curl/", 5)) || (vl >= 5 && !strncasecmp(v, "Wget/", 5)))
			r->want_text = 1;
	} else if (k == 14 && !strncasecmp(s, "Content-Length", k)) {
		if (vl != 1 || v[0] != '0')
			bad(r, 400, "a request body is not allowed");
	} else if (k == 17 && !strncasecmp(s, "Transfer-Encoding", k)) {
		bad(r, 400, "a request body is not allowed");
	}
	return 0;
}

void tct_http_parse(const char *head, size_t len, struct tct_req *r)
{
	const char *p = head, *end = head + len, *nl;
	size_t n;
	int first = 1, http11 = 0, accept_html = 0;

	memset(r, 0, sizeof(*r));
	if (memchr(head, '\0', len))
		{
		bad(r, 400, "NUL byte in the request");
		return;
	}
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		n = (size_t)(nl - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;          /* the empty line */
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
			{
				bad(r, 400, "control character in the request");
				return;
			}
		if (first)
			request_line(p, n, r, &http11);
		else
			header(p, n, r, http11, &accept_html);
		first = 0;
		p = nl + 1;
	}
	if (first)
		bad(r, 400, "empty request");
	if (r->status == 400 || r->status == 505)
		r->keep_alive = 0;  /* the stream may be out of step */
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

size_t tct_http_response(char *out, size_t cap, int status, const char *ctype, const char *body,
                         size_t blen, int head_only, int keep_alive)
{
	int n;

	n = snprintf(out, cap,
		     "HTTP/1.1 %d %s\r\n"
		     "Server: tcpcrypt-test\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "Cache-Control: no-store\r\n"
		     "%s"
		     "Connection: %s\r\n\r\n",
		     status, reason_phrase(status), ctype, blen,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     keep_alive ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= cap)
		return 0;
	if (head_only)
		return (size_t)n;
	if (blen > cap - (size_t)n)
		return 0;
	memcpy(out + n, body, blen);
	return (size_t)n + blen;
}
