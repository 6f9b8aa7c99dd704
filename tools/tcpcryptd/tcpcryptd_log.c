/* tcpcryptd_log.c - logging to stderr or syslog, and libbpf's output. */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "tcpcryptd_log.h"

static int log_verbosity;
static int log_syslog;
static const char *log_ident = "tcpcryptd";

#define RING_LINES 40
#define RING_WIDTH 200
static char ring[RING_LINES][RING_WIDTH];
static unsigned ring_next;
static char partial[RING_WIDTH];

void tclog_init(const char *ident, int verbosity, int use_syslog)
{
	log_ident = ident;
	log_verbosity = verbosity;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

int tclog_verbosity(void)
{
	return log_verbosity;
}

static int wanted(int prio)
{
	if (prio <= LOG_NOTICE)
		return 1;
	if (prio == LOG_INFO)
		return log_verbosity >= 1;
	return log_verbosity >= 2;
}

void tclog(int prio, const char *fmt, ...)
{
	va_list ap;

	if (!wanted(prio))
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		fprintf(stderr, "%s: ", log_ident);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* libbpf print callback: every line goes to the ring, debug output also
 * to the log when -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024], *line, *nl;
	size_t have, add;
	int n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return n;
	line = buf;
	while (*line) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		/* append what fits (a longer line is cut); memcpy, not strncat,
		 * which -D_FORTIFY_SOURCE=2 warns about for the intended cut */
		have = strlen(partial);
		add = strlen(line);
		if (add > sizeof(partial) - 1 - have)
			add = sizeof(partial) - 1 - have;
		memcpy(partial + have, line, add);
		partial[have + add] = '\0';
		if (!nl)
			break;
		memcpy(ring[ring_next % RING_LINES], partial, RING_WIDTH);
		ring_next++;
		if (log_verbosity >= 3 || (level == LIBBPF_WARN && log_verbosity >= 2))
			tclog(LOG_DEBUG, "libbpf: %s", partial);
		partial[0] = '\0';
		line = nl + 1;
	}
	return n;
}

void tclog_libbpf_capture(void)
{
	libbpf_set_print(libbpf_print);
}

void tclog_libbpf_dump(int max_lines)
{
	tclog_libbpf_dump_at(LOG_ERR, max_lines);
}

void tclog_libbpf_dump_at(int prio, int max_lines)
{
	unsigned start, i;

	if (max_lines > RING_LINES)
		max_lines = RING_LINES;
	start = ring_next > (unsigned)max_lines ? ring_next - max_lines : 0;
	for (i = start; i < ring_next; i++)
		tclog(prio, "  %s", ring[i % RING_LINES]);
}
