/*
 * util.h - small helpers of the engine: big-endian loads and stores, hex.
 */
#ifndef TC_UTIL_H
#define TC_UTIL_H

#include <stddef.h>
#include <stdint.h>

static inline void tc_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tc_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void tc_put_be64(uint8_t *p, uint64_t v)
{
	tc_put_be32(p, (uint32_t)(v >> 32));
	tc_put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t tc_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t tc_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes len bytes as lower-case hex plus a NUL into out (outcap >=
 * 2 * len + 1). Returns the number of hex digits, or 0 if out is too small. */
size_t tc_hex(char *out, size_t outcap, const uint8_t *in, size_t len);

#endif /* TC_UTIL_H */
