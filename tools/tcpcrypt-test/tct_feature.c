/*
 * tct_feature.c - the "feature NAME STATE DETAIL..." lines of tcpcryptd's
 * status answer, and what each means for the user:
 *
 *   eno             sock_ops + cgroup sockopt programs: the ENO option on
 *                   the handshake; without it nothing is encrypted
 *   sessions_iter   the BPF iterator that lists sessions for tcnetstat
 *   sessions_table  the fallback: sessions in an ordinary map
 *   late_listen     listeners opted in after listen() (late daemon start)
 *
 * STATE is loaded, refused (DETAIL: the kernel's reason, what is lost) or
 * off. Names and states this program does not know are shown verbatim.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tct_host.h"

/* Copies the next space-delimited word of *p into dst; advances *p past it
 * and the blanks after it. Returns the word's length. */
static size_t next_word(const char **p, char *dst, size_t cap)
{
	size_t n = strcspn(*p, " \t\n");

	snprintf(dst, cap, "%.*s", (int)n, *p);
	*p += n;
	*p += strspn(*p, " \t");
	return n;
}

int tct_feature_parse(struct tct_ctx *c, const char *line)
{
	struct tct_feature *f;
	const char *p;

	if (strncmp(line, "feature", 7) || (line[7] != ' ' && line[7] != '\t'))
		return 0;
	if (c->nfeat >= TCT_MAX_FEATURES)
		return -ENOSPC;
	f = &c->feat[c->nfeat++];
	memset(f, 0, sizeof(*f));
	snprintf(f->raw, sizeof(f->raw), "%.*s", (int)strcspn(line, "\n"), line);
	p = line + 8;
	p += strspn(p, " \t");
	next_word(&p, f->name, sizeof(f->name));
	next_word(&p, f->state, sizeof(f->state));
	snprintf(f->detail, sizeof(f->detail), "%.*s", (int)strcspn(p, "\n"), p);
	return 1;
}

/* The feature called name, or NULL. */
static const struct tct_feature *find(const struct tct_ctx *c, const char *name)
{
	int i;

	for (i = 0; i < c->nfeat; i++)
		if (!strcmp(c->feat[i].name, name))
			return &c->feat[i];
	return NULL;
}

const char *tct_feature_state(const struct tct_ctx *c, const char *name)
{
	const struct tct_feature *f = find(c, name);

	return f ? f->state : NULL;
}

static int is(const struct tct_feature *f, const char *state)
{
	return f && !strcmp(f->state, state);
}

/* ", DETAIL" or "" */
#define WITH(f) ((f)->detail[0] ? ": " : ""), (f)->detail

static void check_eno(struct tct_ctx *c, const struct tct_feature *f)
{
	const char *what = "tcpcryptd: ENO on the TCP handshake (feature eno)";

	if (is(f, "loaded"))
		tct_check(c, TCT_OK, what, "sock_ops and sockopt programs loaded: served programs "
			  "negotiate tcpcrypt%s%s", WITH(f));
	else if (is(f, "refused"))
		tct_check(c, TCT_FAIL, what, "refused by the kernel%s%s: nothing is encrypted, every "
			  "connection stays plain TCP", WITH(f));
	else
		tct_check(c, TCT_FAIL, what, "off%s%s: nothing is encrypted, every connection "
			  "stays plain TCP", WITH(f));
}

/* The sessions lists: the iterator, else the table; tcnetstat needs one. */
static void check_sessions(struct tct_ctx *c, const struct tct_feature *f,
			   const struct tct_feature *other)
{
	int iter = !strcmp(f->name, "sessions_iter");
	char what[96];
	const char *then;

	snprintf(what, sizeof(what), "tcpcryptd: %s (feature %s)",
		 iter ? "sessions iterator for tcnetstat" : "sessions table for tcnetstat", f->name);
	if (is(f, "loaded")) {
		tct_check(c, TCT_OK, what, "loaded: tcnetstat lists sessions %s%s%s",
			  iter ? "through the BPF iterator" : "from the daemon's table", WITH(f));
		return;
	}
	if (is(other, "loaded"))
		then = iter ? "tcnetstat lists sessions from the daemon's table instead (no loss)"
			    : "not needed, tcnetstat lists sessions through the BPF iterator";
	else
		then = "tcnetstat shows no sessions (connections are still encrypted)";
	if (is(f, "off") && is(other, "loaded"))
		tct_check(c, TCT_OK, what, "off%s%s: %s", WITH(f), then);
	else
		tct_check(c, TCT_WARN, what, "%s%s%s: %s", f->state, WITH(f), then);
}

/* Renewing a listener's opt-in after listen() (bpf_setsockopt from the
 * setsockopt hook): without it, servers started before tcpcryptd stay
 * plain until they listen again. */
static void check_late_listen(struct tct_ctx *c, const struct tct_feature *f)
{
	const char *what = "tcpcryptd: listeners opted in after listen() (feature late_listen)";

	if (is(f, "loaded"))
		tct_check(c, TCT_OK, what, "loaded: servers started before tcpcryptd are encrypted "
			  "within a second%s%s", WITH(f));
	else
		tct_check(c, TCT_WARN, what, "%s%s%s: a server started before tcpcryptd stays plain "
			  "until it is restarted", f->state, WITH(f));
}

int tct_check_features(struct tct_ctx *c)
{
	static const char *const states[] = { "loaded", "refused", "off" };
	const struct tct_feature *f;
	int i, j, known, failed = c->failed;

	if (!c->daemon_up)
		return 0;
	if (!c->nfeat) {
		tct_check(c, TCT_SKIP, "tcpcryptd's kernel features", "it reports none (backend %s)",
			  c->backend[0] ? c->backend : "?");
		return 0;
	}
	for (i = 0; i < c->nfeat; i++) {
		f = &c->feat[i];
		for (known = 0, j = 0; j < 3; j++)
			known |= !strcmp(f->state, states[j]);
		if (known && !strcmp(f->name, "eno"))
			check_eno(c, f);
		else if (known && !strcmp(f->name, "sessions_iter"))
			check_sessions(c, f, find(c, "sessions_table"));
		else if (known && !strcmp(f->name, "sessions_table"))
			check_sessions(c, f, find(c, "sessions_iter"));
		else if (known && !strcmp(f->name, "late_listen"))
			check_late_listen(c, f);
		else
			tct_check(c, TCT_NOTE, "tcpcryptd reports", "%s (not known to this tcpcrypt-test)",
				  f->raw);
	}
	if (c->backend[0] && !strcmp(c->backend, "ebpf") && !find(c, "eno"))
		tct_check(c, TCT_NOTE, "tcpcryptd reports", "no eno feature line (cannot tell whether "
			  "handshakes carry ENO)");
	return c->failed > failed ? -ENOTSUP : 0;
}
