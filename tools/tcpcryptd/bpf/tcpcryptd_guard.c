/*
 * tcpcryptd_guard.c - loads and attaches the optional guard: the sk_msg
 * program of bpf/progs/tcpcrypt_guard.bpf.c on the sockhash
 * tc_guard_socks, which the ENO sock_ops program fills with negotiated
 * sockets once tc_guard_on is set. Optional like the sessions iterator:
 * a kernel that refuses sk_msg programs or sockhash maps leaves the
 * connections unguarded and tcpcryptd says so once.
 */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpcryptd_guard.h"
#include "tcpcryptd_log.h"
#include "tcpcrypt_eno.skel.h"
#include "tcpcrypt_guard.skel.h"

/* Opens, loads (reusing the pinned tc_guard storage) and attaches. */
static int load_attach(struct tcpcrypt_eno *eno, const char *pin_dir, struct tcpcrypt_guard **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	struct tcpcrypt_guard *g;
	int r;

	*out = NULL;
	g = tcpcrypt_guard__open_opts(&oo);
	if (!g)
		return -errno;
	r = tcpcrypt_guard__load(g);
	if (r == 0 && bpf_prog_attach(bpf_program__fd(g->progs.tc_guard_msg),
				      bpf_map__fd(eno->maps.tc_guard_socks), BPF_SK_MSG_VERDICT, 0) < 0)
		r = -errno;
	if (r < 0) {
		tcpcrypt_guard__destroy(g);
		return r;
	}
	*out = g;
	return 0;
}

struct tcpcrypt_guard *tcg_start(struct tcpcrypt_eno *eno, const char *pin_dir, int refused,
                                 char *state, size_t len)
{
	struct tcpcrypt_guard *g = NULL;
	int r = refused ? -EPERM : load_attach(eno, pin_dir, &g);

	if (r < 0) {
		snprintf(state, len, "refused %s", strerror(-r));
		tclog(LOG_WARNING, "optional feature guard (sk_msg on negotiated sockets) refused "
		      "by the kernel: %s; a write that bypasses the shim (io_uring, raw system "
		      "calls) is not stopped", strerror(-r));
		tclog_libbpf_dump_at(LOG_DEBUG, 8);
		return NULL;
	}
	eno->bss->tc_guard_on = 1;
	snprintf(state, len, "loaded");
	return g;
}

void tcg_stop(struct tcpcrypt_guard *g, struct tcpcrypt_eno *eno)
{
	if (!g)
		return;
	if (eno)
		eno->bss->tc_guard_on = 0;
	if (eno && bpf_prog_detach2(bpf_program__fd(g->progs.tc_guard_msg),
				    bpf_map__fd(eno->maps.tc_guard_socks), BPF_SK_MSG_VERDICT) < 0)
		tclog(LOG_WARNING, "cannot detach the guard: %s", strerror(errno));
	tcpcrypt_guard__destroy(g);
}
