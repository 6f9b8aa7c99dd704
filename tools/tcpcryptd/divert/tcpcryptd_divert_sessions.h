/* tcpcryptd_divert_sessions.h - the divert backend's list of live
 * sessions, for tcnetstat (control request "list").
 *
 * A session is recorded when its application asks for the ENO result or
 * reports the session's keys (TCD_OP_RESULT, TCD_OP_REPORT), with the
 * socket passed as proof: keyed by its cookie (SO_COOKIE), with its
 * addresses, the caller's pid, uid and command, the ENO result and the
 * report. Liveness, TCP state and byte counts come from a sock_diag dump of
 * the served namespace, which also prunes the sessions whose socket is
 * gone. Bounded: DV_SESS_MAX sessions, DV_SESS_PER_UID of them per uid; a
 * full table refuses new sessions (never evicts live ones). */
#ifndef TCPCRYPTD_DIVERT_SESSIONS_H
#define TCPCRYPTD_DIVERT_SESSIONS_H

#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "tcpcrypt/eno_abi.h"

#define DV_SESS_MAX        16384
#define DV_SESS_PER_UID    4096
#define DV_SESS_MAX_UIDS   1024   /* distinct uids with sessions */
#define DV_SESS_REFRESH_MS 100    /* at least this between two sock_diag dumps */

/* Opens the sock_diag socket: call it inside the namespace served (a
 * netlink socket stays in the namespace of its creation). Returns 0 or a
 * negative errno (then nothing is listed, nothing else breaks). */
int dv_sess_init(void);
void dv_sess_fini(void);

/* Records or updates the session of TCP socket fd (already checked to be
 * opted in and of the served namespace) for the client cred; res and rep
 * may be NULL. Returns 0, -ENOTCONN, -ENOSPC (table full for this uid) or
 * another negative errno. Never keeps fd. */
int dv_sess_note(int fd, const struct ucred *cred, const struct tcpcrypt_eno_result *res,
		 const struct tcpcrypt_eno_report *rep);

/* Writes one tcs_format() line per live session that uid may see (root:
 * all, others: their own). Returns the number of lines. */
unsigned dv_sess_list(FILE *out, uid_t uid);

/* Sessions recorded (live or not yet pruned). */
unsigned dv_sess_count(void);

#endif
