/*
 * inherit_parse.c - TCPCRYPT_INHERIT syntax (see inherit_parse.h).
 */
#include "config.h"

#include <stdlib.h>

#include "inherit_parse.h"

/* A decimal number at p, ending at *end; -1 if there is none. */
static long number(const char *p, char **end)
{
	long v;

	if (*p < '0' || *p > '9') {     /* no sign, no space: only digits */
		*end = (char *)p;
		return -1;
	}
	v = strtol(p, end, 10);
	return v > TC_INHERIT_FD_MAX ? -1 : v;
}

const char *tc_inherit_head(const char *ent, long *mfd, unsigned long *ino)
{
	char *end;

	*mfd = number(ent, &end);
	if (*mfd < 0 || *end != ':')
		return NULL;
	if (end[1] < '0' || end[1] > '9')
		return NULL;
	*ino = strtoul(end + 1, &end, 10);
	if (*end != ':')
		return NULL;
	return end + 1;
}

const char *tc_inherit_next_fd(const char *p, long *fd)
{
	char *end;

	*fd = number(p, &end);
	if (*fd < 0)
		return NULL;
	return *end == '.' ? end + 1 : end;
}
