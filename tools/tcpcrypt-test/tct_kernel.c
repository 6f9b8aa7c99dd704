/*
 * tct_kernel.c - what this kernel offers tcpcryptd, probed by loading the
 * smallest program of each kind (and asking the verifier about helpers):
 *
 *   essential for the eBPF backend (without them nothing is encrypted):
 *     sock_ops programs, cgroup sockopt programs, the helpers
 *     bpf_reserve_hdr_opt and bpf_loop in sock_ops, a cgroup v2 mount
 *   optional: BPF iterators (tracing programs) for tcnetstat's list
 *   essential for the divert backend: NFQUEUE
 *
 * The kernel may refuse a kind of program even to root (lockdown, an LSM):
 * that is told apart from a kernel that does not have it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "tct_host.h"

/* The iterator tcpcryptd's tc_iter uses (SEC("iter/bpf_sk_storage_map")). */
#define ITER_TARGET "bpf_iter_bpf_sk_storage_map"

/* Loads "r0 = 0; exit" as a program of type t: 1 when the kernel takes it,
 * 0 when it does not know that kind, a negative errno when it refuses. */
static int load_min(enum bpf_prog_type t, enum bpf_attach_type eat, __u32 btf_id)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = eat, .attach_btf_id = btf_id);
	int fd = bpf_prog_load(t, "tct_probe", "GPL", insns, 2, &o);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == EINVAL || errno == E2BIG || errno == ENOTSUP || errno == EOPNOTSUPP ||
	    errno == 524 /* ENOTSUPP, kernel-internal */)
		return 0;
	return -errno;
}

/* The iterator program tcpcryptd loads: 1, 0 (with why in why), -errno. */
static int probe_iter(char *why, size_t cap)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id;

	if (!vmlinux) {
		snprintf(why, cap, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return 0;
	}
	id = btf__find_by_name_kind(vmlinux, ITER_TARGET, BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id <= 0) {
		snprintf(why, cap, "the kernel has no %s iterator", ITER_TARGET + 9);
		return 0;
	}
	snprintf(why, cap, "the kernel does not load tracing programs");
	return load_min(BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, (__u32)id);
}

