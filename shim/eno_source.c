/*
 * eno_source.c - the product's ENO source (see eno_source.h): the kernel's
 * eBPF programs through TCPCRYPT_ENO_SOCKOPT; when the kernel does not know
 * that option (ENOPROTOOPT), tcpcryptd's divert backend.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "divert_client.h"
#include "eno_source.h"
#include "guard.h"
#include "libc_syms.h"

static int kernel_opt_in(int fd, const struct tcpcrypt_eno_offer *offer, int *via_divert)
{
	int n;

	*via_divert = 0;
	if (tc_real_setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, offer, sizeof(*offer)) == 0) {
		tc_guard_enrol(fd);   /* guarded once ENO succeeds (guard.h) */
		return 0;
	}
	if (errno != ENOPROTOOPT)
		return -errno;
	n = tc_divert_opt_in(fd, offer);
	*via_divert = n == 0;
	return n;
}

static int kernel_result(int fd, struct tcpcrypt_eno_result *res, socklen_t *len, int *final)
{
	*final = 0;
	if (tc_real_getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, res, len) == 0)
		return 0;
	if (errno != ENOPROTOOPT)
		return -errno;
	*final = 1;                   /* divert backend: ask tcpcryptd */
	return tc_divert_result(fd, res, len);
}

static void kernel_report(int fd, const struct tcpcrypt_eno_report *rep)
{
	if (tc_real_setsockopt(fd, SOL_TCP, TCPCRYPT_ENO_REPORT, rep, sizeof(*rep)) < 0 &&
	    errno == ENOPROTOOPT)
		tc_divert_report(fd, rep);     /* divert backend: tell tcpcryptd */
}

static const struct tc_eno_source kernel_source = { kernel_opt_in, kernel_result, kernel_report };

const struct tc_eno_source *tc_eno_src = &kernel_source;

void tc_eno_source_set(const struct tc_eno_source *src)
{
	tc_eno_src = src ? src : &kernel_source;
}
