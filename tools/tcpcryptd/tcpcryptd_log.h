/* tcpcryptd_log.h - the daemon's logging: stderr (default) or syslog. */
#ifndef TCPCRYPTD_LOG_H
#define TCPCRYPTD_LOG_H

#include <syslog.h>

/* verbosity: 0 = errors and notices, 1 = info, 2+ = debug. */
void tclog_init(const char *ident, int verbosity, int use_syslog);
int tclog_verbosity(void);
void tclog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keeps the last lines libbpf printed (the verifier log on a failed
 * load) and prints them on demand. */
void tclog_libbpf_capture(void);
void tclog_libbpf_dump(int max_lines);
void tclog_libbpf_dump_at(int prio, int max_lines);

#endif
