/*
 * tct_page.c - see tct_page.h. Everything comes from the socket options
 * the preloaded shim answers: TCP_CRYPT_SESSID, TCP_CRYPT_AEAD,
 * TCP_CRYPT_ROLE and TCP_CRYPT_ENO_RESULT (tcpcrypt.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "tcpcrypt/tcpcrypt.h"
#include "eno.h"
#include "session.h"
#include "tct_page.h"
#include "tct_probe.h"

/* An output buffer that remembers whether anything did not fit. */
struct obuf {
	char *p;
	size_t cap, len;
	int full;
};

static void put(struct obuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->full = 1;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

/* Text with &, <, >, " escaped for HTML. */
static void put_html(struct obuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': put(b, "&amp;"); break;
		case '<': put(b, "&lt;"); break;
		case '>': put(b, "&gt;"); break;
		case '"': put(b, "&quot;"); break;
		default: put(b, "%c", *s);
		}
	}
}

void tct_addr_str(const struct sockaddr *sa, socklen_t salen, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in6 *s6 = (const void *)sa;
	const struct sockaddr_in *s4 = (const void *)sa;
	struct in_addr v4;

	if (sa->sa_family == AF_INET6 && salen >= sizeof(*s6)) {
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(&v4, &s6->sin6_addr.s6_addr[12], 4);
			inet_ntop(AF_INET, &v4, ip, sizeof(ip));
			snprintf(out, cap, "%s:%u", ip, ntohs(s6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
			snprintf(out, cap, "[%s]:%u", ip, ntohs(s6->sin6_port));
		}
	} else if (sa->sa_family == AF_INET && salen >= sizeof(*s4)) {
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, ntohs(s4->sin_port));
	} else {
		snprintf(out, cap, "?");
	}
}

/* Why a connection whose ENO result could not be read is plain. */
static void why_no_result(int e, char *why, size_t cap)
{
	if (e == ENOENT)
		snprintf(why, cap, "this server's socket was not opted in to TCP-ENO "
			 "(tcpcryptd was not running when it started listening)");
	else if (e == ENOPROTOOPT)
		snprintf(why, cap, "this server does not run under tcpcrypt-run");
	else
		snprintf(why, cap, "the server cannot read the ENO result: %s", strerror(e));
}

void tct_visit_read(int fd, const struct sockaddr *sa, socklen_t salen, struct tct_visit *v)
{
	uint8_t id[TCPCRYPT_SESSID_MAX];
	socklen_t len = sizeof(id), il;
	int x, e;

	memset(v, 0, sizeof(*v));
	v->role = -1;
	tct_addr_str(sa, salen, v->peer, sizeof(v->peer));
	len = sizeof(v->eno);
	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_ENO_RESULT, &v->eno, &len) == 0)
		v->have_eno = 1;
	else
		why_no_result(errno, v->why, sizeof(v->why));
	len = sizeof(id);
	if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, id, &len) == 0 && len > 0 &&
	    len <= sizeof(id)) {
		v->encrypted = 1;
		tct_hex(id, len, v->sessid);
		il = sizeof(x);
		if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_AEAD, &x, &il) == 0)
			v->aead = tc_aead_name((uint16_t)x);
		il = sizeof(x);
		if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_ROLE, &x, &il) == 0)
			v->role = x;
		v->why[0] = '\0';
		return;
	}
	e = errno;
	if (!v->have_eno)
		return;
	if (!(v->eno.flags & TCPCRYPT_RES_F_ENO_OK))
		snprintf(v->why, sizeof(v->why), "%s", tc_eno_reason_str(v->eno.reason));
	else
		snprintf(v->why, sizeof(v->why), "ENO negotiated tcpcrypt, but the session has no "
			 "keys (%s)", strerror(e));
}

/* Our option (the server's) and the visitor's, verbatim from the result. */
static const uint8_t *server_opt(const struct tct_visit *v, size_t *len)
{
	*len = v->have_eno && v->eno.local_len <= TCPCRYPT_ENO_OPT_MAX ? v->eno.local_len : 0;
	return v->eno.local_opt;
}

static const uint8_t *client_opt(const struct tct_visit *v, size_t *len)
{
	*len = v->have_eno && v->eno.peer_len <= TCPCRYPT_ENO_OPT_MAX ? v->eno.peer_len : 0;
	return v->eno.peer_opt;
}

/* One SYN-form option: hex, then "[a=0,b=1,teps=0x23]" (sep ",") or
 * "a=0 b=1, TEPs 0x23" (sep " "); "-" when there was none. */
static void put_eno(struct obuf *b, const uint8_t *opt, size_t len, int words)
{
	char hex[2 * TCPCRYPT_ENO_OPT_MAX + 1];
	struct tc_eno_syn syn;
	int i;

	if (!len) {
		put(b, words ? "none" : "-");
		return;
	}
	tct_hex(opt, len, hex);
	put(b, "%s", hex);
	if (tc_eno_parse_syn(opt, len, &syn) < 0) {
		put(b, words ? " (malformed)" : "[malformed]");
		return;
	}
	put(b, words ? " (a=%d b=%d, TEP%s" : "[a=%d,b=%d,teps=", !!(syn.global & TC_ENO_GLOBAL_A),
	    !!(syn.global & TC_ENO_GLOBAL_B), syn.ntep == 1 ? "" : "s");
	if (words && syn.ntep == 0)
		put(b, " none");
	for (i = 0; i < syn.ntep; i++)
		put(b, "%s0x%02x%s", words ? " " : i ? "+" : "", syn.tep[i].id,
		    syn.tep[i].v ? "(v)" : "");
	if (words && syn.ntep == 1 && syn.tep[0].id == TCPCRYPT_TEP_ECDHE_CURVE25519)
		put(b, " = TCPCRYPT_ECDHE_Curve25519");
	put(b, words ? ")" : "]");
}

