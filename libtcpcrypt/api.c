/*
 * api.c - the public API of libtcpcrypt (tcpcrypt.h). These functions are
 * thin wrappers over getsockopt()/setsockopt() at level IPPROTO_TCP; the
 * preloaded shim answers the TCP_CRYPT_* options. This is the one file of
 * libtcpcrypt that makes socket calls.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tcpcrypt/tcpcrypt.h"

#define TC_API __attribute__((visibility("default")))

TC_API int tcpcrypt_getsockopt(int fd, int optname, void *optval, socklen_t *optlen)
{
	return getsockopt(fd, IPPROTO_TCP, optname, optval, optlen);
}

TC_API int tcpcrypt_setsockopt(int fd, int optname, const void *optval, socklen_t optlen)
{
	return setsockopt(fd, IPPROTO_TCP, optname, optval, optlen);
}

TC_API int tcpcrypt_getsessid(int fd, uint8_t *buf, size_t *len)
{
	uint8_t tmp[TCPCRYPT_SESSID_MAX];
	socklen_t n = sizeof(tmp);
	size_t i;

	if (!buf || !len) {
		errno = EINVAL;
		return -1;
	}
	if (tcpcrypt_getsockopt(fd, TCP_CRYPT_SESSID, tmp, &n) < 0)
		return -1;
	if (*len < n) {
		*len = n;
		errno = ENOSPC;
		return -1;
	}
	for (i = 0; i < n; i++)
		buf[i] = tmp[i];
	*len = n;
	return 0;
}

TC_API const char *tcpcrypt_version(void)
{
	return PACKAGE_VERSION;
}
