/* aead.c - AEAD wrappers by RFC 8548 id, and the AEAD lists and names. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpcrypt/tcpcrypt.h"
#include "aead.h"
#include "session.h"

static int aes_available(void)
{
	static int avail = -1;

	if (avail < 0) {
		if (sodium_init() < 0)
			return 0;
		avail = crypto_aead_aes256gcm_is_available() ? 1 : 0;
	}
	return avail;
}

int tc_aead_supported(uint16_t id)
{
	switch (id) {
	case TCPCRYPT_AEAD_AES_256_GCM:
		return aes_available();
	case TCPCRYPT_AEAD_CHACHA20_POLY1305:
		return 1;
	default:
		return 0;
	}
}

size_t tc_aead_key_len(uint16_t id)
{
	return tc_aead_supported(id) ? TC_AEAD_KEYLEN : 0;
}

int tc_aead_key_set(tc_aead_key *k, uint16_t id, const uint8_t *keymat)
{
	if (!tc_aead_supported(id))
		return -ENOTSUP;
	if (id == TCPCRYPT_AEAD_AES_256_GCM)
		crypto_aead_aes256gcm_beforenm(&k->u.aes, keymat);
	else
		memcpy(k->u.chacha, keymat, TC_AEAD_KEYLEN);
	memcpy(k->nr, keymat + TC_AEAD_KEYLEN, TC_AEAD_NONCELEN);
	k->id = id;
	return 0;
}

void tc_aead_key_wipe(tc_aead_key *k)
{
	sodium_memzero(k, sizeof *k);
}

void tc_aead_seal(const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                  uint8_t *c, uint8_t tag[TC_AEAD_TAGLEN], const uint8_t *m, size_t mlen,
                  const uint8_t *ad, size_t adlen)
{
	if (k->id == TCPCRYPT_AEAD_AES_256_GCM)
		crypto_aead_aes256gcm_encrypt_detached_afternm(c, tag, NULL, m, mlen, ad, adlen,
		                                               NULL, nonce, &k->u.aes);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(c, tag, NULL, m, mlen, ad, adlen,
		                                                   NULL, nonce, k->u.chacha);
}

int tc_aead_open(const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                 uint8_t *m, const uint8_t *c, size_t clen, const uint8_t tag[TC_AEAD_TAGLEN],
                 const uint8_t *ad, size_t adlen)
{
	int r;

	if (k->id == TCPCRYPT_AEAD_AES_256_GCM)
		r = crypto_aead_aes256gcm_decrypt_detached_afternm(m, NULL, c, clen, tag, ad, adlen,
		                                                   nonce, &k->u.aes);
	else if (k->id == TCPCRYPT_AEAD_CHACHA20_POLY1305)
		r = crypto_aead_chacha20poly1305_ietf_decrypt_detached(m, NULL, c, clen, tag, ad, adlen,
		                                                       nonce, k->u.chacha);
	else
		r = -1;
	return r == 0 ? 0 : -EBADMSG;
}

size_t tc_aead_default_list(uint16_t *out, size_t cap)
{
	size_t n = 0;

	if (n < cap && tc_aead_supported(TCPCRYPT_AEAD_AES_256_GCM))
		out[n++] = TCPCRYPT_AEAD_AES_256_GCM;
	if (n < cap)
		out[n++] = TCPCRYPT_AEAD_CHACHA20_POLY1305;
	return n;
}

static const struct {
	const char *name;
	uint16_t id;
} aead_names[] = {
	{ "aes256gcm", TCPCRYPT_AEAD_AES_256_GCM },
	{ "aes-256-gcm", TCPCRYPT_AEAD_AES_256_GCM },
	{ "aes_256_gcm", TCPCRYPT_AEAD_AES_256_GCM },
	{ "chacha20poly1305", TCPCRYPT_AEAD_CHACHA20_POLY1305 },
	{ "chacha20-poly1305", TCPCRYPT_AEAD_CHACHA20_POLY1305 },
	{ "chacha20_poly1305", TCPCRYPT_AEAD_CHACHA20_POLY1305 },
	{ "chacha20", TCPCRYPT_AEAD_CHACHA20_POLY1305 },
	{ "aes128gcm", TCPCRYPT_AEAD_AES_128_GCM },
	{ "aes-128-gcm", TCPCRYPT_AEAD_AES_128_GCM },
	{ "aes_128_gcm", TCPCRYPT_AEAD_AES_128_GCM },
};

/* One list item (not NUL-terminated): a name of aead_names or a 0x id. */
static int parse_one(const char *s, size_t len, uint16_t *id)
{
	char buf[32], *end;
	unsigned long v;
	size_t i;

	if (len == 0 || len >= sizeof buf)
		return -EINVAL;
	for (i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[len] = '\0';
	if (buf[0] == '0' && buf[1] == 'x') {
		if (len == 2)
			return -EINVAL;
		for (i = 2; i < len; i++)
			if (!isxdigit((unsigned char)buf[i]))
				return -EINVAL;
		errno = 0;
		v = strtoul(buf + 2, &end, 16);
		if (errno != 0 || *end != '\0' || v == 0 || v > 0xffff)
			return -EINVAL;
		*id = (uint16_t)v;
		return 0;
	}
	for (i = 0; i < sizeof aead_names / sizeof aead_names[0]; i++) {
		if (strcmp(buf, aead_names[i].name) == 0) {
			*id = aead_names[i].id;
			return 0;
		}
	}
	return -EINVAL;
}

int tc_aead_parse_list(const char *s, uint16_t *out, size_t cap)
{
	size_t n = 0, len;
	uint16_t id;

	if (s == NULL)
		return -EINVAL;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		len = strcspn(s, ", \t");
		if (parse_one(s, len, &id) < 0 || n >= cap)
			return -EINVAL;
		out[n++] = id;
		s += len;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (*s != ',')
			return -EINVAL;
		s++;
	}
	return (int)n;
}

const char *tc_aead_name(uint16_t id)
{
	switch (id) {
	case TCPCRYPT_AEAD_AES_128_GCM:
		return "aes128gcm";
	case TCPCRYPT_AEAD_AES_256_GCM:
		return "aes256gcm";
	case TCPCRYPT_AEAD_CHACHA20_POLY1305:
		return "chacha20poly1305";
	default:
		return "unknown";
	}
}
