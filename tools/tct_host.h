/* tct_host.h - tcpcrypt-test's checks of this host: the daemon, its
 * programs, the opt-in of this process, the shim, and an encrypted
 * loopback connection through the shim. */
#ifndef TCT_HOST_H
#define TCT_HOST_H

#include <limits.h>
#include <stdio.h>

enum tct_verdict { TCT_OK, TCT_FAIL, TCT_SKIP };

struct tct_ctx {
	int verbose;             /* -v: print every check */
	int quiet;               /* print no check at all */
	int timeout_ms;          /* bound of each network wait */
	int failed;              /* number of failed checks */
	const char *control;     /* control socket of tcpcryptd */
	char self[PATH_MAX];     /* this program, for the shimmed peers */
	/* from the daemon's "status" answer */
	int daemon_up;
	char backend[32];
	char cgroup[PATH_MAX];
	char pin_dir[PATH_MAX];
};

/* Records one check: printed with -v, and always when it failed. */
void tct_check(struct tct_ctx *c, enum tct_verdict v, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The checks; each returns 0 when it passed or was skipped. */
int tct_check_daemon(struct tct_ctx *c);
int tct_check_programs(struct tct_ctx *c);
int tct_check_opt_in(struct tct_ctx *c);
int tct_check_shim(struct tct_ctx *c, const char *shim);

/* Paths of the launcher and the shim that go with this program: the build
 * tree's when run from one, else the installed ones. */
void tct_find_run(const struct tct_ctx *c, char *run, size_t runcap, char *shim, size_t shimcap);

/* The loopback connection through the shim (tct_selftest.c). */
int tct_check_loopback(struct tct_ctx *c, const char *run);

/* The hidden peer modes, run under tcpcrypt-run by tct_check_loopback. */
int tct_peer_server(int nconn);
int tct_peer_client(const char *port);
int tct_peer_preloaded(const char *shim);

#endif
