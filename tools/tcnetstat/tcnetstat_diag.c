/* tcnetstat_diag.c - see tcnetstat_diag.h. One inet_diag dump per address
 * family; needs no privilege (the same information ss -ti shows). */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "tcnetstat_diag.h"

/* Fills the entry whose cookie is c from a message's INET_DIAG_INFO. */
static int match(const struct inet_diag_msg *m, size_t len, const uint64_t *cookies,
                 struct tc_session **s, size_t n)
{
	uint64_t c = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	struct rtattr *a = (struct rtattr *)(m + 1);
	size_t left = len - NLMSG_ALIGN(sizeof(*m)), i;

	for (i = 0; i < n; i++)
		if (cookies[i] == c && !s[i]->has_bytes)
			break;
	if (i == n)
		return 0;
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		struct tcp_info ti;
		size_t l = RTA_PAYLOAD(a);

		if (a->rta_type != INET_DIAG_INFO)
			continue;
		memset(&ti, 0, sizeof(ti));
		memcpy(&ti, RTA_DATA(a), l < sizeof(ti) ? l : sizeof(ti));
		if (l < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
			return 0;          /* a kernel older than the counters */
		s[i]->bytes_acked = ti.tcpi_bytes_acked;
		s[i]->bytes_received = ti.tcpi_bytes_received;
		s[i]->has_bytes = 1;
		return 1;
	}
	return 0;
}

/* Dumps the TCP sockets of one family and fills the matching sessions. */
static int dump(int fd, int family, const uint64_t *cookies, struct tc_session **s, size_t n)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_ext = 1 << (INET_DIAG_INFO - 1), .idiag_states = ~0u },
	};
	static char buf[32768];
	int filled = 0;

	if (send(fd, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return len < 0 ? -errno : filled;
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return filled;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EPROTO;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			filled += match(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN, cookies, s, n);
		}
	}
}

int tcd_fill_bytes(const uint64_t *cookies, struct tc_session **sessions, size_t n)
{
	int fd, r4, r6;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	r4 = dump(fd, AF_INET, cookies, sessions, n);
	r6 = dump(fd, AF_INET6, cookies, sessions, n);
	close(fd);
	if (r4 < 0 && r6 < 0)
		return r4;
	return (r4 > 0 ? r4 : 0) + (r6 > 0 ? r6 : 0);
}
