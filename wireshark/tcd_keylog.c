/*
 * tcd_keylog.c - see tcd_keylog.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tcd_keylog.h"

/* Exactly 2 * len hex digits at s, ending at a space or NUL. */
static int unhex(uint8_t *out, size_t len, const char *s, const char **end)
{
	size_t got;

	if (sodium_hex2bin(out, len, s, 2 * len, NULL, &got, end) != 0 || got != len)
		return -EINVAL;
	return **end == ' ' || **end == '\0' ? 0 : -EINVAL;
}

int tcd_keylog_parse_line(const char *line, struct tcd_key *k)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#' || strncmp(p, "TCPCRYPT_ES ", 12) == 0)
		return 0;
	if (strncmp(p, "TCPCRYPT_SS ", 12) != 0)
		return -EINVAL;
	p += 12;
	if (unhex(k->sessid, sizeof k->sessid, p, &p) < 0 || *p != ' ')
		return -EINVAL;
	if (unhex(k->ss0, sizeof k->ss0, p + 1, &p) < 0)
		return -EINVAL;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\0' ? 1 : -EINVAL;
}

int tcd_keylog_read(struct tcd_keylog *kl, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	struct tcd_key k, *nk;
	size_t n;
	int r;

	memset(kl, 0, sizeof *kl);
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof line, f) != NULL) {
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		r = tcd_keylog_parse_line(line, &k);
		if (r < 0)
			kl->bad++;
		if (r <= 0)
			continue;
		nk = realloc(kl->keys, (kl->n + 1) * sizeof *nk);
		if (nk == NULL) {
			fclose(f);
			sodium_memzero(&k, sizeof k);
			return -ENOMEM;
		}
		kl->keys = nk;
		kl->keys[kl->n++] = k;
	}
	sodium_memzero(&k, sizeof k);
	sodium_memzero(line, sizeof line);
	fclose(f);
	return 0;
}

void tcd_keylog_free(struct tcd_keylog *kl)
{
	if (kl->keys != NULL)
		sodium_memzero(kl->keys, kl->n * sizeof *kl->keys);
	free(kl->keys);
	memset(kl, 0, sizeof *kl);
}
