/*
 * tcpcryptd_bpf.c - the eBPF backend of tcpcryptd.
 *
 * Programs are attached with bpf_prog_attach(BPF_F_ALLOW_MULTI), not with
 * bpf_link, and pinned together with the maps, so a daemon that dies
 * leaves the handshake machinery running. A new daemon on the same pin dir
 * reuses the pinned maps (libbpf pins them by name), so connections in
 * flight keep their state, and swaps its programs in atomically with
 * BPF_F_REPLACE.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpcryptd_bpf.h"
#include "tcpcryptd_log.h"
#include "tc_session_fmt.h"
#include "tcpcrypt_eno.skel.h"
#include "tcpcrypt_iter.skel.h"
#include "tcpcryptd_guard.h"
#include "tcpcrypt_guard.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

struct tc_backend {
	struct tcpcrypt_eno *skel;
	int cg_fd;                 /* cgroup dir, flock'ed */
	int pin_fd;                /* pin dir, flock'ed */
	char pin_dir[PATH_MAX];
	char cgroup[PATH_MAX];
	int attached[3];
	struct tcpcrypt_iter *iskel; /* optional: the sessions iterator */
	struct bpf_link *iter;     /* tc_sessions, or NULL */
	int use_table;             /* the sock_ops program keeps tc_sessions_tab */
	int late_listen;           /* listeners may opt in after listen() */
	char iter_state[160];      /* "loaded" or "refused REASON" */
	struct tcpcrypt_guard *guard; /* optional: the guard, or NULL */
	char guard_state[160];     /* "loaded" or "refused REASON" */
};

struct prog_desc {
	const char *name;
	enum bpf_attach_type type;
};
static const struct prog_desc progs[3] = {
	{ "tc_sockops", BPF_CGROUP_SOCK_OPS },
	{ "tc_setsockopt", BPF_CGROUP_SETSOCKOPT },
	{ "tc_getsockopt", BPF_CGROUP_GETSOCKOPT },
};

static int prog_fd_of(struct tc_backend *b, int i)
{
	struct bpf_program *p[3] = { b->skel->progs.tc_sockops, b->skel->progs.tc_setsockopt,
				     b->skel->progs.tc_getsockopt };
	return bpf_program__fd(p[i]);
}

/* Is statfs(path) of the given filesystem type? */
static int fs_is(const char *path, unsigned long magic)
{
	struct statfs st;

	if (statfs(path, &st) < 0)
		return -errno;
	return (unsigned long)st.f_type == magic;
}

int tcb_ensure_bpffs(const char *path)
{
	size_t n = strlen(TCPCRYPTD_BPFFS);
	int fd, r;

	if (strncmp(path, TCPCRYPTD_BPFFS, n) || (path[n] != '/' && path[n] != '\0'))
		return 0;                 /* the caller chose another place */
	if (fs_is(TCPCRYPTD_BPFFS, BPF_FS_MAGIC) == 1)
		return 0;
	/* serialise against other daemons starting at the same time: lock
	 * the directory, check again, then mount */
	fd = open(TCPCRYPTD_BPFFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	flock(fd, LOCK_EX);
	r = 0;
	if (fs_is(TCPCRYPTD_BPFFS, BPF_FS_MAGIC) != 1) {
		if (mount("bpf", TCPCRYPTD_BPFFS, "bpf", 0, "mode=0700") < 0)
			r = -errno;
		else
			tclog(LOG_NOTICE, "mounted bpffs at %s", TCPCRYPTD_BPFFS);
	}
	flock(fd, LOCK_UN);
	close(fd);
	return r;
}

int tcb_find_cgroup2(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], dir[PATH_MAX], type[64];
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2") && strlen(dir) < len) {
			strcpy(buf, dir);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX], *p;

	if (strlen(path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* pid of the daemon recorded in a pinned tc_owner map, or 0. */
static unsigned owner_pid(const char *pin_dir)
{
	char path[PATH_MAX + 256];
	struct tc_owner o;
	__u32 k = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, TC_MAP_OWNER);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &k, &o))
		o.pid = 0;
	close(fd);
	return o.pid;
}

/* Takes an exclusive, non-blocking flock on a directory. */
static int lock_dir(const char *path, const char *what, const char *pin_dir, int *fdp)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned pid;

	if (fd < 0) {
		tclog(LOG_ERR, "cannot open %s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		pid = owner_pid(pin_dir);
		if (e == EWOULDBLOCK)
			tclog(LOG_ERR, "another tcpcryptd%s%.0u%s already uses %s %s; not starting",
			      pid ? " (pid " : "", pid, pid ? ")" : "", what, path);
		else
			tclog(LOG_ERR, "cannot lock %s %s: %s", what, path, strerror(e));
		close(fd);
		return -EBUSY;
	}
	*fdp = fd;
	return 0;
}

