/* divert_client.h - the shim's side of tcpcryptd's divert backend: when the
 * kernel has no ENO sockopt (no eBPF programs: ENOPROTOOPT), the offer and
 * the result go over the control socket (TCPCRYPT_CONTROL, default
 * /run/tcpcrypt/control) with the TCP socket passed as SCM_RIGHTS.
 * A daemon that does not answer within 200 ms means plain TCP. */
#ifndef TC_SHIM_DIVERT_CLIENT_H
#define TC_SHIM_DIVERT_CLIENT_H

#include <stdint.h>
#include <sys/socket.h>
#include "tcpcrypt/eno_abi.h"

/* Opts fd in. Returns 0, -ENOPROTOOPT when no divert daemon answers, or
 * the daemon's error (negative errno). Never prints. */
int tc_divert_opt_in(int fd, const struct tcpcrypt_eno_offer *offer);

/* Reads fd's ENO result into res (*len = its size). Returns 0 or a
 * negative errno (-ENOPROTOOPT: no daemon; -ENOENT: not opted in). When
 * the daemon does not answer in time (stopped or hung), its table decides,
 * once its queue was served past the time of the request (bounded). */
int tc_divert_result(int fd, struct tcpcrypt_eno_result *res, socklen_t *len);

/* Tells the daemon that fd's session has its keys (for tcnetstat), like
 * setsockopt TCPCRYPT_ENO_REPORT does under eBPF. Never waits: a daemon
 * that is absent or busy misses the report. Returns 0 or -ENOPROTOOPT. */
int tc_divert_report(int fd, const struct tcpcrypt_eno_report *rep);

/* Which divert daemon serves this process now: an identity of its control
 * socket (inode and creation time), which changes when tcpcryptd is
 * restarted; 0 when none is there. One stat(). */
uint64_t tc_divert_id(void);

#endif
