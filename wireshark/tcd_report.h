/*
 * tcd_report.h - the one line per tcpcrypt connection that
 * tcpcrypt-decrypt prints: its addresses, session, AEAD and frames.
 */
#ifndef TCD_REPORT_H
#define TCD_REPORT_H

#include <stdio.h>

#include "tcd_conn.h"

/* Prints the connection's line to f (nothing for a plain TCP connection
 * unless verbose). */
void tcd_report(FILE *f, const struct tcd_conn *c, int verbose);

#endif /* TCD_REPORT_H */