/* Removes every entry of the pin dir (our programs and maps). */
static void unpin_all(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX + 256];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0)
			tclog(LOG_WARNING, "cannot unpin %s: %s", path, strerror(errno));
	}
	closedir(d);
}

/* Name and id of a program fd. */
static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

/* Attaches program i to the cgroup: replaces our pinned program from an
 * earlier daemon if it is attached, detaches leftovers of ours that were
 * attached but never pinned, then pins the new one. */
static int attach_one(struct tc_backend *b, int i)
{
	const struct prog_desc *pd = &progs[i];
	LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI);
	char path[PATH_MAX + 256];
	__u32 ids[64], cnt = 64, aflags = 0, k;
	struct bpf_prog_info info, old_info;
	int fd = prog_fd_of(b, i), old = -1, r, replaced = 0;

	snprintf(path, sizeof(path), "%s/%s", b->pin_dir, pd->name);
	if (bpf_prog_query(b->cg_fd, pd->type, 0, &aflags, ids, &cnt) < 0)
		cnt = 0;
	old = bpf_obj_get(path);
	if (old >= 0 && prog_info(old, &old_info) == 0) {
		for (k = 0; k < cnt; k++)
			if (ids[k] == old_info.id)
				break;
		if (k < cnt) {
			opts.flags |= BPF_F_REPLACE;
			opts.replace_prog_fd = old;
			replaced = 1;
		}
	}
	r = bpf_prog_attach_opts(fd, b->cg_fd, pd->type, &opts);
	if (r < 0) {
		r = -errno;
		tclog(LOG_ERR, "cannot attach %s to %s: %s", pd->name, b->cgroup, strerror(-r));
		if (old >= 0)
			close(old);
		return r;
	}
	b->attached[i] = 1;
	if (replaced)
		tclog(LOG_NOTICE, "replaced %s (id %u) left by an earlier tcpcryptd", pd->name,
		      old_info.id);
	/* leftovers: our programs attached here but no longer pinned */
	prog_info(fd, &info);
	for (k = 0; k < cnt; k++) {
		struct bpf_prog_info li;
		int lfd;

		if (ids[k] == info.id || (replaced && ids[k] == old_info.id))
			continue;
		lfd = bpf_prog_get_fd_by_id(ids[k]);
		if (lfd < 0)
			continue;
		if (prog_info(lfd, &li) == 0 && !strcmp(li.name, pd->name)) {
			if (bpf_prog_detach2(lfd, b->cg_fd, pd->type) == 0)
				tclog(LOG_NOTICE, "detached stale %s (id %u)", pd->name, ids[k]);
		}
		close(lfd);
	}
	if (old >= 0) {
		close(old);
		unlink(path);
	}
	if (bpf_obj_pin(fd, path) < 0) {
		r = -errno;
		tclog(LOG_ERR, "cannot pin %s: %s", path, strerror(-r));
		return r;
	}
	return 0;
}

/* Refuses to stack on an ancestor's ENO programs: both would run for the
 * same sockets. Returns 0 or -EEXIST (logged). */
static int check_ancestors(struct tc_backend *b)
{
	__u32 eff[64], own[64], ne = 64, no = 64, f = 0, i, j;
	struct bpf_prog_info info;
	int fd, r = 0;

	if (bpf_prog_query(b->cg_fd, BPF_CGROUP_SOCK_OPS, BPF_F_QUERY_EFFECTIVE, &f, eff, &ne) < 0)
		return 0;
	if (bpf_prog_query(b->cg_fd, BPF_CGROUP_SOCK_OPS, 0, &f, own, &no) < 0)
		no = 0;
	for (i = 0; i < ne && !r; i++) {
		for (j = 0; j < no; j++)
			if (own[j] == eff[i])
				break;
		if (j < no)
			continue;         /* attached here: a stale one, replaced later */
		fd = bpf_prog_get_fd_by_id(eff[i]);
		if (fd < 0)
			continue;
		if (prog_info(fd, &info) == 0 && !strcmp(info.name, progs[0].name)) {
			tclog(LOG_ERR, "ENO programs (prog id %u) already run for %s from an ancestor "
			      "cgroup; a second set would write ENO twice; not starting", eff[i],
			      b->cgroup);
			r = -EEXIST;
		}
		close(fd);
	}
	return r;
}

