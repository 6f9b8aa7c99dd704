/*
 * fuzz_inherit.c - libFuzzer harness for the TCPCRYPT_INHERIT parser
 * (shim/inherit_parse.c): the variable comes from the environment, which
 * whoever starts the program controls.
 *
 * Input: the variable's value (cut at the first NUL), split at commas as
 * tc_exec_adopt does. Checks with abort(): every memfd and fd returned is
 * in 0..TC_INHERIT_FD_MAX; each step moves forward and stays inside the
 * string; an accepted head is "digits:digits:".
 */
/* fuzz-extra: shim/inherit_parse.c -Ishim */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inherit_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void entry(const char *ent)
{
	size_t n = strlen(ent);
	const char *p, *q;
	unsigned long ino;
	long mfd, fd;

	p = tc_inherit_head(ent, &mfd, &ino);
	if (!p)
		return;
	CHECK(mfd >= 0 && mfd <= TC_INHERIT_FD_MAX);
	CHECK(p > ent && p <= ent + n && p[-1] == ':');
	CHECK(ent[0] >= '0' && ent[0] <= '9');
	for (size_t steps = 0; (q = tc_inherit_next_fd(p, &fd)) != NULL; steps++) {
		CHECK(fd >= 0 && fd <= TC_INHERIT_FD_MAX);
		CHECK(q > p && q <= ent + n);
		CHECK(steps <= n);
		p = q;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *save = NULL;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	for (char *ent = strtok_r(s, ",", &save); ent; ent = strtok_r(NULL, ",", &save))
		entry(ent);
	free(s);
	return 0;
}
