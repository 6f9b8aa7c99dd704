/*
 * guard.c - grants to the eBPF guard. On the eBPF backend, tcpcryptd puts
 * every negotiated socket into a sockhash whose sk_msg program drops any
 * write beyond the socket's allowance (tools/tcpcryptd/bpf/progs/
 * tcpcrypt_guard.bpf.c). The shim sets that allowance, through the cgroup
 * setsockopt hook (TCPCRYPT_GUARD_GRANT, never seen by the kernel's TCP),
 * to the size of each write of sealed bytes just before making it. A write
 * that bypasses the shim (io_uring, raw system calls) then finds no
 * allowance and fails with EACCES instead of going out in clear.
 * Without the guard (divert backend, kernel refused it, socket not
 * negotiated) the call fails with ENOPROTOOPT or ENOENT: ignored.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>

#include "guard.h"
#include "libc_syms.h"
#include "tcpcrypt/eno_abi.h"

/* Sets fd's allowance to v (replaces, never adds); errno untouched. */
static void set_allowance(int fd, __u64 v)
{
	int saved = errno;

	tc_real_setsockopt(fd, IPPROTO_TCP, TCPCRYPT_GUARD_GRANT, &v, sizeof(v));
	errno = saved;
}

void tc_guard_grant(int fd, size_t n)
{
	set_allowance(fd, n);
}

void tc_guard_open(int fd)
{
	set_allowance(fd, UINT64_MAX);
}
