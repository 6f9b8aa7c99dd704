/*
 * tcpcrypt.h - the application API of tcpcrypt (RFC 8548 over RFC 8547 TCP-ENO).
 *
 * An application run under tcpcrypt-run (the preloaded shim) can ask about
 * the tcpcrypt session of any of its TCP sockets, either with getsockopt()/
 * setsockopt() at level IPPROTO_TCP and the TCP_CRYPT_* option names below,
 * or through the tcpcrypt_* functions of libtcpcrypt (link with
 * `pkg-config --libs libtcpcrypt`), which do the same and hide the option
 * numbers. Without the shim these calls fail with ENOPROTOOPT.
 *
 * The option numbers are far above any kernel TCP_* option (those are < 256),
 * so they never collide with one.
 */
#ifndef TCPCRYPT_TCPCRYPT_H
#define TCPCRYPT_TCPCRYPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Socket options, level IPPROTO_TCP. "get" options work once the connection
 * is established and tcpcrypt was negotiated (ENOTCONN otherwise); "set"
 * options are taken before connect()/listen(). */
#define TCP_CRYPT_SESSID           0x54430001 /* get: session ID bytes (33 for TEP 0x23) */
#define TCP_CRYPT_ROLE             0x54430002 /* get: int, TCPCRYPT_ROLE_A or TCPCRYPT_ROLE_B */
#define TCP_CRYPT_AEAD             0x54430003 /* get: int, the AEAD id in use (TCPCRYPT_AEAD_*) */
#define TCP_CRYPT_APP_AWARE        0x54430004 /* set/get: int, 0, 1 (send a=1) or 2 (mandatory: fail ENO unless the peer sends a=1) */
#define TCP_CRYPT_PEER_APP_AWARE   0x54430005 /* get: int, the peer's a bit */
#define TCP_CRYPT_PASSIVE          0x54430006 /* set/get: int, the b bit of an active opener: 1 on one end of a simultaneous open makes it B */
#define TCP_CRYPT_AEAD_LIST        0x54430007 /* set/get: array of uint16_t AEAD ids, most preferred first */
#define TCP_CRYPT_ENABLE           0x54430008 /* set: int 0 turns tcpcrypt off for this socket; get: 1 if tcpcrypt protects it */
#define TCP_CRYPT_ENO_RESULT       0x54430009 /* get: struct tcpcrypt_eno_result (see below) */

/* TCP_CRYPT_ENO_RESULT: what TCP-ENO did on this connection, as the kernel
 * (or tcpcryptd's divert backend) saw the handshake: struct
 * tcpcrypt_eno_result of <tcpcrypt/eno_abi.h>, with both SYN-form ENO
 * options verbatim (ours and the peer's, the transcript of RFC 8547), the
 * role, the peer's a bit and, when ENO did not succeed, the reason
 * (TCPCRYPT_ENO_R_*). Unlike the other "get" options it also answers for a
 * connection that fell back to plain TCP. *optlen must be at least
 * sizeof(struct tcpcrypt_eno_result). Errors: ENOENT (the socket was not
 * opted in to TCP-ENO, e.g. no tcpcryptd ran when it connected or
 * listened), ENOPROTOOPT (not run under tcpcrypt), EINVAL (buffer too
 * small). */

#define TCPCRYPT_ROLE_A            0
#define TCPCRYPT_ROLE_B            1

/* AEAD identifiers (RFC 8548 section 7, two bytes on the wire). */
#define TCPCRYPT_AEAD_AES_128_GCM       0x0001 /* required by RFC 8548 */
#define TCPCRYPT_AEAD_AES_256_GCM       0x0002
#define TCPCRYPT_AEAD_CHACHA20_POLY1305 0x0010

/* TEP identifiers (RFC 8548 section 7). */
#define TCPCRYPT_TEP_ECDHE_CURVE25519   0x23

#define TCPCRYPT_SESSID_MAX        64  /* a buffer this large holds any session ID */

/* Copies the session ID of socket fd into buf (at most *len bytes) and sets
 * *len to its length. Returns 0, or -1 with errno: ENOTCONN (no tcpcrypt
 * session on fd), ENOPROTOOPT (not run under tcpcrypt), ENOSPC (buf too
 * small; *len says how large it must be), EBADF, ENOTSOCK. */
int tcpcrypt_getsessid(int fd, uint8_t *buf, size_t *len);

/* getsockopt()/setsockopt() at level IPPROTO_TCP for the TCP_CRYPT_* names. */
int tcpcrypt_getsockopt(int fd, int optname, void *optval, socklen_t *optlen);
int tcpcrypt_setsockopt(int fd, int optname, const void *optval, socklen_t optlen);

/* The library's version string, e.g. "0.1.0". */
const char *tcpcrypt_version(void);

#ifdef __cplusplus
}
#endif
#endif /* TCPCRYPT_TCPCRYPT_H */
