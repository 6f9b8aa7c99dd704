/*
 * tcnetstat - lists live tcpcrypt connections: addresses, TCP state, role,
 * AEAD, session ID, pid and command. Asks tcpcryptd over its control socket
 * (request "list"), or with -P runs the sessions iterator pinned by it.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <bpf/bpf.h>
#include "eno.h"
#include "tc_session_fmt.h"
#include "tcnetstat_diag.h"
#include <time.h>

#define DEFAULT_CONTROL "/run/tcpcrypt/control"
#define MAX_SESSIONS 65536

struct entry {
	uint64_t cookie;
	struct tc_session s;
};

struct list {
	struct entry *e;
	size_t n, cap;
};

static int add(struct list *l, uint64_t cookie, const struct tc_session *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct entry *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n].cookie = cookie;
	l->e[l->n].s = *s;
	l->n++;
	return 0;
}

/* Reads the daemon's "list" answer into l. */
static int from_daemon(const char *path, struct list *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[2048];
	FILE *f;
	int fd, ok = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, "list\n", 5) != 5) {
		int e = errno;

		close(fd);
		return -e;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		struct tc_session s;
		uint64_t cookie = 0;

		if (!strcmp(line, "ok\n")) {
			ok = 1;
			break;
		}
		if (!strncmp(line, "error", 5)) {
			fprintf(stderr, "tcnetstat: tcpcryptd: %s", line);
			break;
		}
		if (tcs_parse(line, &cookie, &s) == 0 && add(l, cookie, &s) < 0)
			break;
	}
	fclose(f);
	return ok ? 0 : -EPROTO;
}

static int add_cb(uint64_t cookie, const struct tc_session *s, void *arg)
{
	return add(arg, cookie, s);
}

/* Runs the pinned sessions iterator or, where the kernel refused it,
 * reads the pinned sessions table (root only). */
static int from_map(const char *pin_dir, struct list *l)
{
	char path[4096];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, TC_ITER_SESSIONS);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		r = tcs_read_iter(fd, add_cb, l);
		close(fd);
		return r;
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, TC_MAP_SESSIONS_TAB);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	r = tcs_read_table(fd, add_cb, l);
	close(fd);
	return r;
}

static void addr_port(const struct tc_session *s, int local, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int af = s->tuple.family == AF_INET ? AF_INET : AF_INET6;

	inet_ntop(af, local ? s->tuple.laddr : s->tuple.raddr, a, sizeof(a));
	snprintf(out, len, af == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 local ? s->tuple.lport : s->tuple.rport);
}

