/*
 * spawn.c - posix_spawn, posix_spawnp, system, popen: glibc execs the new program inside
 * without the shim's exec hooks, so connections cannot be handed over
 * there (exec.c). An encrypted connection is close-on-exec in the kernel
 * (cloexec.h), so the new program gets it only through a file action
 * (adddup2 clears the flag on the copy). For that case a process holding
 * connections marks the new program's environment with the socket inodes
 * of its connections that are not plain TCP (TCPCRYPT_SPAWNED=ino,ino,...);
 * the new image's shim then closes every inherited socket listed there, or
 * on which the kernel says ENO negotiated (a raw encrypted stream it has
 * no session for: the parent keeps its connection, the new program sees
 * the fd closed, never ciphertext as data). A file action that would dup2
 * a negotiated connection into the new program closes the target fd
 * instead (whether the program preloads the shim is only known later).
 * Each of these first marks close-on-exec the fds of connections that the
 * other process of a fork negotiated (tc_cloexec_sweep).
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "cloexec.h"
#include "divert_client.h"
#include "fdtable.h"
#include "fork.h"
#include "libc_syms.h"
#include "log.h"
#include "shim.h"
#include "sock.h"
#include "tcpcrypt/eno_abi.h"

#define SPAWNED "TCPCRYPT_SPAWNED"

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

struct inode_list {
	char *buf;
	size_t len, cap;
};

/* tc_fd_foreach callback: appends the socket inode of each connection
 * that is (or may become) encrypted. */
static void add_inode(int fd, struct tc_sock *s, void *arg)
{
	struct inode_list *l = arg;
	struct stat st;
	int n;

	if (s->kind != TC_K_CONN || tc_sock_state(s) == TC_ST_PLAIN || fstat(fd, &st) < 0)
		return;
	if (l->len + 24 > l->cap)
		return;
	n = snprintf(l->buf + l->len, l->cap - l->len, "%s%llu", l->len > sizeof(SPAWNED) ? "," : "",
	             (unsigned long long)st.st_ino);
	if (n > 0)
		l->len += (size_t)n;
}

/* envp plus the marker naming our encrypted sockets (malloc'd), or NULL. */
static char **marked(char *const envp[])
{
	size_t n = 0, cap = sizeof(SPAWNED) + 24 * ((size_t)__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) + 8) + 2;
	struct inode_list l;
	char **e;

	while (envp && envp[n])
		n++;
	if (!(e = malloc((n + 2) * sizeof(*e) + cap)))
		return NULL;
	l.buf = (char *)(e + n + 2);
	l.cap = cap;
	l.len = (size_t)snprintf(l.buf, cap, "%s=", SPAWNED);
	tc_fd_foreach(add_inode, &l);
	for (size_t i = 0; i < n; i++)
		e[i] = envp[i];
	e[n] = l.buf;
	e[n + 1] = NULL;
	return e;
}

static int spawn(const char *name, pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	spawn_fn real = (spawn_fn)dlsym(RTLD_NEXT, name);
	char **env = NULL;
	int r;

	if (!real)
		return ENOSYS;
	tc_cloexec_sweep();
	if (__atomic_load_n(&tc_fd_count, __ATOMIC_RELAXED) && !tc_in_shim)
		env = marked(envp);
	r = real(pid, path, fa, at, argv, env ? env : envp);
	free(env);
	return r;
}

TC_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	return spawn("posix_spawn", pid, path, fa, at, argv, envp);
}

TC_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	return spawn("posix_spawnp", pid, file, fa, at, argv, envp);
}

/* The next definition of name (cached in *slot), or NULL. */
static void *next(const char *name, void **slot)
{
	void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);

	if (!p && (p = dlsym(RTLD_NEXT, name)))
		__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

/* 1 if fd is a connection that negotiated tcpcrypt (or failed after). */
static int encrypted_conn(int fd)
{
	struct tc_sock *s = tc_conn_get(fd);
	int st;

	if (!s)
		return 0;
	tc_in_shim++;
	if (tc_sock_state(s) == TC_ST_CONNECTING)
		tc_sock_check_connect(s, fd);
	st = tc_sock_state(s);
	tc_in_shim--;
	tc_fd_put(s);
	return st == TC_ST_HANDSHAKE || st == TC_ST_READY || st == TC_ST_FAILED;
}

