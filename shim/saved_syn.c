/*
 * saved_syn.c - the SYN that opened a passive connection, as the kernel
 * saved it (see saved_syn.h).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "libc_syms.h"
#include "saved_syn.h"

void tc_saved_syn_enable(int fd)
{
	int one = 1, e = errno;

	(void)tc_real_setsockopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof(one));
	errno = e;
}

int tc_saved_syn_parse(const uint8_t *b, size_t len, uint32_t *seq)
{
	size_t off;

	if (len < 1)
		return -EINVAL;
	if ((b[0] >> 4) == 4) {
		off = (size_t)(b[0] & 0x0f) * 4;
		if (off < 20 || len < off || b[9] != IPPROTO_TCP)
			return -EINVAL;
	} else if ((b[0] >> 4) == 6) {
		off = 40;               /* a SYN with extension headers: not parsed */
		if (len < off || b[6] != IPPROTO_TCP)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (len - off < 20 || !(b[off + 13] & 0x02))   /* a TCP header, SYN set */
		return -EINVAL;
	*seq = (uint32_t)b[off + 4] << 24 | (uint32_t)b[off + 5] << 16 | (uint32_t)b[off + 6] << 8 |
	       (uint32_t)b[off + 7];
	return 0;
}

int tc_saved_syn_seq(int fd, uint32_t *seq)
{
	uint8_t b[512];           /* IPv6 + TCP with options: at most 100 bytes */
	socklen_t len = sizeof(b);
	int e = errno, r;

	r = tc_real_getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, b, &len);
	errno = e;
	if (r < 0 || len == 0)
		return -ENOENT;
	return tc_saved_syn_parse(b, (size_t)len, seq) == 0 ? 0 : -ENOENT;
}