static char role_char(int role)
{
	return role == TCPCRYPT_ROLE_B ? 'B' : role == TCPCRYPT_ROLE_A ? 'A' : '-';
}

size_t tct_visit_line(const struct tct_visit *v, char *out, size_t cap)
{
	struct obuf b = { out, cap, 0, 0 };
	const uint8_t *o;
	size_t n;

	out[0] = '\0';
	put(&b, "peer=%s encrypted=%s", v->peer, v->encrypted ? "yes" : "no");
	put(&b, " sessid=%s aead=%s role=%c", v->encrypted ? v->sessid : "-",
	    v->aead ? v->aead : "-", role_char(v->role));
	put(&b, " eno_client=");
	o = client_opt(v, &n);
	put_eno(&b, o, n, 0);
	put(&b, " eno_server=");
	o = server_opt(v, &n);
	put_eno(&b, o, n, 0);
	if (!v->encrypted)
		put(&b, " reason=\"%s\"", v->why[0] ? v->why : "unknown");
	return b.len;
}

/* The visitor-friendly name of libtcpcrypt's AEAD name. */
static const char *aead_title(const char *name)
{
	if (!strcmp(name, "aes256gcm"))
		return "AES-256-GCM";
	if (!strcmp(name, "aes128gcm"))
		return "AES-128-GCM";
	if (!strcmp(name, "chacha20poly1305"))
		return "ChaCha20-Poly1305";
	return name;
}

static void row(struct obuf *b, const char *th, const char *td)
{
	put(b, "<tr><th>%s</th><td>", th);
	put_html(b, td);
	put(b, "</td></tr>\n");
}

/* The rows of the table: the connection's facts. */
static void put_rows(struct obuf *b, const struct tct_visit *v)
{
	char cell[256], opt[200];
	struct obuf c = { opt, sizeof(opt), 0, 0 };
	const uint8_t *o;
	size_t n;

	row(b, "Your address", v->peer);
	if (v->encrypted) {
		row(b, "Session ID", v->sessid);
		snprintf(cell, sizeof(cell), "%s (%s)", aead_title(v->aead ? v->aead : "?"),
			 v->aead ? v->aead : "?");
		row(b, "AEAD", cell);
	} else {
		row(b, "Why (you are the peer)", v->why[0] ? v->why : "unknown");
	}
	if (v->role >= 0) {
		snprintf(cell, sizeof(cell), "%c (you are %c)", role_char(v->role),
			 v->role == TCPCRYPT_ROLE_B ? 'A' : 'B');
		row(b, "Server's role", cell);
	}
	o = client_opt(v, &n);
	put_eno(&c, o, n, 1);
	row(b, "Your ENO option (SYN)", opt);
	c.len = 0;
	c.full = 0;
	o = server_opt(v, &n);
	put_eno(&c, o, n, 1);
	row(b, "Server's ENO option (SYN-ACK)", opt);
}

size_t tct_visit_html(const struct tct_visit *v, char *out, size_t cap)
{
	struct obuf b = { out, cap, 0, 0 };
	char line[1024];

	put(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>tcpcrypt: %s</title>\n<style>\n"
	    "body { margin: 0; font-family: sans-serif; color: #222; background: #fff; }\n"
	    "#verdict { padding: 22px 20px; font-size: 44px; font-weight: bold; color: #fff; }\n"
	    ".yes #verdict { background: #1e8c32; }\n"
	    ".no #verdict { background: #c62828; }\n"
	    "table { margin: 12px 20px; border-collapse: collapse; font-size: 14px; }\n"
	    "th { text-align: left; padding: 3px 14px 3px 0; vertical-align: top; white-space: nowrap; }\n"
	    "td { font-family: monospace; overflow-wrap: anywhere; padding: 3px 0; }\n"
	    "p, pre { margin: 10px 20px; font-size: 12px; color: #555; }\n"
	    "pre { white-space: pre-wrap; overflow-wrap: anywhere; }\n"
	    "</style></head>\n", v->encrypted ? "encrypted" : "not encrypted");
	put(&b, "<body class=\"%s\">\n<div id=\"verdict\">%s</div>\n<table>\n",
	    v->encrypted ? "yes" : "no",
	    v->encrypted ? "Encrypted with tcpcrypt" : "Not encrypted");
	put_rows(&b, v);
	put(&b, "</table>\n<p>%s</p>\n<pre>", v->encrypted ?
	    "Your side computed the same session ID: tcnetstat, or the key log of "
	    "tcpcrypt-run --keylog, shows it. Equal IDs at both ends mean no one in the "
	    "middle, if you compare them over a channel you trust." :
	    "Run your browser under tcpcrypt-run, with tcpcryptd running, to encrypt "
	    "this connection.");
	tct_visit_line(v, line, sizeof(line));
	put_html(&b, line);
	put(&b, "</pre>\n</body></html>\n");
	return b.full ? 0 : b.len;
}
