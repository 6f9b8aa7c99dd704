/* tcpcryptd.h - the daemon's configuration, shared by its parts. */
#ifndef TCPCRYPTD_H
#define TCPCRYPTD_H

#include <limits.h>

#define TCPCRYPTD_DEFAULT_PIN_DIR "/sys/fs/bpf/tcpcrypt"
#define TCPCRYPTD_DEFAULT_CONTROL "/run/tcpcrypt/control"
#define TCPCRYPTD_BPFFS           "/sys/fs/bpf"
#define TCPCRYPTD_DEFAULT_QUEUE   17731   /* NFQUEUE of the divert backend */

enum { TCPCRYPTD_B_AUTO, TCPCRYPTD_B_BPF, TCPCRYPTD_B_DIVERT };

struct tcpcryptd_cfg {
	char cgroup[PATH_MAX];   /* cgroup v2 directory the programs attach to */
	char pin_dir[PATH_MAX];  /* bpffs directory of our pins */
	char control[PATH_MAX];  /* control socket path */
	int verbosity;
	int use_syslog;
	int backend;             /* TCPCRYPTD_B_* */
	int queue;               /* divert backend: NFQUEUE number */
	char netns[PATH_MAX];    /* divert backend: serve this network namespace from outside */
};

#endif
