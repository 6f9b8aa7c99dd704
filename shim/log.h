/*
 * log.h - the shim's log: silent unless TCPCRYPT_LOG asks for it.
 * Each line is formatted into a stack buffer and written with one write(2),
 * so logging is safe from any thread and from signal handlers.
 */
#ifndef TC_SHIM_LOG_H
#define TC_SHIM_LOG_H

enum { TC_LOG_NONE = 0, TC_LOG_ERR = 1, TC_LOG_WARN = 2, TC_LOG_INFO = 3, TC_LOG_DEBUG = 4 };

extern int tc_log_level;

/* Opens the destination (TCPCRYPT_LOG_FILE or stderr) for the level. */
void tc_log_init(int level, const char *path);
/* No more log lines from this process (a file size limit would turn any
 * write into SIGXFSZ). */
void tc_log_suspend(void);
void tc_log_write(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define tc_log(lvl, ...) do { \
	if (__builtin_expect(tc_log_level >= (lvl), 0)) \
		tc_log_write((lvl), __func__, __VA_ARGS__); \
} while (0)
#define tc_err(...)   tc_log(TC_LOG_ERR, __VA_ARGS__)
#define tc_warn(...)  tc_log(TC_LOG_WARN, __VA_ARGS__)
#define tc_info(...)  tc_log(TC_LOG_INFO, __VA_ARGS__)
#define tc_debug(...) tc_log(TC_LOG_DEBUG, __VA_ARGS__)

#endif
