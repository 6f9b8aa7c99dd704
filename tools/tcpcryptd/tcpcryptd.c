/*
 * tcpcryptd - tcpcrypt's privileged helper: installs the TCP-ENO programs
 * (eBPF sock_ops + cgroup sockopt hooks) on a cgroup v2, pins them, and
 * answers tcnetstat on a control socket. Runs in the foreground; SIGTERM
 * or SIGINT detach and unpin everything it made.
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include "tcpcryptd.h"
#include "tcpcryptd_bpf.h"
#include "tcpcryptd_ctl.h"
#include "tcpcryptd_log.h"
#ifdef TCPCRYPTD_DIVERT
#include "tcpcryptd_divert.h"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tcpcryptd [OPTION]...\n"
		"Installs TCP-ENO (RFC 8547) on the TCP handshake of opted-in sockets.\n"
		"\n"
		"  -g, --cgroup DIR     cgroup v2 directory to attach to (default: the cgroup v2 root)\n"
		"  -P, --pin-dir DIR    bpffs directory for pinned programs and maps\n"
		"                       (default: " TCPCRYPTD_DEFAULT_PIN_DIR ")\n"
		"  -u, --control PATH   control socket (default: " TCPCRYPTD_DEFAULT_CONTROL ")\n"
		"  -b, --backend NAME   bpf (eBPF header options), divert (NFQUEUE, one daemon\n"
		"                       per network namespace) or auto (default: bpf, and divert\n"
		"                       when the kernel lacks eBPF TCP header options)\n"
		"  -p, --queue NUM      NFQUEUE of the divert backend (default: %d)\n"
		"  -n, --netns NAME     divert backend: serve network namespace NAME (or a path\n"
		"                       to its nsfs file) while the daemon stays outside it\n"
		"  -v, --verbose        more log output (repeat for debug)\n"
		"      --syslog         log to syslog instead of stderr\n"
		"  -h, --help           this help\n"
		"  -V, --version        version\n", TCPCRYPTD_DEFAULT_QUEUE);
}

static int copy_opt(char *dst, size_t cap, const char *src, const char *what)
{
	if (strlen(src) >= cap || !*src) {
		fprintf(stderr, "tcpcryptd: bad %s: %s\n", what, src);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

static int parse_args(int argc, char **argv, struct tcpcryptd_cfg *cfg)
{
	static const struct option lo[] = {
		{ "cgroup", required_argument, 0, 'g' },
		{ "pin-dir", required_argument, 0, 'P' },
		{ "control", required_argument, 0, 'u' },
		{ "backend", required_argument, 0, 'b' },
		{ "queue", required_argument, 0, 'p' },
		{ "netns", required_argument, 0, 'n' },
		{ "verbose", no_argument, 0, 'v' },
		{ "syslog", no_argument, 0, 'S' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 }
	};
	int c;

	strcpy(cfg->pin_dir, TCPCRYPTD_DEFAULT_PIN_DIR);
	strcpy(cfg->control, TCPCRYPTD_DEFAULT_CONTROL);
	cfg->queue = TCPCRYPTD_DEFAULT_QUEUE;
	while ((c = getopt_long(argc, argv, "g:P:u:b:p:n:vhV", lo, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (copy_opt(cfg->cgroup, sizeof(cfg->cgroup), optarg, "cgroup"))
				return 2;
			break;
		case 'P':
			if (copy_opt(cfg->pin_dir, sizeof(cfg->pin_dir), optarg, "pin dir"))
				return 2;
			break;
		case 'u':
			if (copy_opt(cfg->control, sizeof(cfg->control), optarg, "control path"))
				return 2;
			break;
		case 'b':
			if (!strcmp(optarg, "bpf") || !strcmp(optarg, "ebpf")) {
				cfg->backend = TCPCRYPTD_B_BPF;
			} else if (!strcmp(optarg, "divert")) {
				cfg->backend = TCPCRYPTD_B_DIVERT;
			} else if (!strcmp(optarg, "auto")) {
				cfg->backend = TCPCRYPTD_B_AUTO;
			} else {
				fprintf(stderr, "tcpcryptd: unknown backend: %s (bpf, divert, auto)\n", optarg);
				return 2;
			}
			break;
		case 'p': {
			char *end;
			long q = strtol(optarg, &end, 10);

			if (*end || q < 0 || q > 65535) {
				fprintf(stderr, "tcpcryptd: bad queue number: %s\n", optarg);
				return 2;
			}
			cfg->queue = (int)q;
			break;
		}
		case 'n':
			if (strchr(optarg, '/') ? copy_opt(cfg->netns, sizeof(cfg->netns), optarg, "netns")
			    : (size_t)snprintf(cfg->netns, sizeof(cfg->netns), "/run/netns/%s", optarg) >=
				      sizeof(cfg->netns))
				return 2;
			break;
		case 'v':
			cfg->verbosity++;
			break;
		case 'S':
			cfg->use_syslog = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("tcpcryptd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpcryptd: unexpected argument: %s\n", argv[optind]);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tcpcryptd_cfg cfg;
	struct tc_backend *b = NULL;
	struct pollfd pfd[2];
	sigset_t ss;
	int r, sfd, lfd, running = 1;

	memset(&cfg, 0, sizeof(cfg));
	r = parse_args(argc, argv, &cfg);
	if (r)
		return r;
	tclog_init("tcpcryptd", cfg.verbosity, cfg.use_syslog);
	if (cfg.netns[0]) {     /* only the divert backend serves a namespace from outside */
		if (cfg.backend == TCPCRYPTD_B_BPF) {
			tclog(LOG_ERR, "--netns needs the divert backend");
			return 2;
		}
		cfg.backend = TCPCRYPTD_B_DIVERT;
	}
	tclog_libbpf_capture();
	if (geteuid() != 0) {
		tclog(LOG_ERR, "must run as root (needs CAP_BPF and CAP_NET_ADMIN)");
		return 1;
	}
