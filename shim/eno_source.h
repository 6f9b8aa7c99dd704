/*
 * eno_source.h - where the shim sends a socket's ENO offer and reads its
 * ENO outcome. In the product it is always the kernel's eBPF programs
 * (setsockopt/getsockopt TCPCRYPT_ENO_SOCKOPT), else tcpcryptd's divert
 * backend over its control socket (divert_client.h). A test linked with
 * the shim's core (tests/shim-unit) installs another source with
 * tc_eno_source_set(), an internal call: nothing in the environment can
 * choose the source or force an outcome.
 */
#ifndef TC_SHIM_ENO_SOURCE_H
#define TC_SHIM_ENO_SOURCE_H

#include <sys/socket.h>

#include "tcpcrypt/eno_abi.h"

struct tc_eno_source {
	/* Sends our offer for fd. Returns 0, -ENOPROTOOPT when nothing serves
	 * this host, or -errno; *via_divert is 1 when the divert daemon took it. */
	int (*opt_in)(int fd, const struct tcpcrypt_eno_offer *offer, int *via_divert);
	/* One reading of fd's ENO result into res (*len: its size, as
	 * getsockopt sets it). Returns 0 or -errno; *final is 1 when reading
	 * again could not give another answer (the divert daemon's), 0 when
	 * a result without TCPCRYPT_RES_F_DONE may still change. */
	int (*result)(int fd, struct tcpcrypt_eno_result *res, socklen_t *len, int *final);
	/* Tells the backend fd's session has its keys (tcnetstat). */
	void (*report)(int fd, const struct tcpcrypt_eno_report *rep);
};

/* The source in use (never NULL). */
extern const struct tc_eno_source *tc_eno_src;

/* Replaces the source (NULL: back to the kernel's/divert's). Internal:
 * for tests linked with the core; call before any socket opts in. */
void tc_eno_source_set(const struct tc_eno_source *src);

#endif