static void hexstr(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* A resumed session's ID starts with its TEP byte with the high bit set
 * (0xa3 for TEP 0x23, RFC 8548 3.5). */
static int resumed(const struct tc_session *s)
{
	return s->has_report && s->report.sessid_len > 0 && (s->report.sessid[0] & 0x80);
}

/* Seconds since the connection was established, or -1 if unknown. */
static double age_s(const struct tc_session *s)
{
	struct timespec ts;
	uint64_t now;

	if (!s->est_ns || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -1;
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return now > s->est_ns ? (double)(now - s->est_ns) / 1e9 : 0;
}

static void age_str(const struct tc_session *s, char *out, size_t len)
{
	double a = age_s(s);
	unsigned long t = a < 0 ? 0 : (unsigned long)a;

	if (a < 0)
		snprintf(out, len, "-");
	else if (t < 60)
		snprintf(out, len, "%lus", t);
	else if (t < 3600)
		snprintf(out, len, "%lum%02lus", t / 60, t % 60);
	else if (t < 86400)
		snprintf(out, len, "%luh%02lum", t / 3600, t / 60 % 60);
	else
		snprintf(out, len, "%lud%02luh", t / 86400, t / 3600 % 24);
}

/* 1234 -> "1234", 123456 -> "121K" (binary units, as ls -h). */
static void size_str(uint64_t v, char *out, size_t len)
{
	static const char u[] = "KMGTP";
	int i = -1;

	while (v >= 10240 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(out, len, "%llu", (unsigned long long)v);
	else
		snprintf(out, len, "%llu%c", (unsigned long long)v, u[i]);
}

static void bytes_str(const struct tc_session *s, char *out, size_t len)
{
	char a[24], b[24];

	if (!s->has_bytes) {
		snprintf(out, len, "-");
		return;
	}
	size_str(s->bytes_acked, a, sizeof(a));
	size_str(s->bytes_received, b, sizeof(b));
	snprintf(out, len, "%s/%s", a, b);
}

/* Byte counts the listing lacks (the sessions table has none): from
 * socket diagnostics, for the sockets of this network namespace; live
 * counts are preferred for established connections. */
static void fill_bytes(struct list *l)
{
	uint64_t *c = calloc(l->n ? l->n : 1, sizeof(*c));
	struct tc_session **s = calloc(l->n ? l->n : 1, sizeof(*s));
	size_t i, k = 0;

	if (c && s) {
		for (i = 0; i < l->n; i++) {
			if (l->e[i].s.state == 1 /* ESTABLISHED */ || !l->e[i].s.has_bytes) {
				l->e[i].s.has_bytes = 0;    /* prefer live counts */
				c[k] = l->e[i].cookie;
				s[k++] = &l->e[i].s;
			}
		}
		if (k)
			tcd_fill_bytes(c, s, k);
	}
	free(c);
	free(s);
}

static const char *eno_status(const struct tc_session *s)
{
	if (s->result.flags & TCPCRYPT_RES_F_ENO_OK)
		return "ok";
	return tc_eno_reason_str(s->result.reason);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct list *l, int all)
{
	char la[64], ra[64], sid[129];
	size_t i, shown = 0;

	printf("[");
	for (i = 0; i < l->n; i++) {
		const struct tc_session *s = &l->e[i].s;
		int ok = !!(s->result.flags & TCPCRYPT_RES_F_ENO_OK);
		char lh[INET6_ADDRSTRLEN], rh[INET6_ADDRSTRLEN];
		int af = s->tuple.family == AF_INET ? AF_INET : AF_INET6;

		if (!ok && !all)
			continue;
		addr_port(s, 1, la, sizeof(la));
		addr_port(s, 0, ra, sizeof(ra));
		inet_ntop(af, s->tuple.laddr, lh, sizeof(lh));
		inet_ntop(af, s->tuple.raddr, rh, sizeof(rh));
		hexstr(sid, s->report.sessid, s->has_report ? s->report.sessid_len : 0);
		printf("%s\n  {\"proto\": \"%s\", \"local_address\": \"%s\", \"local_port\": %u, "
		       "\"remote_address\": \"%s\", \"remote_port\": %u, \"state\": \"%s\", "
		       "\"role\": \"%s\", \"negotiated\": %s, \"reason\": %u, \"reason_text\": ",
		       shown++ ? "," : "", af == AF_INET ? "tcp" : "tcp6", lh, s->tuple.lport, rh,
		       s->tuple.rport, tcs_state_name(s->state),
		       (s->result.flags & TCPCRYPT_RES_F_ROLE_B) ? "B" : "A", ok ? "true" : "false",
		       s->result.reason);
		json_str(tc_eno_reason_str(s->result.reason));
		printf(", \"aead\": \"%s\", \"aead_id\": %u, \"session_id\": \"%s\", "
		       "\"resumed\": %s, \"pid\": %u, \"uid\": %u, \"command\": ",
		       s->has_report ? tcs_aead_name(s->report.aead) : "-",
		       s->has_report ? s->report.aead : 0, sid, resumed(s) ? "true" : "false",
		       s->pid, s->uid);
		json_str(s->comm);
		if (s->has_bytes)
			printf(", \"bytes_sent\": %llu, \"bytes_received\": %llu",
			       (unsigned long long)s->bytes_acked,
			       (unsigned long long)s->bytes_received);
		else
			printf(", \"bytes_sent\": null, \"bytes_received\": null");
		if (age_s(s) >= 0)
			printf(", \"age_seconds\": %.3f", age_s(s));
		else
			printf(", \"age_seconds\": null");
		printf(", \"cookie\": %llu}", (unsigned long long)l->e[i].cookie);
	}
	printf("%s]\n", shown ? "\n" : "");
}

static void print_table(const struct list *l, int all)
{
	char la[64], ra[64], sid[129], pc[64], age[48], by[56];
	size_t i;

	printf("%-5s %-28s %-28s %-12s %-4s %-24s %-18s %-20s %-7s %-13s %s\n", "Proto",
	       "Local Address", "Foreign Address", "State", "Role", "TCP-ENO", "AEAD",
	       "PID/Program", "Age", "Sent/Recv", "Session ID");
	for (i = 0; i < l->n; i++) {
		const struct tc_session *s = &l->e[i].s;

		if (!(s->result.flags & TCPCRYPT_RES_F_ENO_OK) && !all)
			continue;
		addr_port(s, 1, la, sizeof(la));
		addr_port(s, 0, ra, sizeof(ra));
		hexstr(sid, s->report.sessid, s->has_report ? s->report.sessid_len : 0);
		snprintf(pc, sizeof(pc), "%u/%.16s", s->pid, s->comm[0] ? s->comm : "-");
		age_str(s, age, sizeof(age));
		bytes_str(s, by, sizeof(by));
		printf("%-5s %-28s %-28s %-12s %-4s %-24.24s %-18s %-20s %-7s %-13s %s%s\n",
		       s->tuple.family == AF_INET ? "tcp" : "tcp6", la, ra, tcs_state_name(s->state),
		       (s->result.flags & TCPCRYPT_RES_F_ROLE_B) ? "B" : "A", eno_status(s),
		       s->has_report ? tcs_aead_name(s->report.aead) : "-", pc, age, by,
		       sid[0] ? sid : "-", resumed(s) ? " (resumed)" : "");
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tcnetstat [OPTION]...\n"
		"Lists live tcpcrypt connections.\n"
		"\n"
		"  -a, --all            also opted-in connections that did not negotiate\n"
		"  -n, --numeric        numeric addresses and ports (always the case)\n"
		"  -j, --json           JSON output\n"
		"  -u, --control PATH   tcpcryptd's control socket (default " DEFAULT_CONTROL ")\n"
		"  -P, --pin-dir DIR    read the sessions pinned in DIR (iterator or table) instead of\n"
		"                       asking tcpcryptd (root)\n"
		"  -h, --help           this help\n"
		"  -V, --version        version\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, 0, 'a' },
		{ "numeric", no_argument, 0, 'n' },
		{ "json", no_argument, 0, 'j' },
		{ "control", required_argument, 0, 'u' },
		{ "pin-dir", required_argument, 0, 'P' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 }
	};
	const char *control = DEFAULT_CONTROL, *pin_dir = NULL;
	struct list l = { 0 };
	int c, all = 0, json = 0, r;

	while ((c = getopt_long(argc, argv, "anju:P:hV", lo, NULL)) != -1) {
		switch (c) {
		case 'a': all = 1; break;
		case 'n': break;
		case 'j': json = 1; break;
		case 'u': control = optarg; break;
		case 'P': pin_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tcnetstat (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	r = pin_dir ? from_map(pin_dir, &l) : from_daemon(control, &l);
	if (r < 0) {
		fprintf(stderr, "tcnetstat: cannot read sessions from %s: %s%s\n",
			pin_dir ? pin_dir : control, strerror(-r),
			pin_dir ? "" : " (is tcpcryptd running?)");
		free(l.e);
		return 1;
	}
	fill_bytes(&l);
	if (json)
		print_json(&l, all);
	else
		print_table(&l, all);
	free(l.e);
	return 0;
}
