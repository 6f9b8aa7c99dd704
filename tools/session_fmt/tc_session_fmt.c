/* tc_session_fmt.c - text form of a tc_session (see tc_session_fmt.h). */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "tc_session_fmt.h"

static void hex(char *out, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
	if (n == 0)
		strcpy(out, "-");
}

static int unhex(const char *s, size_t slen, uint8_t *out, size_t cap)
{
	size_t i;

	if (slen == 1 && s[0] == '-')
		return 0;
	if (slen % 2 || slen / 2 > cap)
		return -EINVAL;
	for (i = 0; i < slen / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = v;
	}
	return slen / 2;
}

int tcs_format(uint64_t cookie, const struct tc_session *s, char *buf, size_t len)
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN], comm[TC_COMM_LEN + 1];
	char lo[2 * TCPCRYPT_ENO_OPT_MAX + 1], po[2 * TCPCRYPT_ENO_OPT_MAX + 1], sid[129];
	int af = s->tuple.family == AF_INET ? AF_INET : AF_INET6;
	size_t i;
	int n;

	inet_ntop(af, s->tuple.laddr, la, sizeof(la));
	inet_ntop(af, s->tuple.raddr, ra, sizeof(ra));
	for (i = 0; i < TC_COMM_LEN && s->comm[i]; i++)
		comm[i] = (s->comm[i] > ' ' && s->comm[i] < 127) ? s->comm[i] : '?';
	comm[i] = '\0';
	if (i == 0)
		strcpy(comm, "-");
	hex(lo, s->result.local_opt, s->result.local_len <= TCPCRYPT_ENO_OPT_MAX ? s->result.local_len : 0);
	hex(po, s->result.peer_opt, s->result.peer_len <= TCPCRYPT_ENO_OPT_MAX ? s->result.peer_len : 0);
	hex(sid, s->report.sessid, s->has_report && s->report.sessid_len <= 64 ? s->report.sessid_len : 0);
	n = snprintf(buf, len,
		     "session cookie=%llu family=%d laddr=%s lport=%u raddr=%s rport=%u state=%u "
		     "flags=0x%02x reason=%u local=%s peer=%s report=%u role=%u aead=0x%04x "
		     "sessid=%s pid=%u uid=%u comm=%s est=%llu bytes_out=%lld bytes_in=%lld\n",
		     (unsigned long long)cookie, af == AF_INET ? 4 : 6, la, s->tuple.lport, ra,
		     s->tuple.rport, s->state, s->result.flags, s->result.reason, lo, po,
		     s->has_report, s->report.role, s->report.aead, sid, s->pid, s->uid, comm,
		     (unsigned long long)s->est_ns, s->has_bytes ? (long long)s->bytes_acked : -1LL,
		     s->has_bytes ? (long long)s->bytes_received : -1LL);
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : n;
}

