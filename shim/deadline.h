/*
 * deadline.h - the time left until a CLOCK_MONOTONIC deadline. The
 * readiness wrappers (poll.c, select.c, epoll.c) wait again after hiding
 * an event that only an Init message caused; the application's timeout
 * must still end when it would have.
 */
#ifndef TC_SHIM_DEADLINE_H
#define TC_SHIM_DEADLINE_H

#include <time.h>

/* *end = now + t. */
static inline void tc_deadline_start(struct timespec *end, const struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, end);
	end->tv_sec += t->tv_sec;
	end->tv_nsec += t->tv_nsec;
	if (end->tv_nsec >= 1000000000L) {
		end->tv_sec++;
		end->tv_nsec -= 1000000000L;
	}
}

/* Sets *left to the time until end; returns 0 once the deadline passed. */
static inline int tc_deadline_left(const struct timespec *end, struct timespec *left)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left->tv_sec = end->tv_sec - now.tv_sec;
	left->tv_nsec = end->tv_nsec - now.tv_nsec;
	if (left->tv_nsec < 0) {
		left->tv_sec--;
		left->tv_nsec += 1000000000L;
	}
	return left->tv_sec >= 0;
}

#endif
