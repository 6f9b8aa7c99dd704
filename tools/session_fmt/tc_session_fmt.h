/* tc_session_fmt.h - the text form of a live session, as tcpcryptd's
 * control socket sends it ("list") and tcnetstat reads it. One line:
 *   session cookie=N family=4|6 laddr=A lport=N raddr=A rport=N state=N
 *     flags=0xNN reason=N local=HEX peer=HEX report=0|1 role=N aead=0xNNNN
 *     sessid=HEX pid=N uid=N comm=STR est=NS bytes_out=N bytes_in=N
 * (comm has no white space: it is replaced by '?'; est is CLOCK_MONOTONIC
 * nanoseconds at establishment, 0 when unknown; bytes are -1 when unknown). */
#ifndef TC_SESSION_FMT_H
#define TC_SESSION_FMT_H

#include <stddef.h>
#include <stdint.h>
#include "tcpcrypt_maps.h"	/* tools/tcpcryptd/bpf/progs/ */

int tcs_format(uint64_t cookie, const struct tc_session *s, char *buf, size_t len);
int tcs_parse(const char *line, uint64_t *cookie, struct tc_session *s);
const char *tcs_state_name(unsigned state);
const char *tcs_aead_name(unsigned aead);

/* Runs the tc_sessions iterator whose link is link_fd and calls fn for each
 * record. Returns 0, fn's non-zero return, or a negative errno. */
int tcs_read_iter(int link_fd, int (*fn)(uint64_t cookie, const struct tc_session *s, void *arg),
                  void *arg);

/* Same, over the sessions table map (TC_MAP_SESSIONS_TAB) whose fd is map_fd. */
int tcs_read_table(int map_fd, int (*fn)(uint64_t cookie, const struct tc_session *s, void *arg),
                   void *arg);

#endif
