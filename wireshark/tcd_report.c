/*
 * tcd_report.c - see tcd_report.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "tcd_report.h"
#include "util.h"

static void endpoint(char *out, size_t cap, const struct tcd_conn *c, int d)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->af == 4 ? AF_INET : AF_INET6, c->addr[d], a, sizeof a);
	snprintf(out, cap, c->af == 4 ? "%s:%u" : "[%s]:%u", a, c->port[d]);
}

static void dir_line(FILE *f, const char *name, const struct tcd_dir *d)
{
	fprintf(f, "; %s %zu frames decrypted", name, d->nok);
	if (d->nrekey)
		fprintf(f, " (%zu rekeys)", d->nrekey);
	if (d->npartial)
		fprintf(f, ", %zu not captured whole", d->npartial);
	if (d->nbad)
		fprintf(f, ", %zu failed authentication", d->nbad);
	if (d->lost)
		fprintf(f, ", framing lost at offset %llu", (unsigned long long)d->framed_end);
}

void tcd_report(FILE *f, const struct tcd_conn *c, int verbose)
{
	char a[64], b[64], sid[2 * TC_SESSID_LEN + 1];

	if (c->state == TCD_C_PLAIN && !verbose)
		return;
	endpoint(a, sizeof a, c, 0);
	endpoint(b, sizeof b, c, 1);
	fprintf(f, "%s > %s:", a, b);
	switch (c->state) {
	case TCD_C_PLAIN:
		fprintf(f, " not tcpcrypt, copied as it is\n");
		return;
	case TCD_C_NOHS:
		fprintf(f, " tcpcrypt, but its SYN or SYN-ACK was not captured: copied encrypted\n");
		return;
	case TCD_C_BADINIT:
		fprintf(f, " tcpcrypt, but Init1 or Init2 not captured or malformed: copied encrypted\n");
		return;
	case TCD_C_NOAEAD:
		fprintf(f, " tcpcrypt with AEAD 0x%04x, which this host cannot open: copied encrypted\n",
		        c->aead);
		return;
	case TCD_C_NOKEY:
		fprintf(f, " tcpcrypt, no key in the key log opens it: copied encrypted\n");
		return;
	}
	tc_hex(sid, sizeof sid, c->sessid, TC_SESSID_LEN);
	fprintf(f, " tcpcrypt session %s, %s", sid, tc_aead_name(c->aead));
	dir_line(f, c->a_dir == 0 ? "A>B" : "B>A", &c->dir[0]);
	dir_line(f, c->a_dir == 0 ? "B>A" : "A>B", &c->dir[1]);
	fputc('\n', f);
}