/* One-line diagnosis of a kernel without what the programs need. */
static int check_kernel(void)
{
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCKOPT, NULL) != 1) {
		tclog(LOG_ERR, "this kernel has no cgroup sockopt hooks (Linux >= 5.3 with "
		      "CONFIG_CGROUP_BPF); the eBPF backend cannot work");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCK_OPS, BPF_FUNC_reserve_hdr_opt, NULL) != 1 ||
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCK_OPS, BPF_FUNC_loop, NULL) != 1) {
		tclog(LOG_ERR, "this kernel lacks BPF TCP header options or bpf_loop (Linux >= 5.17 "
		      "needed); the eBPF backend cannot work");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Does the test-only switch TCPCRYPTD_TEST_REFUSE (a comma-separated list
 * of feature names) say to treat this feature as refused by the kernel?
 * The loader then takes the very path it takes when the kernel answers
 * EPERM, which is what kernels that forbid tracing programs do. */
static int test_refused(const char *feature)
{
	const char *v = getenv("TCPCRYPTD_TEST_REFUSE"), *p;
	size_t n = strlen(feature);

	for (p = v; p && *p; p += strcspn(p, ","), p += *p == ',') {
		if (!strncmp(p, feature, n) && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* Loads the sessions iterator (a tracing program, which many kernels
 * refuse even to root) over the pinned tc_sk map, attaches and pins it,
 * replacing the pin of an earlier daemon. */
static int load_iter(struct tc_backend *b)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = b->pin_dir);
	LIBBPF_OPTS(bpf_iter_attach_opts, io);
	union bpf_iter_link_info li;
	char path[PATH_MAX + 256];
	int r;

	if (test_refused("sessions_iter"))
		return -EPERM;
	b->iskel = tcpcrypt_iter__open_opts(&oo);
	if (!b->iskel)
		return -errno;
	r = tcpcrypt_iter__load(b->iskel);
	if (r < 0)
		return r;
	memset(&li, 0, sizeof(li));
	li.map.map_fd = bpf_map__fd(b->skel->maps.tc_sk);
	io.link_info = &li;
	io.link_info_len = sizeof(li);
	b->iter = bpf_program__attach_iter(b->iskel->progs.tc_iter, &io);
	if (!b->iter)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", b->pin_dir, TC_ITER_SESSIONS);
	unlink(path);
	return bpf_link__pin(b->iter, path);
}

/* The optional sessions listing: the iterator when the kernel allows it,
 * else the sessions table kept by the sock_ops program. Never fails: a
 * refusal is logged once, with what it costs the user. Runs before the
 * programs are attached, so no connection is missed by either. */
static void start_listing(struct tc_backend *b)
{
	char path[PATH_MAX + 256];
	int r = load_iter(b);

	if (r == 0) {
		snprintf(b->iter_state, sizeof(b->iter_state), "loaded");
		return;
	}
	if (b->iter) {
		bpf_link__destroy(b->iter);
		b->iter = NULL;
	}
	tcpcrypt_iter__destroy(b->iskel);
	b->iskel = NULL;
	snprintf(path, sizeof(path), "%s/%s", b->pin_dir, TC_ITER_SESSIONS);
	unlink(path);             /* an earlier daemon's iterator */
	snprintf(b->iter_state, sizeof(b->iter_state), "refused %s", strerror(-r));
	if (test_refused("sessions_table")) {
		/* for benchmarks: what the table costs a connection */
		tclog(LOG_WARNING, "optional features sessions_iter and sessions_table refused "
		      "(%s): tcnetstat lists no sessions", strerror(-r));
		return;
	}
	b->skel->bss->tc_use_table = 1;
	b->use_table = 1;
	tclog(LOG_WARNING, "optional feature sessions_iter (BPF iterator, a tracing program) "
	      "refused by the kernel: %s; tcnetstat lists sessions from the sessions table "
	      "instead (one map update per connection)", strerror(-r));
	tclog_libbpf_dump_at(LOG_DEBUG, 8);
}

/* Unpins each pinned map of the object that another version of the
 * programs left with another shape (type, key or value size, entries,
 * flags), e.g. tc_listen before its key held the address: libbpf would
 * refuse to reuse it, and the retry in load() would drop every pin, the
 * state of connections in flight with them. The maps that fit are kept. */
static void drop_unfit_pins(struct bpf_object *obj)
{
	struct bpf_map_info info;
	struct bpf_map *m;
	__u32 len;
	int fd;

	bpf_object__for_each_map(m, obj) {
		const char *path = bpf_map__pin_path(m);

		if (!path)
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) ||
		     info.value_size != bpf_map__value_size(m) ||
		     info.max_entries != bpf_map__max_entries(m) ||
		     info.map_flags != bpf_map__map_flags(m))) {
			if (unlink(path) == 0)
				tclog(LOG_NOTICE, "pinned map %s has another layout (an older tcpcryptd); "
				      "replaced by a fresh one", path);
			else
				tclog(LOG_WARNING, "cannot unpin %s: %s", path, strerror(errno));
		}
		close(fd);
	}
}

