/*
 * tcpcrypt-test - answers "it runs, but is anything encrypted?".
 *
 *   tcpcrypt-test            checks this host: tcpcryptd, the kernel's BPF
 *                            and NFQUEUE features (probed here and as the
 *                            daemon reports them), its programs, the
 *                            opt-in of this process, the shim, and an
 *                            encrypted loopback connection through the shim
 *   tcpcrypt-test HOST PORT  tells whether that peer negotiates tcpcrypt:
 *                            the ENO options, the role, the AEAD and the
 *                            session ID, or why the connection fell back
 *   tcpcrypt-test --serve PORT  the test page: an HTTP server (under the
 *                            shim) telling each visitor the same about
 *                            their connection, and logging it
 *
 * Exit status 0 only when everything asked for works (optional features
 * that are missing are warnings); 1 otherwise; 2 for a usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpcrypt/tcpcrypt.h"
#include "eno.h"
#include "session.h"
#include "tct_host.h"
#include "tct_probe.h"
#include "tct_serve.h"

#define DEFAULT_CONTROL "/run/tcpcrypt/control"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tcpcrypt-test [options]            check this host\n"
		"       tcpcrypt-test [options] -f         check the kernel's features only\n"
		"       tcpcrypt-test [options] HOST PORT  check whether a peer negotiates tcpcrypt\n"
		"       tcpcrypt-test [options] --serve PORT  serve the test page: tells each HTTP\n"
		"                            visitor whether their connection is encrypted\n"
		"\n"
		"  -u, --control PATH   tcpcryptd's control socket (default: $TCPCRYPT_CONTROL or "
		DEFAULT_CONTROL ")\n"
		"  -f, --features       check only the kernel's features and tcpcryptd's report of them\n"
		"  -s, --serve PORT     serve the test page on PORT (runs itself under tcpcrypt-run)\n"
		"  -t, --timeout SECS   bound of each network wait (default 5)\n"
		"  -v, --verbose        list each check and its result\n"
		"  -h, --help           print this help and exit\n"
		"  -V, --version        print the version and exit\n"
		"Exit status: 0 when everything checked works, 1 when something does not, 2 usage.\n");
}

/* -f: the kernel's features and the daemon's report of them only; returns
 * the exit status. */
static int check_features(struct tct_ctx *c)
{
	tct_check_daemon(c);
	tct_check_kernel(c);
	tct_check_features(c);
	if (c->failed) {
		printf("tcpcrypt-test: %d check%s failed: connections will not be encrypted\n",
		       c->failed, c->failed > 1 ? "s" : "");
		return 1;
	}
	if (c->warned)
		printf("tcpcrypt-test: the kernel and tcpcryptd can encrypt, without some optional "
		       "features (see [ warn ] above)\n");
	else
		printf("tcpcrypt-test: the kernel and tcpcryptd provide every feature\n");
	return 0;
}

/* The host checks; returns the exit status. */
static int check_host(struct tct_ctx *c)
{
	char run[PATH_MAX + 32], shim[PATH_MAX + 32];
	int opt_in, shim_ok;

	tct_check_daemon(c);
	tct_check_kernel(c);
	tct_check_features(c);
	tct_check_programs(c);
	opt_in = tct_check_opt_in(c);
	tct_find_run(c, run, sizeof(run), shim, sizeof(shim));
	shim_ok = tct_check_shim(c, shim);
	if (access(run, X_OK) < 0)
		tct_check(c, TCT_FAIL, "the launcher is there", "%s: %s", run, strerror(errno));
	else if (opt_in < 0 || shim_ok < 0)
		tct_check(c, TCT_SKIP, "encrypted loopback connection", "%s",
			  opt_in < 0 ? "this process cannot opt in" : "the shim does not load");
	else
		tct_check_loopback(c, run);
	if (c->failed) {
		printf("tcpcrypt-test: %d check%s failed: connections will not be encrypted\n",
		       c->failed, c->failed > 1 ? "s" : "");
		return 1;
	}
	if (c->warned)
		printf("tcpcrypt works on this host, without some optional features (see [ warn ] "
		       "above)\n");
	else
		printf("tcpcrypt works on this host\n");
	return 0;
}

