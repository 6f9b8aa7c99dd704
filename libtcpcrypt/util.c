/* util.c - small helpers of the engine. */
#include "config.h"

#include <errno.h>

#include "session.h"
#include "util.h"

size_t tc_hex(char *out, size_t outcap, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (outcap == 0 || len > (outcap - 1) / 2)
		return 0;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return 2 * len;
}

const char *tc_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EBADMSG:
		return "a tcpcrypt frame failed authentication";
	case -EPROTO:
		return "tcpcrypt protocol violation (malformed Init message, frame after FINp, or an AEAD that was not offered)";
	case -EMSGSIZE:
		return "a tcpcrypt frame or its data has an impossible length";
	case -ENOTSUP:
		return "no AEAD algorithm in common, or an unsupported TEP";
	case -EKEYREJECTED:
		return "the peer's public key was rejected (all-zero shared secret)";
	case -EINVAL:
		return "invalid argument or session state";
	case -ENOSPC:
		return "output buffer too small";
	case -ENOMEM:
		return "out of memory";
	case -EOVERFLOW:
		return "tcpcrypt stream offset exhausted";
	case -EIO:
		return "the crypto library could not be initialised";
	default:
		return "unknown tcpcrypt error";
	}
}
