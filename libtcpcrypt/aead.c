/* aead.c - AEAD wrappers by RFC 8548 id, and the AEAD lists and names. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <sodium.h>

#include "tcpcrypt/tcpcrypt.h"
#include "aead.h"
#include "session.h"

/*
 * libcrypto. The library and the tools link it; the preloaded shim
 * (TC_CRYPTO_DLOPEN) opens it at the first use instead, so that programs
 * that never make a tcpcrypt connection do not pay for mapping and
 * relocating it (about 1 ms at every exec). Either way the ciphers are
 * fetched once, at the first use, from a library context of our own
 * (OSSL_LIB_CTX_new), so that the application's default context (its
 * method store, providers, default properties such as "fips=yes") plays
 * no part in ours. One global effect remains, and OpenSSL 3.0 makes it
 * unavoidable: the first EVP_CipherInit of the process asks the ENGINE
 * table, which runs OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG), i.e.
 * reads the default openssl.cnf once (besides libcrypto's base
 * initialisation: its atexit handler, thread-local keys). That is done
 * here, at the first use (a throw-away context keyed once), so that it
 * happens before a seccomp sandbox (shim/sandbox.c) and never in the
 * middle of a connection. An application that sets up OpenSSL only after
 * its first tcpcrypt connection and asks for a non-default configuration
 * (OPENSSL_INIT_NO_LOAD_CONFIG, another file) gets the default one.
 */
#ifdef TC_CRYPTO_DLOPEN
#include <dlfcn.h>
#define TC_STR2(x) #x
#define TC_STR(x) TC_STR2(x)
#define CRYPTO_SONAME "libcrypto.so." TC_STR(OPENSSL_VERSION_MAJOR)

static struct {
	OSSL_LIB_CTX *(*libctx_new)(void);
	EVP_CIPHER *(*cipher_fetch)(OSSL_LIB_CTX *, const char *, const char *);
	EVP_CIPHER_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_CIPHER_CTX *);
	int (*init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, const unsigned char *,
	            const unsigned char *, int, const OSSL_PARAM *);
	int (*update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
	int (*final)(EVP_CIPHER_CTX *, unsigned char *, int *);
	int (*ctrl)(EVP_CIPHER_CTX *, int, int, void *);
} F;
#define E(name, field) F.field
#else
#define E(name, field) name
#endif

#define EVP_LIBCTX  E(OSSL_LIB_CTX_new, libctx_new)
#define EVP_FETCH   E(EVP_CIPHER_fetch, cipher_fetch)
#define EVP_NEW     E(EVP_CIPHER_CTX_new, ctx_new)
#define EVP_FREE    E(EVP_CIPHER_CTX_free, ctx_free)
#define EVP_INIT    E(EVP_CipherInit_ex2, init)
#define EVP_UPDATE  E(EVP_CipherUpdate, update)
#define EVP_FINAL   E(EVP_CipherFinal_ex, final)
#define EVP_CTRL    E(EVP_CIPHER_CTX_ctrl, ctrl)

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *libctx;
static EVP_CIPHER *cipher_aes128, *cipher_aes256, *cipher_chacha;
static int cpu_aes = -1;

int tc_aead_cpu_has_aes(void)
{
	if (cpu_aes < 0)
		cpu_aes = sodium_init() >= 0 && crypto_aead_aes256gcm_is_available() ? 1 : 0;
	return cpu_aes;
}