/* HOST PORT: prints what the peer negotiated; returns the exit status. */
static int check_peer(struct tct_ctx *c, const char *host, const char *port)
{
	struct tct_probe_result r;
	char hex[2 * 64 + 1];

	tct_probe(host, port, c->timeout_ms, &r);
	if (r.status == TCT_PROBE_NO_DAEMON) {
		/* is there a daemon that serves another cgroup? */
		c->quiet = 1;
		if (tct_check_daemon(c) == 0 && c->backend[0] && strcmp(c->backend, "ebpf"))
			printf("tcpcrypt-test: tcpcryptd runs the %s backend, with which sockets opt in "
			       "through the daemon; probing a peer needs the eBPF backend (run a "
			       "client under tcpcrypt-run instead)\n", c->backend);
		else if (c->daemon_up)
			printf("tcpcrypt-test: the opt-in setsockopt answered ENOPROTOOPT: tcpcryptd "
			       "(%s) serves cgroup %s, which does not hold this process\n",
			       c->control, c->cgroup);
		else
			printf("tcpcrypt-test: %s\n", r.err);
		return 1;
	}
	if (r.status == TCT_PROBE_ERROR && !r.eno_flags) {
		printf("tcpcrypt-test: %s\n", r.err);
		return 1;
	}
	printf("peer:          %s\n", r.addr);
	tct_hex(r.local_opt, r.local_len, hex);
	printf("ENO sent:      %s\n", r.local_len ? hex : "none");
	tct_hex(r.peer_opt, r.peer_len, hex);
	printf("ENO received:  %s\n", r.peer_len ? hex : "none");
	if (r.status == TCT_PROBE_FALLBACK) {
		printf("tcpcrypt:      no, plain TCP: %s\n", r.err);
		return 1;
	}
	printf("role:          %c\n", r.role == TCPCRYPT_ROLE_B ? 'B' : 'A');
	if (r.status == TCT_PROBE_ERROR) {
		printf("tcpcrypt:      no: ENO negotiated, then %s\n", r.err);
		return 1;
	}
	printf("AEAD:          %s\n", tc_aead_name(r.aead));
	tct_hex(r.sessid, r.sessid_len, hex);
	printf("session ID:    %s\n", hex);
	if (c->verbose)
		printf("close:         %s\n", r.clean_close ? "FINp sent and received"
						     : "FINp sent; the peer's did not arrive");
	printf("tcpcrypt:      yes\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "control", required_argument, 0, 'u' },
		{ "timeout", required_argument, 0, 't' },
		{ "features", no_argument, 0, 'f' },
		{ "serve", required_argument, 0, 's' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ "peer-server", required_argument, 0, 'S' },  /* internal: the loopback peers */
		{ "peer-client", required_argument, 0, 'C' },
		{ "peer-preloaded", required_argument, 0, 'P' },
		{ 0, 0, 0, 0 }
	};
	struct tct_ctx c;
	const char *env = getenv("TCPCRYPT_CONTROL"), *serve = NULL;
	char *end;
	ssize_t n;
	long t;
	int o, features = 0;

	memset(&c, 0, sizeof(c));
	c.control = env && *env ? env : DEFAULT_CONTROL;
	c.timeout_ms = 5000;
	while ((o = getopt_long(argc, argv, "u:t:fs:vhV", lo, NULL)) != -1) {
		switch (o) {
		case 'u':
			c.control = optarg;
			break;
		case 't':
			t = strtol(optarg, &end, 10);
			if (*end || t < 1 || t > 600) {
				fprintf(stderr, "tcpcrypt-test: bad timeout '%s' (1-600 seconds)\n", optarg);
				return 2;
			}
			c.timeout_ms = (int)t * 1000;
			break;
		case 'f':
			features = 1;
			break;
		case 's':
			serve = optarg;
			break;
		case 'v':
			c.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tcpcrypt-test (tcpcrypt) %s\n", PACKAGE_VERSION);
			return 0;
		case 'S':
			return tct_peer_server(atoi(optarg));
		case 'C':
			return tct_peer_client(optarg);
		case 'P':
			return tct_peer_preloaded(optarg);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (serve) {
		if (optind != argc || features) {
			usage(stderr);
			return 2;
		}
		return tct_serve(&c, serve, argc, argv);
	}
	if (features) {
		if (optind != argc) {
			usage(stderr);
			return 2;
		}
		return check_features(&c);
	}
	if (optind == argc) {
		n = readlink("/proc/self/exe", c.self, sizeof(c.self) - 1);
		if (n <= 0) {
			fprintf(stderr, "tcpcrypt-test: cannot find myself: %s\n", strerror(errno));
			return 1;
		}
		c.self[n] = '\0';
		return check_host(&c);
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	return check_peer(&c, argv[optind], argv[optind + 1]);
}
