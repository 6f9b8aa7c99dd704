/* init_msg.c - build and parse Init1/Init2 (RFC 8548 4.1). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "init_msg.h"
#include "util.h"

int tc_init1_build(uint8_t *out, size_t cap, const uint16_t *aeads, size_t naeads,
                   const uint8_t nonce[TC_INIT_NONCELEN], const uint8_t pub[TC_INIT_PUBLEN])
{
	size_t len = TC_INIT1_LEN(naeads), i;
	uint8_t *p;

	if (naeads > 255)
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	tc_put_be32(out, TC_INIT1_MAGIC);
	tc_put_be32(out + 4, (uint32_t)len);
	out[8] = (uint8_t)naeads;
	p = out + 9;
	for (i = 0; i < naeads; i++, p += 2)
		tc_put_be16(p, aeads[i]);
	memcpy(p, nonce, TC_INIT_NONCELEN);
	memcpy(p + TC_INIT_NONCELEN, pub, TC_INIT_PUBLEN);
	return (int)len;
}

int tc_init2_build(uint8_t *out, size_t cap, uint16_t aead,
                   const uint8_t nonce[TC_INIT_NONCELEN], const uint8_t pub[TC_INIT_PUBLEN])
{
	if (cap < TC_INIT2_LEN)
		return -ENOSPC;
	tc_put_be32(out, TC_INIT2_MAGIC);
	tc_put_be32(out + 4, TC_INIT2_LEN);
	tc_put_be16(out + 8, aead);
	memcpy(out + 10, nonce, TC_INIT_NONCELEN);
	memcpy(out + 10 + TC_INIT_NONCELEN, pub, TC_INIT_PUBLEN);
	return TC_INIT2_LEN;
}

/* The magic is checked byte by byte as it arrives, so a wrong first byte
 * fails at once; M is checked against the fixed part (Init1: which needs
 * K, byte 8) and against maxlen. */
long tc_init_msg_len(uint32_t magic, const uint8_t *buf, size_t have, size_t maxlen)
{
	uint8_t mb[4];
	size_t i, fixed;
	uint32_t m;

	tc_put_be32(mb, magic);
	for (i = 0; i < have && i < 4; i++)
		if (buf[i] != mb[i])
			return -EPROTO;
	if (have < 8)
		return 8;
	m = tc_get_be32(buf + 4);
	if (m > maxlen)
		return -EPROTO;
	if (magic == TC_INIT1_MAGIC) {
		if (m < TC_INIT1_LEN(0))
			return -EPROTO;
		if (have < 9)
			return 9;
		fixed = TC_INIT1_LEN(buf[8]);
	} else {
		fixed = TC_INIT2_LEN;
	}
	if (m < fixed)
		return -EPROTO;
	return (long)m;
}

int tc_init1_parse(const uint8_t *buf, size_t len, struct tc_init1 *out)
{
	if (len < 9 || tc_init_msg_len(TC_INIT1_MAGIC, buf, len, len) != (long)len)
		return -EPROTO;
	out->naeads = buf[8];
	out->aeads = buf + 9;
	out->nonce = buf + 9 + 2 * (size_t)buf[8];
	out->pub = out->nonce + TC_INIT_NONCELEN;
	return 0;
}

int tc_init2_parse(const uint8_t *buf, size_t len, struct tc_init2 *out)
{
	if (len < TC_INIT2_LEN || tc_init_msg_len(TC_INIT2_MAGIC, buf, len, len) != (long)len)
		return -EPROTO;
	out->aead = tc_get_be16(buf + 8);
	out->nonce = buf + 10;
	out->pub = buf + 10 + TC_INIT_NONCELEN;
	return 0;
}

int tc_init1_offers(const struct tc_init1 *m, uint16_t id)
{
	size_t i;

	for (i = 0; i < m->naeads; i++)
		if (tc_get_be16(m->aeads + 2 * i) == id)
			return 1;
	return 0;
}
