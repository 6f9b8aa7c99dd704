/*
 * tcpcryptd_guard.c - loads and attaches the optional guard: the
 * cgroup/setsockopt (grants) and cgroup_skb/egress (check) programs of
 * bpf/progs/tcpcrypt_guard.bpf.c, on the cgroup of the ENO programs, over
 * the tc_guard storage that the ENO sock_ops program fills once
 * tc_guard_on is set. Optional like the sessions iterator: a kernel that
 * refuses them leaves connections unguarded and tcpcryptd says so once.
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpcryptd_guard.h"
#include "tcpcryptd_log.h"
#include "tcpcrypt_eno.skel.h"
#include "tcpcrypt_guard.skel.h"

struct guard_prog {
	const char *name;           /* also its pin name */
	enum bpf_attach_type type;
};
static const struct guard_prog gprogs[2] = {
	{ "tc_guard_setsockopt", BPF_CGROUP_SETSOCKOPT },
	{ "tc_guard_egress", BPF_CGROUP_INET_EGRESS },
};

static int gprog_fd(struct tcpcrypt_guard *g, int i)
{
	return bpf_program__fd(i == 0 ? g->progs.tc_guard_setsockopt : g->progs.tc_guard_egress);
}

/* Detaches and unpins program i of an earlier daemon, if any. */
static void drop_old(const char *pin_dir, int cg_fd, int i)
{
	char path[PATH_MAX + 64];
	int old;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, gprogs[i].name);
	old = bpf_obj_get(path);
	if (old < 0)
		return;
	bpf_prog_detach2(old, cg_fd, gprogs[i].type);
	close(old);
	unlink(path);
}

/* Opens, loads (reusing the pinned tc_guard storage), attaches and pins. */
static int load_attach(const char *pin_dir, int cg_fd, struct tcpcrypt_guard **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	LIBBPF_OPTS(bpf_prog_attach_opts, ao, .flags = BPF_F_ALLOW_MULTI);
	char path[PATH_MAX + 64];
	struct tcpcrypt_guard *g;
	int r, i, done = 0;

	*out = NULL;
	g = tcpcrypt_guard__open_opts(&oo);
	if (!g)
		return -errno;
	r = tcpcrypt_guard__load(g);
	for (i = 0; r == 0 && i < 2; i++) {
		drop_old(pin_dir, cg_fd, i);
		if (bpf_prog_attach_opts(gprog_fd(g, i), cg_fd, gprogs[i].type, &ao) < 0) {
			r = -errno;
			break;
		}
		done = i + 1;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, gprogs[i].name);
		bpf_obj_pin(gprog_fd(g, i), path);
	}
	if (r < 0) {
		for (i = 0; i < done; i++)
			drop_old(pin_dir, cg_fd, i);
		tcpcrypt_guard__destroy(g);
		return r;
	}
	*out = g;
	return 0;
}

struct tcpcrypt_guard *tcg_start(struct tcpcrypt_eno *eno, const char *pin_dir, int cg_fd,
                                 int refused, char *state, size_t len)
{
	struct tcpcrypt_guard *g = NULL;
	int r = refused ? -EPERM : load_attach(pin_dir, cg_fd, &g);

	if (r < 0) {
		snprintf(state, len, "refused %s", strerror(-r));
		tclog(LOG_WARNING, "optional feature guard (egress check on negotiated sockets) "
		      "refused by the kernel: %s; a write that bypasses the shim (io_uring, raw "
		      "system calls) is not stopped", strerror(-r));
		tclog_libbpf_dump_at(LOG_DEBUG, 8);
		return NULL;
	}
	eno->bss->tc_guard_on = 1;
	snprintf(state, len, "loaded");
	return g;
}

void tcg_stop(struct tcpcrypt_guard *g, struct tcpcrypt_eno *eno, int cg_fd)
{
	int i;

	if (!g)
		return;
	if (eno)
		eno->bss->tc_guard_on = 0;
	for (i = 0; i < 2; i++)
		if (bpf_prog_detach2(gprog_fd(g, i), cg_fd, gprogs[i].type) < 0 && errno != ENOENT)
			tclog(LOG_WARNING, "cannot detach %s: %s", gprogs[i].name, strerror(errno));
	tcpcrypt_guard__destroy(g);
}