int tcs_parse(const char *line, uint64_t *cookie, struct tc_session *s)
{
	const char *p = line;
	int af = AF_INET;
	char la[64] = "", ra[64] = "";

	memset(s, 0, sizeof(*s));
	if (strncmp(p, "session ", 8))
		return -EINVAL;
	p += 8;
	while (*p) {
		const char *eq = strchr(p, '='), *end;
		char key[16], val[160];
		size_t kl, vl;

		if (!eq)
			break;
		end = eq + strcspn(eq, " \n");
		kl = eq - p;
		vl = end - eq - 1;
		if (kl >= sizeof(key) || vl >= sizeof(val))
			return -EINVAL;
		memcpy(key, p, kl);
		key[kl] = '\0';
		memcpy(val, eq + 1, vl);
		val[vl] = '\0';
		if (!strcmp(key, "cookie"))
			*cookie = strtoull(val, NULL, 10);
		else if (!strcmp(key, "family"))
			af = atoi(val) == 6 ? AF_INET6 : AF_INET;
		else if (!strcmp(key, "laddr"))
			memcpy(la, val, vl < sizeof(la) ? vl + 1 : 0);
		else if (!strcmp(key, "raddr"))
			memcpy(ra, val, vl < sizeof(ra) ? vl + 1 : 0);
		else if (!strcmp(key, "lport"))
			s->tuple.lport = atoi(val);
		else if (!strcmp(key, "rport"))
			s->tuple.rport = atoi(val);
		else if (!strcmp(key, "state"))
			s->state = atoi(val);
		else if (!strcmp(key, "flags"))
			s->result.flags = strtoul(val, NULL, 0);
		else if (!strcmp(key, "reason"))
			s->result.reason = atoi(val);
		else if (!strcmp(key, "local")) {
			int n = unhex(val, vl, s->result.local_opt, TCPCRYPT_ENO_OPT_MAX);
			s->result.local_len = n > 0 ? n : 0;
		} else if (!strcmp(key, "peer")) {
			int n = unhex(val, vl, s->result.peer_opt, TCPCRYPT_ENO_OPT_MAX);
			s->result.peer_len = n > 0 ? n : 0;
		} else if (!strcmp(key, "report"))
			s->has_report = atoi(val);
		else if (!strcmp(key, "role"))
			s->report.role = atoi(val);
		else if (!strcmp(key, "aead"))
			s->report.aead = strtoul(val, NULL, 0);
		else if (!strcmp(key, "sessid")) {
			int n = unhex(val, vl, s->report.sessid, sizeof(s->report.sessid));
			s->report.sessid_len = n > 0 ? n : 0;
		} else if (!strcmp(key, "pid"))
			s->pid = strtoul(val, NULL, 10);
		else if (!strcmp(key, "uid"))
			s->uid = strtoul(val, NULL, 10);
		else if (!strcmp(key, "est"))
			s->est_ns = strtoull(val, NULL, 10);
		else if (!strcmp(key, "bytes_out") && val[0] != '-') {
			s->bytes_acked = strtoull(val, NULL, 10);
			s->has_bytes = 1;
		} else if (!strcmp(key, "bytes_in") && val[0] != '-')
			s->bytes_received = strtoull(val, NULL, 10);
		else if (!strcmp(key, "comm"))
			memcpy(s->comm, val, vl < sizeof(s->comm) ? vl : sizeof(s->comm) - 1);
		p = end;
		while (*p == ' ' || *p == '\n')
			p++;
	}
	s->tuple.family = af;
	if (inet_pton(af, la, s->tuple.laddr) != 1 || inet_pton(af, ra, s->tuple.raddr) != 1)
		return -EINVAL;
	return 0;
}

const char *tcs_state_name(unsigned state)
{
	static const char *const names[] = { "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV",
		"FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
		"LISTEN", "CLOSING", "NEW_SYN_RECV" };

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

const char *tcs_aead_name(unsigned aead)
{
	switch (aead) {
	case 0x0001: return "AES-128-GCM";
	case 0x0002: return "AES-256-GCM";
	case 0x0010: return "CHACHA20-POLY1305";
	case 0: return "-";
	default: return "unknown";
	}
}

int tcs_read_iter(int link_fd, int (*fn)(uint64_t cookie, const struct tc_session *s, void *arg),
                  void *arg)
{
	size_t len = 0, cap = 16 * sizeof(struct tc_session_rec), off;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int fd, r = 0;

	if (!buf)
		return -ENOMEM;
	fd = bpf_iter_create(link_fd);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	/* records may straddle read() boundaries: read everything first */
	for (;;) {
		if (cap - len < 4096) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	for (off = 0; r == 0 && off + sizeof(struct tc_session_rec) <= len;
	     off += sizeof(struct tc_session_rec)) {
		struct tc_session_rec rec;

		memcpy(&rec, buf + off, sizeof(rec));
		r = fn(rec.cookie, &rec.s, arg);
	}
	free(buf);
	return r;
}

int tcs_read_table(int map_fd, int (*fn)(uint64_t cookie, const struct tc_session *s, void *arg),
                   void *arg)
{
	uint64_t key, next, *prev = NULL;
	struct tc_session s;
	int r = 0;

	/* a key deleted under us restarts the walk at the first key
	 * (the kernel's behaviour): bound the walk by the map's size */
	for (unsigned n = 0; n < (1u << 20); n++) {
		if (bpf_map_get_next_key(map_fd, prev, &next) < 0)
			return errno == ENOENT ? r : -errno;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map_fd, &key, &s) < 0)
			continue;       /* closed meanwhile */
		r = fn(key, &s, arg);
		if (r)
			return r;
	}
	return r;
}
