/*
 * handler.h - check_shim's signal-handler harness (handler.c): a timer
 * thread sends SIGALRM to the test's main thread while that thread is
 * blocked inside the shim, and the handler runs one call of the test's.
 */
#ifndef TC_TEST_HANDLER_H
#define TC_TEST_HANDLER_H

#include <pthread.h>
#include <signal.h>

/* The handler's one call: returns what the call returned (its errno is
 * recorded as h_err). */
typedef long (*handler_call)(void);

extern volatile sig_atomic_t h_fired;   /* the handler ran */
extern volatile long h_ret;             /* its call's result */
extern volatile int h_err;              /* its call's errno */

/* Arms the handler (SA_RESTART: the interrupted call goes on, as in most
 * programs) and a timer that signals this thread 150 ms from now. */
void handler_arm(handler_call call);
/* Waits for the timer (after the blocked call returned). */
void handler_disarm(void);
/* Waits up to 3 s for the handler to have run; returns h_fired. */
int handler_wait_fired(void);

/* Starts a helper thread with SIGALRM blocked (the signal must go to the
 * main thread, the one blocked inside the shim). */
void start_helper(pthread_t *t, void *(*fn)(void *), void *arg);
/* A helper: once the handler ran, sends handler_wake on the fd *arg
 * (the peer of the connection the main thread is blocked reading).
 * Started after handler_arm(), which clears h_fired. */
void *wake_after_handler(void *arg);
extern const char handler_wake[8];

/* The C library's syscall(), past the shim (this program links the
 * shim's core, whose syscall() routes socket calls through the shim). */
long raw_syscall(long nr, long a, long b, long c, long d, long e, long f);

void sleep_ms(long ms);

#endif