static void crypto_load(void)
{
#ifdef TC_CRYPTO_DLOPEN
	void *h = dlopen(CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

	if (h == NULL)
		return;
	*(void **)&F.libctx_new = dlsym(h, "OSSL_LIB_CTX_new");
	*(void **)&F.cipher_fetch = dlsym(h, "EVP_CIPHER_fetch");
	*(void **)&F.ctx_new = dlsym(h, "EVP_CIPHER_CTX_new");
	*(void **)&F.ctx_free = dlsym(h, "EVP_CIPHER_CTX_free");
	*(void **)&F.init = dlsym(h, "EVP_CipherInit_ex2");
	*(void **)&F.update = dlsym(h, "EVP_CipherUpdate");
	*(void **)&F.final = dlsym(h, "EVP_CipherFinal_ex");
	*(void **)&F.ctrl = dlsym(h, "EVP_CIPHER_CTX_ctrl");
	if (!F.libctx_new || !F.cipher_fetch || !F.ctx_new || !F.ctx_free || !F.init || !F.update || !F.final ||
	    !F.ctrl)
		return;
#endif
	libctx = EVP_LIBCTX();
	if (libctx == NULL)
		return;
	if (tc_aead_cpu_has_aes()) {
		cipher_aes128 = EVP_FETCH(libctx, "AES-128-GCM", NULL);
		cipher_aes256 = EVP_FETCH(libctx, "AES-256-GCM", NULL);
	}
	cipher_chacha = EVP_FETCH(libctx, "ChaCha20-Poly1305", NULL);
	/* OpenSSL's one-time global set-up happens at the first cipher init:
	 * now (see above) */
	if (cipher_chacha != NULL) {
		static const uint8_t zero[32];
		EVP_CIPHER_CTX *x = EVP_NEW();

		if (x == NULL || EVP_INIT(x, cipher_chacha, zero, zero, 1, NULL) != 1)
			cipher_aes128 = cipher_aes256 = cipher_chacha = NULL;
		if (x != NULL)
			EVP_FREE(x);
	}
}

/* The EVP cipher of an AEAD id, or NULL when this host cannot use it. */
static const EVP_CIPHER *cipher_of(uint16_t id)
{
	if (pthread_once(&crypto_once, crypto_load) != 0)
		return NULL;
	switch (id) {
	case TCPCRYPT_AEAD_AES_128_GCM:
		return cipher_aes128;
	case TCPCRYPT_AEAD_AES_256_GCM:
		return cipher_aes256;
	case TCPCRYPT_AEAD_CHACHA20_POLY1305:
		return cipher_chacha;
	default:
		return NULL;
	}
}

int tc_aead_supported(uint16_t id)
{
	return cipher_of(id) != NULL;
}

size_t tc_aead_key_len(uint16_t id)
{
	if (!tc_aead_supported(id))
		return 0;
	return id == TCPCRYPT_AEAD_AES_128_GCM ? 16 : 32;
}

int tc_aead_key_set(tc_aead_key *k, uint16_t id, const uint8_t *keymat, uint64_t tag)
{
	size_t kl = tc_aead_key_len(id);

	if (kl == 0)
		return -ENOTSUP;
	memset(k->key, 0, sizeof k->key);
	memcpy(k->key, keymat, kl);
	memcpy(k->nr, keymat + kl, TC_AEAD_NONCELEN);
	k->keylen = (uint8_t)kl;
	k->id = id;
	k->tag = tag ? tag : 1;
	return 0;
}

void tc_aead_key_wipe(tc_aead_key *k)
{
	sodium_memzero(k, sizeof *k);
}

void tc_aead_ctx_free(tc_aead_ctx *x)
{
	if (x == NULL)
		return;
	if (x->evp != NULL)
		EVP_FREE(x->evp);   /* the provider wipes the key schedule it frees */
	memset(x, 0, sizeof *x);
}

/*
 * Makes x ready for one message under k with nonce: the EVP context is
 * made at the first use, and the key loaded only when x does not hold it
 * yet in this direction; otherwise only the nonce is set.
 */
static int ctx_start(tc_aead_ctx *x, const tc_aead_key *k, const uint8_t *nonce, int enc)
{
	const EVP_CIPHER *c = cipher_of(k->id);

	if (c == NULL || k->keylen == 0)
		return -EIO;
	if (x->evp == NULL) {
		x->evp = EVP_NEW();
		if (x->evp == NULL)
			return -ENOMEM;
		x->tag = 0;
	}
	if (x->tag != k->tag || x->id != k->id || x->enc != enc) {
		x->tag = 0;
		if (EVP_INIT(x->evp, c, k->key, nonce, enc, NULL) != 1)
			return -EIO;
		x->tag = k->tag;
		x->id = k->id;
		x->enc = (uint8_t)enc;
		return 0;
	}
	return EVP_INIT(x->evp, NULL, NULL, nonce, enc, NULL) == 1 ? 0 : -EIO;
}

/* EVP takes int lengths; a frame is below 64 KiB, larger inputs are fed in
 * steps anyway. */
static int feed(tc_aead_ctx *x, uint8_t *out, const uint8_t *in, size_t len)
{
	int n;

	while (len > 0) {
		int step = len > (1u << 30) ? 1 << 30 : (int)len;

		if (EVP_UPDATE(x->evp, out, &n, in, step) != 1 || (out != NULL && n != step))
			return -EIO;
		in += step;
		if (out != NULL)
			out += step;
		len -= (size_t)step;
	}
	return 0;
}

int tc_aead_begin(tc_aead_ctx *x, const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                  int enc, const uint8_t *ad, size_t adlen)
{
	int r = ctx_start(x, k, nonce, enc);

	if (r == 0 && adlen > 0)
		r = feed(x, NULL, ad, adlen);
	if (r < 0)
		x->tag = 0;   /* the context's state is unknown: load the key again */
	return r;
}

int tc_aead_update(tc_aead_ctx *x, uint8_t *out, const uint8_t *in, size_t len)
{
	int r = feed(x, out, in, len);

	if (r < 0)
		x->tag = 0;
	return r;
}

int tc_aead_seal_end(tc_aead_ctx *x, uint8_t tag[TC_AEAD_TAGLEN])
{
	uint8_t fin[16];
	int n;

	if (EVP_FINAL(x->evp, fin, &n) != 1 || n != 0 ||
	    EVP_CTRL(x->evp, EVP_CTRL_AEAD_GET_TAG, TC_AEAD_TAGLEN, tag) != 1) {
		x->tag = 0;
		return -EIO;
	}
	return 0;
}

int tc_aead_open_end(tc_aead_ctx *x, const uint8_t tag[TC_AEAD_TAGLEN])
{
	uint8_t t[TC_AEAD_TAGLEN], fin[16];
	int n;

	/* the tag is compared in constant time by the provider */
	memcpy(t, tag, sizeof t);
	if (EVP_CTRL(x->evp, EVP_CTRL_AEAD_SET_TAG, TC_AEAD_TAGLEN, t) != 1) {
		x->tag = 0;
		return -EIO;
	}
	if (EVP_FINAL(x->evp, fin, &n) != 1 || n != 0)
		return -EBADMSG;
	return 0;
}

int tc_aead_sealv(tc_aead_ctx *x, const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                  const uint8_t *ad, size_t adlen, const struct iovec *in, int nin,
                  uint8_t *c, uint8_t tag[TC_AEAD_TAGLEN])
{
	tc_aead_ctx tmp = { 0 };
	size_t off = 0;
	int r, i;

	if (x == NULL)
		x = &tmp;
	r = tc_aead_begin(x, k, nonce, 1, ad, adlen);
	for (i = 0; r == 0 && i < nin; i++) {
		r = tc_aead_update(x, c + off, in[i].iov_base, in[i].iov_len);
		off += in[i].iov_len;
	}
	if (r == 0)
		r = tc_aead_seal_end(x, tag);
	if (x == &tmp)
		tc_aead_ctx_free(&tmp);
	return r;
}

void tc_aead_wipe_iov(const struct iovec *out, int nout)
{
	for (int i = 0; i < nout; i++)
		sodium_memzero(out[i].iov_base, out[i].iov_len);
}

int tc_aead_openv(tc_aead_ctx *x, const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                  const uint8_t *ad, size_t adlen, const uint8_t *c, size_t clen,
                  const uint8_t tag[TC_AEAD_TAGLEN], const struct iovec *out, int nout)
{
	tc_aead_ctx tmp = { 0 };
	uint8_t t[TC_AEAD_TAGLEN];
	size_t off = 0;
	int r, i;

	if (x == NULL)
		x = &tmp;
	memcpy(t, tag, sizeof t);   /* (the tag may sit in an output piece) */
	r = tc_aead_begin(x, k, nonce, 0, ad, adlen);
	for (i = 0; r == 0 && i < nout; i++) {
		if (off + out[i].iov_len > clen) {
			r = -EINVAL;
			break;
		}
		r = tc_aead_update(x, out[i].iov_base, c + off, out[i].iov_len);
		off += out[i].iov_len;
	}
	if (r == 0 && off != clen)
		r = -EINVAL;
	if (r == 0)
		r = tc_aead_open_end(x, t);
	if (r < 0)
		tc_aead_wipe_iov(out, nout);
	if (x == &tmp)
		tc_aead_ctx_free(&tmp);
	return r;
}

int tc_aead_seal(const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                 uint8_t *c, uint8_t tag[TC_AEAD_TAGLEN], const uint8_t *m, size_t mlen,
                 const uint8_t *ad, size_t adlen)
{
	struct iovec v = { (void *)(uintptr_t)m, mlen };

	return tc_aead_sealv(NULL, k, nonce, ad, adlen, &v, 1, c, tag);
}

int tc_aead_open(const tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCELEN],
                 uint8_t *m, const uint8_t *c, size_t clen, const uint8_t tag[TC_AEAD_TAGLEN],
                 const uint8_t *ad, size_t adlen)
{
	struct iovec v = { m, clen };

	return tc_aead_openv(NULL, k, nonce, ad, adlen, c, clen, tag, &v, 1);
}

/* The default offer (A) and preference (B) order: see tcpcrypt(7). */
static const uint16_t default_order[] = {
	TCPCRYPT_AEAD_AES_128_GCM,
	TCPCRYPT_AEAD_AES_256_GCM,
	TCPCRYPT_AEAD_CHACHA20_POLY1305,
};

size_t tc_aead_default_list(uint16_t *out, size_t cap)
{
	size_t n = 0, i;

	for (i = 0; i < sizeof default_order / sizeof default_order[0] && n < cap; i++)
		if (tc_aead_supported(default_order[i]))
			out[n++] = default_order[i];
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
