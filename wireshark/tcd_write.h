/*
 * tcd_write.h - pass 2 of tcpcrypt-decrypt: one captured segment of a
 * decrypted connection becomes the segments that carry the plaintext of
 * the same stream bytes, with sequence and acknowledgement numbers in the
 * plaintext streams' numbering (Init messages and frame overhead take no
 * sequence space; bytes that could not be decrypted leave a gap).
 */
#ifndef TCD_WRITE_H
#define TCD_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "tcd_conn.h"
#include "tcd_pkt.h"

/* Called for each rebuilt packet. Returns 0 or a negative errno. */
typedef int (*tcd_emit_fn)(void *arg, const uint8_t *pkt, size_t len);

/* Rewrites the packet p (parsed as pk, direction dir of the decrypted
 * connection c), calling emit for each packet it becomes. 0, or the
 * first negative error of emit or the rebuild. */
int tcd_write_segment(const struct tcd_conn *c, int dir, const uint8_t *p,
                      const struct tcd_pkt *pk, tcd_emit_fn emit, void *arg);

#endif /* TCD_WRITE_H */
