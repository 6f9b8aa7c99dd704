/* tct_host.h - tcpcrypt-test's checks of this host: the daemon, its
 * programs, the opt-in of this process, the shim, and an encrypted
 * loopback connection through the shim. */
#ifndef TCT_HOST_H
#define TCT_HOST_H

#include <limits.h>
#include <stdio.h>

/* WARN: an optional feature is missing, tcpcrypt still encrypts (the exit
 * status stays 0); NOTE: something this program does not know how to judge. */
enum tct_verdict { TCT_OK, TCT_FAIL, TCT_SKIP, TCT_WARN, TCT_NOTE };

/* One "feature NAME STATE DETAIL" line of the daemon's status (tct_feature.c). */
#define TCT_MAX_FEATURES 16
struct tct_feature {
	char name[32];
	char state[16];
	char detail[256];
	char raw[320];           /* the line as received, for unknown names */
};

struct tct_ctx {
	int verbose;             /* -v: print every check */
	int quiet;               /* print no check at all */
	int timeout_ms;          /* bound of each network wait */
	int failed;              /* number of failed checks */
	int warned;              /* number of degraded optional features */
	const char *control;     /* control socket of tcpcryptd */
	char self[PATH_MAX];     /* this program, for the shimmed peers */
	/* from the daemon's "status" answer */
	int daemon_up;
	char backend[32];
	char cgroup[PATH_MAX];
	char pin_dir[PATH_MAX];
	struct tct_feature feat[TCT_MAX_FEATURES];
	int nfeat;
};

/* Records one check: printed with -v, and always when it failed, warns
 * or notes. */
void tct_check(struct tct_ctx *c, enum tct_verdict v, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The checks; each returns 0 when it passed or was skipped. */
int tct_check_daemon(struct tct_ctx *c);
int tct_check_programs(struct tct_ctx *c);
int tct_check_opt_in(struct tct_ctx *c);
int tct_check_shim(struct tct_ctx *c, const char *shim);

/* What this kernel offers tcpcryptd, probed here (tct_kernel.c), and what
 * the running daemon says it loaded (tct_feature.c); each with what it
 * means for the user. */
int tct_check_kernel(struct tct_ctx *c);
int tct_feature_parse(struct tct_ctx *c, const char *line);
int tct_check_features(struct tct_ctx *c);
/* STATE of the daemon's feature NAME, or NULL when it reported none. */
const char *tct_feature_state(const struct tct_ctx *c, const char *name);

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