/* Opens and loads the object, reusing pinned maps; retries once with
 * fresh maps if the pinned ones do not fit this program version. */
static int load(struct tc_backend *b)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = b->pin_dir);
	int r, attempt, late = 1;

	for (attempt = 0; attempt < 2; attempt++) {
		b->skel = tcpcrypt_eno__open_opts(&oo);
		if (!b->skel) {
			r = -errno;
			tclog(LOG_ERR, "cannot open the BPF object: %s", strerror(-r));
			return r;
		}
		b->skel->rodata->tc_late_listen = late;
		drop_unfit_pins(b->skel->obj);
		r = test_refused("eno") || (late && test_refused("late_listen")) ? -EPERM
										    : tcpcrypt_eno__load(b->skel);
		if (r == 0) {
			b->late_listen = late;
			if (!late)
				tclog(LOG_WARNING, "this kernel refuses bpf_setsockopt in sockopt "
				      "hooks: listeners started before tcpcryptd stay plain");
			return 0;
		}
		tcpcrypt_eno__destroy(b->skel);
		b->skel = NULL;
		if (late && !test_refused("eno")) {
			late = 0;       /* again without the late-listener code */
			attempt--;
			continue;
		}
		late = 1;
		if (attempt == 0 && r == -EINVAL) {
			/* maybe incompatible maps from another version:
			 * drop the map pins (not the programs) and retry */
			const char *maps[] = { "tc_sk", "tc_listen", "tc_syn", TC_MAP_COUNTERS,
					       TC_MAP_OWNER, TC_MAP_SESSIONS_TAB, TC_MAP_GUARD };
			char path[PATH_MAX + 256];
			size_t i;
			int any = 0;

			for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
				snprintf(path, sizeof(path), "%s/%s", b->pin_dir, maps[i]);
				any |= unlink(path) == 0;
			}
			if (any) {
				tclog(LOG_WARNING, "pinned maps did not fit; starting with fresh maps");
				continue;
			}
		}
		break;
	}
	tclog(LOG_ERR, "the kernel rejected the ENO programs (%s); does it support BPF TCP "
	      "header options (Linux >= 5.10) and cgroup sockopt hooks? Last lines of the log:",
	      strerror(-r));
	tclog_libbpf_dump(12);
	return r;
}

