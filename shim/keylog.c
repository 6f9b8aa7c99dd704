/*
 * keylog.c - see keylog.h. The file is opened O_APPEND|O_CREAT|O_CLOEXEC
 * with mode 0600; each line is one write(2), so concurrent processes
 * appending to the same file never interleave inside a line.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keylog.h"
#include "libc_syms.h"
#include "log.h"
#include "shim.h"
#include "state.h"

void tc_keylog_init(void)
{
	const char *path = secure_getenv("TCPCRYPT_KEYLOGFILE");

	if (!path || !*path)
		return;
	tc_keylog_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (tc_keylog_fd < 0)
		tc_err("TCPCRYPT_KEYLOGFILE: cannot open %s", path);
	else
		tc_own_fd_add(&tc_keylog_fd);
}

void tc_keylog_suspend(void)
{
	__atomic_store_n(&tc_keylog_fd, -1, __ATOMIC_RELAXED);
}

int tc_keylog_enabled(void)
{
	return tc_keylog_fd >= 0;
}

void tc_keylog_line(void *arg, const char *line)
{
	char buf[512];
	size_t n = strlen(line);

	(void)arg;
	if (tc_keylog_fd < 0 || n + 1 > sizeof(buf))
		return;
	memcpy(buf, line, n);
	buf[n++] = '\n';
	(void)tc_real_write(tc_keylog_fd, buf, n);
	sodium_memzero(buf, sizeof(buf));
}
