/*
 * signals.h - check_shim's signal-handler cases (signals.c).
 */
#ifndef TC_TEST_SIGNALS_H
#define TC_TEST_SIGNALS_H

#include <check.h>

/* Adds the "signals" test case to su, each test started by setup. */
void add_signal_tests(Suite *su, void (*setup)(void));
/* Adds the "signals_fd" test case (signals_fd.c). */
void add_signal_fd_tests(Suite *su, void (*setup)(void));
/* urgent_pair.c: urgent data through the shim. */
void add_urgent_tests(Suite *su, void (*setup)(void));
/* peek_pair.c: recv(MSG_PEEK|MSG_WAITALL) across frames. */
void add_peek_tests(Suite *su, void (*setup)(void));

#endif
