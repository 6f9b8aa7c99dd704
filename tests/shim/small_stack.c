/*
 * small_stack.c - a program whose threads have small stacks, as Firefox's
 * do. glibc carves a preloaded library's static TLS out of every thread's
 * stack, so a shim with a large thread-local buffer makes such threads
 * overflow. Prints "ok" and exits 0 when a thread with a 128 KiB stack can
 * use 100 KiB of it.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *use_stack(void *arg)
{
	volatile char buf[100 * 1024];

	(void)arg;
	memset((char *)buf, 1, sizeof(buf));
	return (void *)(long)buf[sizeof(buf) - 1];
}

int main(void)
{
	pthread_attr_t attr;
	pthread_t t;
	void *ret;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	if (pthread_create(&t, &attr, use_stack, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	pthread_join(t, &ret);
	printf("ok\n");
	return ret == (void *)1L ? 0 : 1;
}
