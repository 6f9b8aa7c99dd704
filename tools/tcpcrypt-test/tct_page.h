/* tct_page.h - what `tcpcrypt-test --serve` tells a visitor about their
 * connection: read from the shim's answers for the accepted socket, and
 * written as one text line (also the server's log line) or as the HTML
 * page. */
#ifndef TCT_PAGE_H
#define TCT_PAGE_H

#include <stddef.h>
#include <sys/socket.h>

#include "tcpcrypt/eno_abi.h"

struct tct_visit {
	char peer[80];                   /* "10.200.0.1:41234" or "[fd00::1]:41234" */
	int encrypted;                   /* 1: a tcpcrypt session with keys */
	char sessid[2 * 64 + 1];         /* hex, "" when not encrypted */
	const char *aead;                /* libtcpcrypt's name, NULL when not encrypted */
	int role;                        /* the server's TCPCRYPT_ROLE_*, -1 unknown */
	int have_eno;                    /* eno holds the ENO result */
	struct tcpcrypt_eno_result eno;  /* TCP_CRYPT_ENO_RESULT of the socket */
	char why[200];                   /* not encrypted: why, when known */
};

/* Fills *v for the connected socket fd whose peer is sa. Call it once a
 * request has been read: the Init exchange is over by then, so nothing
 * waits. */
void tct_visit_read(int fd, const struct sockaddr *sa, socklen_t salen, struct tct_visit *v);

/* The visit as one line without newline: key=value fields (see
 * tcpcrypt-test(1)). Returns its length (truncated to cap - 1). */
size_t tct_visit_line(const struct tct_visit *v, char *out, size_t cap);

/* The HTML page. Returns its length, or 0 if it does not fit in cap. */
size_t tct_visit_html(const struct tct_visit *v, char *out, size_t cap);

/* "ip:port" of sa into out ("[ip]:port" for IPv6; v4-mapped as IPv4). */
void tct_addr_str(const struct sockaddr *sa, socklen_t salen, char *out, size_t cap);

#endif