/* Where cgroup v2 is mounted, from a mountinfo file: 1, or 0. */
static int cgroup2_mount(const char *mountinfo, char *at, size_t cap)
{
	char line[4096], mnt[4096];
	FILE *f = fopen(mountinfo, "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - cgroup2 ");

		/* fields: id parent maj:min root mount-point ... - fstype ... */
		if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(at, cap, "%s", mnt);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* NFQUEUE: 2 loaded, 1 a module or built in (loaded on first use), 0 not
 * found. */
static int nfqueue(void)
{
	static const char *const lists[] = { "modules.builtin", "modules.dep" };
	char path[512], line[1024];
	struct utsname u;
	FILE *f;
	int i, found = 0;

	if (access("/proc/net/netfilter/nfnetlink_queue", F_OK) == 0)
		return 2;
	if (uname(&u) < 0)
		return 0;
	for (i = 0; i < 2 && !found; i++) {
		snprintf(path, sizeof(path), "/lib/modules/%s/%s", u.release, lists[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f))
			found = strstr(line, "nfnetlink_queue.ko") != NULL;
		fclose(f);
	}
	return found;
}

/* What a result of load_min or libbpf_probe_* says, into buf. */
static const char *said(int r, char *buf, size_t cap)
{
	if (r > 0)
		snprintf(buf, cap, "available");
	else if (r == 0)
		snprintf(buf, cap, "not in this kernel");
	else
		snprintf(buf, cap, "refused by the kernel (%s)", strerror(-r));
	return buf;
}

/* One feature the eBPF backend cannot do without. */
static void essential(struct tct_ctx *c, const char *what, int r, const char *how, int nfq)
{
	char s[128];

	if (r > 0) {
		tct_check(c, TCT_OK, what, "%s", how);
	} else if (c->daemon_up && !strcmp(c->backend, "divert")) {
		tct_check(c, TCT_SKIP, what, "%s; not needed, tcpcryptd runs the divert backend",
			  said(r, s, sizeof(s)));
	} else {
		tct_check(c, TCT_FAIL, what, "%s: tcpcryptd's eBPF backend cannot put ENO on the "
			  "handshake, nothing is encrypted%s", said(r, s, sizeof(s)),
			  nfq ? " (the divert backend, tcpcryptd -p QUEUE, can)" : "");
	}
}

/* What the lack of iterators costs, given what the daemon reports. */
static const char *iter_loss(const struct tct_ctx *c)
{
	const char *table = tct_feature_state(c, "sessions_table");

	if (c->daemon_up && c->nfeat && !(table && !strcmp(table, "loaded")))
		return "tcnetstat shows no sessions, the daemon keeps no table either "
		       "(connections are still encrypted)";
	return "tcnetstat lists sessions from the daemon's table instead (no loss)";
}

int tct_check_kernel(struct tct_ctx *c)
{
	char why[128], s[128], at[4096];
	int r, nfq = nfqueue(), failed = c->failed;
	int divert = c->daemon_up && !strcmp(c->backend, "divert");

	libbpf_set_print(NULL);
	r = load_min(BPF_PROG_TYPE_SOCK_OPS, 0, 0);
	if ((r == -EPERM || r == -EACCES) && geteuid() != 0) {
		tct_check(c, TCT_SKIP, "kernel: BPF programs", "probing needs root (run tcpcrypt-test "
			  "as root to see which ones this kernel takes)");
	} else {
		essential(c, "kernel: sock_ops programs (BPF_PROG_TYPE_SOCK_OPS)", r,
			  "loadable: tcpcryptd can see every TCP handshake", nfq);
		essential(c, "kernel: cgroup sockopt programs (BPF_PROG_TYPE_CGROUP_SOCKOPT)",
			  load_min(BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT, 0),
			  "loadable: the shim can opt sockets in and read the result", nfq);
		essential(c, "kernel: helper bpf_reserve_hdr_opt in sock_ops",
			  libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCK_OPS, BPF_FUNC_reserve_hdr_opt, NULL),
			  "available: TCP header options can carry ENO", nfq);
		essential(c, "kernel: helper bpf_loop in sock_ops",
			  libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCK_OPS, BPF_FUNC_loop, NULL),
			  "available: the ENO option can be parsed in the kernel", nfq);
		r = probe_iter(why, sizeof(why));
		if (r > 0)
			tct_check(c, TCT_OK, "kernel: BPF iterators (tracing programs)",
				  "loadable: tcnetstat can list sessions through the iterator");
		else if (divert)
			tct_check(c, TCT_SKIP, "kernel: BPF iterators (tracing programs)",
				  "%s; not needed with the divert backend", r ? said(r, s, sizeof(s)) : why);
		else
			tct_check(c, TCT_WARN, "kernel: BPF iterators (tracing programs)", "%s: %s",
				  r ? said(r, s, sizeof(s)) : why, iter_loss(c));
	}
	if (cgroup2_mount("/proc/self/mountinfo", at, sizeof(at)))
		tct_check(c, TCT_OK, "kernel: cgroup v2", "mounted at %s: tcpcryptd's programs attach "
			  "to a cgroup there", at);
	else if (divert)
		tct_check(c, TCT_SKIP, "kernel: cgroup v2", "not mounted here; not needed with the "
			  "divert backend");
	else if (c->daemon_up && c->cgroup[0])
		tct_check(c, TCT_SKIP, "kernel: cgroup v2", "not mounted in this mount namespace "
			  "(`ip netns exec`?); tcpcryptd serves %s", c->cgroup);
	else if (cgroup2_mount("/proc/1/mountinfo", at, sizeof(at)))
		tct_check(c, TCT_SKIP, "kernel: cgroup v2", "not mounted in this mount namespace "
			  "(`ip netns exec`?); mounted at %s in the host's", at);
	else
		tct_check(c, TCT_FAIL, "kernel: cgroup v2", "not mounted: tcpcryptd's eBPF backend has "
			  "no cgroup to attach to, nothing is encrypted (mount -t cgroup2 none "
			  "/sys/fs/cgroup)");
	if (nfq)
		tct_check(c, TCT_OK, "kernel: NFQUEUE (divert backend)", "%s: tcpcryptd -p QUEUE can run",
			  nfq == 2 ? "loaded" : "available as a module");
	else
		tct_check(c, divert ? TCT_FAIL : TCT_SKIP, "kernel: NFQUEUE (divert backend)",
			  "not found: the divert backend cannot run%s",
			  divert ? ", nothing is encrypted" : " (not needed with the eBPF backend)");
	return c->failed > failed ? -ENOTSUP : 0;
}
