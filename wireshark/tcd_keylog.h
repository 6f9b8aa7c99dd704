/*
 * tcd_keylog.h - the key log the shim writes (TCPCRYPT_KEYLOGFILE,
 * libtcpcrypt/session.c): lines "TCPCRYPT_SS <session ID> <ss[0]>" give
 * the session secret from which every traffic key derives; the
 * "TCPCRYPT_ES" lines (the X25519 result) are not needed and skipped.
 */
#ifndef TCD_KEYLOG_H
#define TCD_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"   /* TC_SESSID_LEN */

struct tcd_key {
	uint8_t sessid[TC_SESSID_LEN];
	uint8_t ss0[32];
};

struct tcd_keylog {
	struct tcd_key *keys;
	size_t n;
	size_t bad;          /* lines that were not understood */
};

/* Reads the key log at path. 0, or a negative errno (-ENOMEM, or open's). */
int tcd_keylog_read(struct tcd_keylog *kl, const char *path);

/* Parses one line (without its newline) into k: 1 for an SS line, 0 for
 * a line to skip (ES, comment, empty), -EINVAL for a malformed one. */
int tcd_keylog_parse_line(const char *line, struct tcd_key *k);

void tcd_keylog_free(struct tcd_keylog *kl);

#endif /* TCD_KEYLOG_H */