int tcb_start(const struct tcpcryptd_cfg *cfg, struct tc_backend **out)
{
	struct tc_backend *b;
	struct tc_owner own = { 0 };
	__u32 k = 0;
	int r, i, created = 0;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cg_fd = b->pin_fd = -1;
	snprintf(b->pin_dir, sizeof(b->pin_dir), "%s", cfg->pin_dir);
	snprintf(b->cgroup, sizeof(b->cgroup), "%s", cfg->cgroup);

	if (fs_is(b->cgroup, CGROUP2_SUPER_MAGIC) != 1) {
		tclog(LOG_ERR, "%s is not a cgroup v2 directory", b->cgroup);
		r = -ENOTDIR;
		goto fail;
	}
	r = tcb_ensure_bpffs(b->pin_dir);
	if (r < 0) {
		tclog(LOG_ERR, "cannot mount bpffs at %s: %s", TCPCRYPTD_BPFFS, strerror(-r));
		goto fail;
	}
	created = access(b->pin_dir, F_OK) != 0;
	r = mkdir_p(b->pin_dir, 0700);
	if (r < 0) {
		tclog(LOG_ERR, "cannot create pin dir %s: %s", b->pin_dir, strerror(-r));
		goto fail;
	}
	if (fs_is(b->pin_dir, BPF_FS_MAGIC) != 1) {
		tclog(LOG_ERR, "pin dir %s is not on a bpf filesystem", b->pin_dir);
		r = -EINVAL;
		goto fail;
	}
	r = lock_dir(b->pin_dir, "pin dir", b->pin_dir, &b->pin_fd);
	if (r < 0)
		goto fail_nolock;
	r = lock_dir(b->cgroup, "cgroup", b->pin_dir, &b->cg_fd);
	if (r < 0)
		goto fail;

	r = check_kernel();
	if (r < 0)
		goto fail;
	r = check_ancestors(b);
	if (r < 0)
		goto fail;
	r = load(b);
	if (r < 0)
		goto fail;
	start_listing(b);
	b->guard = tcg_start(b->skel, b->pin_dir, b->cg_fd, test_refused("guard"), b->guard_state,
			     sizeof(b->guard_state));
	for (i = 0; i < 3; i++) {
		r = attach_one(b, i);
		if (r < 0)
			goto fail;
	}
	own.pid = getpid();
	own.start_time = time(NULL);
	bpf_map_update_elem(bpf_map__fd(b->skel->maps.tc_owner), &k, &own, BPF_ANY);
	tclog(LOG_NOTICE, "ENO programs attached to %s, pinned in %s", b->cgroup, b->pin_dir);
	*out = b;
	return 0;

fail:
	/* undo what we did; pins of an earlier daemon stay untouched unless
	 * we already replaced them */
	for (i = 0; i < 3; i++)
		if (b->attached[i] && b->skel)
			bpf_prog_detach2(prog_fd_of(b, i), b->cg_fd, progs[i].type);
fail_nolock:
	if (b->iter) {
		bpf_link__unpin(b->iter);
		bpf_link__destroy(b->iter);
	}
	tcpcrypt_iter__destroy(b->iskel);
	tcg_stop(b->guard, b->skel, b->cg_fd);
	if (created)
		rmdir(b->pin_dir);  /* only if still empty */
	if (b->skel)
		tcpcrypt_eno__destroy(b->skel);
	if (b->cg_fd >= 0)
		close(b->cg_fd);
	if (b->pin_fd >= 0)
		close(b->pin_fd);
	free(b);
	return r;
}

void tcb_stop(struct tc_backend *b)
{
	int i;

	if (!b)
		return;
	for (i = 0; i < 3; i++) {
		if (!b->attached[i])
			continue;
		if (bpf_prog_detach2(prog_fd_of(b, i), b->cg_fd, progs[i].type) < 0)
			tclog(LOG_WARNING, "cannot detach %s: %s", progs[i].name, strerror(errno));
	}
	unpin_all(b->pin_dir);
	if (rmdir(b->pin_dir) < 0)
		tclog(LOG_WARNING, "cannot remove %s: %s", b->pin_dir, strerror(errno));
	bpf_link__destroy(b->iter);
	tcpcrypt_iter__destroy(b->iskel);
	tcg_stop(b->guard, b->skel, b->cg_fd);
	tcpcrypt_eno__destroy(b->skel);
	close(b->cg_fd);
	close(b->pin_fd);
	tclog(LOG_NOTICE, "ENO programs detached from %s and unpinned", b->cgroup);
	free(b);
}

int tcb_foreach_session(struct tc_backend *b,
                        int (*fn)(uint64_t cookie, const struct tc_session *s, void *arg),
                        void *arg)
{
	if (b->iter)
		return tcs_read_iter(bpf_link__fd(b->iter), fn, arg);
	return tcs_read_table(bpf_map__fd(b->skel->maps.tc_sessions_tab), fn, arg);
}

void tcb_features(struct tc_backend *b, FILE *out)
{
	fprintf(out, "feature eno loaded sock_ops, cgroup/setsockopt, cgroup/getsockopt\n");
	fprintf(out, "feature sessions_iter %s\n", b->iter_state);
	fprintf(out, "feature late_listen %s\n", b->late_listen ? "loaded" :
		"refused bpf_setsockopt in sockopt hooks (servers started before tcpcryptd stay plain)");
	fprintf(out, "feature sessions_table %s\n",
		b->use_table ? "loaded kept by the sock_ops program" :
		b->iter ? "off the iterator lists sessions" : "refused test switch (no listing)");
	fprintf(out, "feature guard %s\n", b->guard ? "loaded egress check: bytes the shim did not "
		"write never leave a negotiated connection" : b->guard_state);
}

int tcb_counters(struct tc_backend *b, uint64_t *c)
{
	int fd = bpf_map__fd(b->skel->maps.tc_counters);
	int ncpu = libbpf_num_possible_cpus(), cpu;
	__u64 *v;
	__u32 k;

	if (ncpu <= 0)
		return -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (k = 0; k < TC_C_MAX; k++) {
		c[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (cpu = 0; cpu < ncpu; cpu++)
			c[k] += v[cpu];
	}
	free(v);
	return 0;
}
