/*
 * divert_proto.h - the binary requests of tcpcryptd's divert backend on its
 * control socket (AF_UNIX stream, one request per connection).
 *
 * The client sends one struct tcd_req in a single sendmsg() with the TCP
 * socket it asks about attached as SCM_RIGHTS (proof of ownership); the
 * daemon answers one struct tcd_resp and closes. err is 0 or a positive
 * errno, with the same meanings as the eBPF backend's setsockopt/getsockopt
 * (include/tcpcrypt/eno_abi.h): EINVAL (bad offer), EISCONN (already
 * connecting, connected or listening), ENOENT (result of a socket that was
 * not opted in), plus ENOTSOCK (the fd is not a TCP socket) and EBUSY (the
 * socket already has an SO_MARK of its own).
 */
#ifndef TCPCRYPT_DIVERT_PROTO_H
#define TCPCRYPT_DIVERT_PROTO_H

#include <stdint.h>
#include "tcpcrypt/eno_abi.h"

#define TCD_MAGIC     0x54434431u  /* "TCD1", host order: the socket is local */
#define TCD_OP_OPTIN  1            /* offer: opt the socket in (before connect/listen) */
#define TCD_OP_RESULT 2            /* read the socket's struct tcpcrypt_eno_result */

struct tcd_req {
	uint32_t magic;
	uint8_t op;
	uint8_t pad[3];
	struct tcpcrypt_eno_offer offer;   /* TCD_OP_OPTIN only */
};

struct tcd_resp {
	uint32_t magic;
	int32_t err;
	struct tcpcrypt_eno_result res;    /* TCD_OP_RESULT with err == 0 */
};

#endif
