/*
 * sock_iov.c - copying between the application's iovecs and the region.
 */
#include "config.h"

#include <string.h>

#include "sock_int.h"

size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Copies n bytes from src into the iovecs at logical offset off. */
void iov_put(const struct iovec *iov, int cnt, size_t off, const uint8_t *src, size_t n)
{
	for (int i = 0; i < cnt && n; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		size_t c = l - off < n ? l - off : n;
		memcpy((uint8_t *)iov[i].iov_base + off, src, c);
		src += c;
		n -= c;
		off = 0;
	}
}

/* Copies n bytes at logical offset off of the iovecs into dst. */
void iov_get(const struct iovec *iov, int cnt, size_t off, uint8_t *dst, size_t n)
{
	for (int i = 0; i < cnt && n; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		size_t c = l - off < n ? l - off : n;
		memcpy(dst, (const uint8_t *)iov[i].iov_base + off, c);
		dst += c;
		n -= c;
		off = 0;
	}
}
