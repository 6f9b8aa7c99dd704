/*
 * handler.c - see handler.h.
 */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "handler.h"
#include "pair.h"

const char handler_wake[8] = "wake up";

volatile sig_atomic_t h_fired;
volatile long h_ret;
volatile int h_err;

static handler_call h_call;
static pthread_t main_thread, timer_thread;

/* The timer's handler: the test's one call. */
static void on_alarm(int sig)
{
	int saved = errno;

	(void)sig;
	h_ret = h_call();
	h_err = errno;
	__atomic_store_n(&h_fired, 1, __ATOMIC_RELEASE);
	errno = saved;
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The timer: SIGALRM to the main thread 150 ms from now (aimed at it: a
 * process-wide timer's signal may go to any thread that does not block
 * it, under valgrind too). */
static void *fire_later(void *arg)
{
	(void)arg;
	sleep_ms(150);
	pthread_kill(main_thread, SIGALRM);
	return NULL;
}

void handler_arm(handler_call call)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	h_call = call;
	h_fired = 0;
	h_ret = -2;
	h_err = 0;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	main_thread = pthread_self();
	ck_assert_int_eq(pthread_create(&timer_thread, NULL, fire_later, NULL), 0);
}

void handler_disarm(void)
{
	pthread_join(timer_thread, NULL);
}

int handler_wait_fired(void)
{
	for (int i = 0; i < 300 && !__atomic_load_n(&h_fired, __ATOMIC_ACQUIRE); i++)
		sleep_ms(10);
	return h_fired;
}

void start_helper(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	ck_assert_int_eq(pthread_create(t, NULL, fn, arg), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void *wake_after_handler(void *arg)
{
	int peer = *(int *)arg;

	if (handler_wait_fired())
		sleep_ms(50);
	send_all(peer, handler_wake, sizeof(handler_wake));
	return NULL;
}

long raw_syscall(long nr, long a, long b, long c, long d, long e, long f)
{
	long (*fn)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");

	if (!fn) {
		errno = ENOSYS;
		return -1;
	}
	return fn(nr, a, b, c, d, e, f);
}