#ifdef TCPCRYPTD_DIVERT
	if (cfg.backend != TCPCRYPTD_B_DIVERT && !cfg.cgroup[0] &&
	    tcb_find_cgroup2(cfg.cgroup, sizeof(cfg.cgroup)) < 0 && cfg.backend == TCPCRYPTD_B_BPF) {
#else
	if (cfg.backend == TCPCRYPTD_B_DIVERT) {
		tclog(LOG_ERR, "built without the divert backend (libnetfilter_queue, libmnl)");
		return 1;
	}
	if (!cfg.cgroup[0] && tcb_find_cgroup2(cfg.cgroup, sizeof(cfg.cgroup)) < 0) {
#endif
		tclog(LOG_ERR, "no cgroup v2 hierarchy is mounted (see /proc/self/mounts); "
		      "mount one or pass --cgroup");
		return 1;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	if (sfd < 0) {
		tclog(LOG_ERR, "signalfd: %s", strerror(errno));
		return 1;
	}

	r = cfg.backend == TCPCRYPTD_B_DIVERT || !cfg.cgroup[0] ? -ENOSYS : tcb_start(&cfg, &b);
#ifdef TCPCRYPTD_DIVERT
	/* auto: divert only when the kernel lacks what the programs need
	 * (or no cgroup v2 is mounted), never after another failure */
	if ((r == -ENOSYS || (r == -EOPNOTSUPP && cfg.backend == TCPCRYPTD_B_AUTO)) &&
	    cfg.backend != TCPCRYPTD_B_BPF) {
		if (cfg.backend == TCPCRYPTD_B_AUTO)
			tclog(LOG_NOTICE, "eBPF backend unavailable: using the divert backend (NFQUEUE %d)",
			      cfg.queue);
		return dv_run(&cfg, sfd);
	}
#endif
	if (r < 0)
		return 1;
	/* last: tests and tools take the socket as the sign that we are up */
	lfd = tcctl_open(cfg.control);
	if (lfd < 0) {
		tclog(LOG_ERR, "cannot create control socket %s: %s", cfg.control, strerror(-lfd));
		tcb_stop(b);
		return 1;
	}
	tclog(LOG_INFO, "control socket %s ready", cfg.control);

	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	while (running) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			tclog(LOG_ERR, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					tclog(LOG_INFO, "SIGHUP: nothing to reload");
				} else {
					tclog(LOG_NOTICE, "signal %u: stopping", si.ssi_signo);
					running = 0;
				}
			}
		}
		if (running && (pfd[1].revents & POLLIN))
			tcctl_serve(lfd, &cfg, b);
	}
	tcctl_close(lfd, cfg.control);
	tcb_stop(b);
	return 0;
}
