/*
 * log.c - see log.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "libc_syms.h"
#include "log.h"
#include "shim.h"
#include "state.h"

void tc_log_init(int level, const char *path)
{
	tc_log_level = level;
	if (level <= TC_LOG_NONE)
		return;
	if (path && *path) {
		tc_log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (tc_log_fd < 0)
			tc_log_level = TC_LOG_NONE; /* never fall back to the application's stderr */
		else
			tc_own_fd_add(&tc_log_fd);
	} else {
		tc_log_fd = STDERR_FILENO;
	}
}

void tc_log_suspend(void)
{
	__atomic_store_n(&tc_log_fd, -1, __ATOMIC_RELAXED);
}

static const char *const level_names[] = { "", "error", "warning", "info", "debug" };

void tc_log_write(int level, const char *func, const char *fmt, ...)
{
	char buf[512];
	int saved = errno, n, m;
	va_list ap;

	if (tc_log_fd < 0)
		return;
	if (tc_log_level >= TC_LOG_DEBUG && func)
		n = snprintf(buf, sizeof(buf), "tcpcrypt[%d]: %s: %s: ", (int)getpid(),
		             level_names[level < 0 || level > 4 ? 0 : level], func);
	else
		n = snprintf(buf, sizeof(buf), "tcpcrypt[%d]: %s: ", (int)getpid(),
		             level_names[level < 0 || level > 4 ? 0 : level]);
	if (n < 0)
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	buf[n++] = '\n';
	(void)tc_real_write(tc_log_fd, buf, (size_t)n);
	errno = saved;
}