/* A file action that would put an encrypted connection on newfd of the
 * new program becomes one that closes newfd there: the new program may
 * not preload the shim (its environment is only known at posix_spawn),
 * and no session goes across posix_spawn anyway (a program that preloads
 * the shim closes such a socket at start-up, tc_spawn_check), so the raw
 * socket never reaches it and it sees the descriptor closed. */
TC_EXPORT int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
	static void *real_dup2, *real_close;
	int (*dup2_fn)(posix_spawn_file_actions_t *, int, int) =
		(int (*)(posix_spawn_file_actions_t *, int, int))next("posix_spawn_file_actions_adddup2", &real_dup2);
	int (*close_fn)(posix_spawn_file_actions_t *, int) =
		(int (*)(posix_spawn_file_actions_t *, int))next("posix_spawn_file_actions_addclose", &real_close);

	if (!dup2_fn || !close_fn)
		return ENOSYS;
	if (!tc_in_shim && newfd >= 0 && encrypted_conn(fd)) {
		tc_info("fd %d: an encrypted connection given to a program by posix_spawn; it gets fd %d "
		        "closed", fd, newfd);
		return close_fn(fa, newfd);
	}
	return dup2_fn(fa, fd, newfd);
}

/* glibc starts the shell through its internal posix_spawn, past our
 * wrappers: the kernel's close-on-exec is what keeps the connections from
 * it, made complete here. */
TC_EXPORT int system(const char *cmd)
{
	static void *real;
	int (*fn)(const char *) = (int (*)(const char *))next("system", &real);

	if (!fn) {
		errno = ENOSYS;
		return -1;
	}
	tc_cloexec_sweep();
	return fn(cmd);
}

TC_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	static void *real;
	FILE *(*fn)(const char *, const char *) = (FILE *(*)(const char *, const char *))next("popen", &real);

	if (!fn) {
		errno = ENOSYS;
		return NULL;
	}
	tc_cloexec_sweep();
	return fn(cmd, mode);
}

/* 1 if fd is a socket on which ENO negotiated. */
static int negotiated(int fd)
{
	struct tcpcrypt_eno_result res;
	socklen_t len = sizeof(res);
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	memset(&res, 0, sizeof(res));
	if (tc_real_getsockopt(fd, SOL_TCP, TCPCRYPT_ENO_SOCKOPT, &res, &len) < 0 &&
	    (errno != ENOPROTOOPT || tc_divert_result(fd, &res, &len) < 0))   /* divert: ask tcpcryptd */
		return 0;
	return (res.flags & TCPCRYPT_RES_F_ENO_OK) != 0;
}

/* 1 if the socket inode of fd is in the comma-separated list. */
static int listed(int fd, const char *list)
{
	struct stat st;
	char *end;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	while (*list) {
		unsigned long long ino;

		if (*list == ',') {          /* an empty item */
			list++;
			continue;
		}
		ino = strtoull(list, &end, 10);
		if (end == list)
			return 0;
		if (ino == (unsigned long long)st.st_ino)
			return 1;
		list = *end == ',' ? end + 1 : end;
	}
	return 0;
}

void tc_spawn_check(void)
{
	DIR *d;
	struct dirent *e;
	char *copy;
	const char *list;

	if (!(list = getenv(SPAWNED)))
		return;
	copy = strdup(list);
	list = copy ? copy : "";
	unsetenv(SPAWNED);
	if (!(d = opendir("/proc/self/fd")))
		goto out;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		struct tc_sock *s;

		if (*end || end == e->d_name || fd < 0 || fd == dirfd(d))
			continue;
		if ((s = tc_fd_get((int)fd))) {   /* handed over */
			tc_fd_put(s);
			continue;
		}
		if (listed((int)fd, list) || negotiated((int)fd)) {
			tc_real_close((int)fd);
			tc_warn("fd %ld: an encrypted connection inherited through posix_spawn (no session "
			        "here); closed", fd);
		}
	}
	closedir(d);
out:
	free(copy);
}
