/*
 * cloexec_bits.c - see cloexec_bits.h.
 */
#include "config.h"

#include <pthread.h>

#include "cloexec_bits.h"
#include "state.h"

#define NBITS  TC_CLOEXEC_NBITS          /* the fd table's reach (tc_fd_limit) */
#define WBITS  (8 * (int)sizeof(unsigned long))

#define hidden tc_cloexec_bits

void tc_cloexec_bit_set(int fd, int on)
{
	unsigned long m;

	if (fd < 0 || fd >= NBITS)
		return;
	m = 1UL << (fd % WBITS);
	if (on)
		__atomic_fetch_or(&hidden[fd / WBITS], m, __ATOMIC_RELAXED);
	else if (__atomic_load_n(&hidden[fd / WBITS], __ATOMIC_RELAXED) & m)
		__atomic_fetch_and(&hidden[fd / WBITS], ~m, __ATOMIC_RELAXED);
}

int tc_cloexec_hidden(int fd)
{
	if (fd < 0 || fd >= NBITS)
		return 0;
	return (int)((__atomic_load_n(&hidden[fd / WBITS], __ATOMIC_RELAXED) >> (fd % WBITS)) & 1);
}

void tc_cloexec_forget(int fd)
{
	tc_cloexec_bit_set(fd, 0);
}

void tc_cloexec_app_set_range(unsigned int lo, unsigned int hi)
{
	for (unsigned int fd = lo; fd <= hi && fd < NBITS; fd++) {
		if (fd % WBITS == 0 && !__atomic_load_n(&hidden[fd / WBITS], __ATOMIC_RELAXED)) {
			fd += WBITS - 1;  /* a word without bits */
			continue;
		}
		tc_cloexec_bit_set((int)fd, 0);
	}
}
