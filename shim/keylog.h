/*
 * keylog.h - TCPCRYPT_KEYLOGFILE: session secrets for debugging captures.
 */
#ifndef TC_SHIM_KEYLOG_H
#define TC_SHIM_KEYLOG_H

/* Opens the file named by TCPCRYPT_KEYLOGFILE, if any (constructor). */
void tc_keylog_init(void);
/* 1 when a key log file is open. */
int tc_keylog_enabled(void);
/* No more key log lines from this process (see tc_log_suspend). */
void tc_keylog_suspend(void);
/* The engine's keylog callback: appends line and a newline with one write(2). */
void tc_keylog_line(void *arg, const char *line);

#endif
