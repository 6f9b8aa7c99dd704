/*
 * nfq_mangle - a misbehaving middlebox for tests, on an NFQUEUE.
 *
 *   nfq_mangle -q QUEUE -m MODE [-n MINLEN] [-c COUNT]
 *
 * Binds NFQUEUE QUEUE, prints "ready" on stdout once bound, accepts every
 * packet (IPv4 and IPv6), and logs to stderr what it changed. Modes:
 *   strip-eno     in TCP segments without SYN, every kind-69 option becomes
 *                 NOPs (A's first ACK loses its 45 02)
 *   flip-payload  in the first COUNT (default 1) TCP segments whose payload
 *                 has at least MINLEN (default 100) bytes, flips one bit of
 *                 the byte in the middle of the payload
 *   forge-urg     in the same segments, sets URG and an urgent pointer to
 *                 the byte in the middle of the payload (a receiver without
 *                 SO_OOBINLINE takes that byte out of the stream)
 * After a change the TCP checksum is recomputed in full (the kernel hands
 * the packet over with a complete checksum, and marks a mangled packet
 * CHECKSUM_NONE) and so is the IPv4 header checksum.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include "tcpcryptd_divert_nfq.h"
#include "tcpcryptd_divert_pkt.h"

enum mode { M_STRIP_ENO, M_FLIP_PAYLOAD, M_FORGE_URG };

static struct mnl_socket *nl;
static unsigned portid;
static int qnum = -1;
static enum mode mode;
static unsigned minlen = 100;
static int count_left = 1;
static volatile sig_atomic_t stop;

/* Mangles the packet in place; returns 1 if it changed it. Parsing and
 * checksums are tcpcryptd's divert backend's (tcpcryptd_divert_pkt.c). */
static int mangle(uint8_t *pkt, size_t len)
{
	struct dv_pkt p;
	uint8_t *tcp;
	size_t i, doff;
	int changed = 0;
	char addr[INET6_ADDRSTRLEN];

	if (dv_pkt_parse(&p, pkt, len, len) < 0)
		return 0;
	tcp = p.buf + p.l4off;
	doff = p.doff;
	inet_ntop(p.family, p.saddr, addr, sizeof(addr));
	if (mode == M_STRIP_ENO) {
		if (p.flags & DV_TH_SYN)
			return 0;
		for (i = 20; i < doff;) {
			uint8_t k = tcp[i], l;

			if (k == 0)
				break;
			if (k == 1) {
				i++;
				continue;
			}
			if (i + 1 >= doff)
				break;
			l = tcp[i + 1];
			if (l < 2 || i + l > doff)
				break;
			if (k == 69) {
				memset(tcp + i, 1, l);
				changed = 1;
				fprintf(stderr, "nfq_mangle: stripped a %u-byte ENO option from %s:%u\n",
					l, addr, p.sport);
			}
			i += l;
		}
	} else if (mode == M_FORGE_URG) {
		if (count_left <= 0 || p.paylen < minlen || (tcp[13] & 0x20))
			return 0;
		/* BSD reading (Linux's default): the urgent byte is the one before
		 * the pointer */
		tcp[13] |= 0x20;
		tcp[18] = (uint8_t)((p.paylen / 2 + 1) >> 8);
		tcp[19] = (uint8_t)(p.paylen / 2 + 1);
		count_left--;
		changed = 1;
		fprintf(stderr, "nfq_mangle: forged an urgent pointer to payload byte %zu of %zu from %s:%u\n",
			p.paylen / 2, p.paylen, addr, p.sport);
	} else {
		if (count_left <= 0 || p.paylen < minlen)
			return 0;
		tcp[doff + p.paylen / 2] ^= 0x01;
		count_left--;
		changed = 1;
		fprintf(stderr, "nfq_mangle: flipped a bit at payload byte %zu of %zu from %s:%u\n",
			p.paylen / 2, p.paylen, addr, p.sport);
	}
	if (changed)
		dv_pkt_fix_checksums(&p);
	return changed;
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	static char vbuf[65536 + 1024];
	static uint8_t pkt[65536];
	struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *v;
	size_t plen;
	int changed;

	(void)data;
	if (nfq_nlmsg_parse(nlh, attr) < 0)
		return MNL_CB_ERROR;
	if (!attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	plen = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]) : 0;
	if (plen > sizeof(pkt))
		plen = 0;
	if (plen)
		memcpy(pkt, mnl_attr_get_payload(attr[NFQA_PAYLOAD]), plen);
	changed = plen ? mangle(pkt, plen) : 0;
	v = nfq_nlmsg_put(vbuf, NFQNL_MSG_VERDICT, qnum);
	nfq_nlmsg_verdict_put(v, ntohl(ph->packet_id), NF_ACCEPT);
	if (changed)
		nfq_nlmsg_verdict_put_pkt(v, pkt, plen);
	if (mnl_socket_sendto(nl, v, v->nlmsg_len) < 0) {
		perror("nfq_mangle: verdict");
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: nfq_mangle -q QUEUE -m strip-eno|flip-payload|forge-urg [-n MINLEN] [-c COUNT]\n");
}

int main(int argc, char **argv)
{
	static char buf[262144];
	static const struct dv_nfq_params params = {
		.copy_mode = NFQNL_COPY_PACKET, .copy_range = 0xffff, .fail_open = 1,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct dv_nfq nfq;
	int c, r, n;
	const char *m = NULL;

	while ((c = getopt(argc, argv, "q:m:n:c:h")) != -1) {
		switch (c) {
		case 'q': qnum = atoi(optarg); break;
		case 'm': m = optarg; break;
		case 'n': minlen = strtoul(optarg, NULL, 10); break;
		case 'c': count_left = atoi(optarg); break;
		default: usage(); return 2;
		}
	}
	if (qnum < 0 || !m) {
		usage();
		return 2;
	}
	if (!strcmp(m, "strip-eno"))
		mode = M_STRIP_ENO;
	else if (!strcmp(m, "flip-payload"))
		mode = M_FLIP_PAYLOAD;
	else if (!strcmp(m, "forge-urg"))
		mode = M_FORGE_URG;
	else {
		usage();
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	r = dv_nfq_socket(&nfq, (unsigned)qnum, 0);
	if (r) {
		fprintf(stderr, "nfq_mangle: netlink: %s\n", strerror(-r));
		return 1;
	}
	nl = nfq.nl;
	portid = nfq.portid;
	r = dv_nfq_bind(&nfq, &params);
	if (r) {
		fprintf(stderr, "nfq_mangle: cannot bind queue %d: %s\n", qnum, strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("nfq_mangle: recv");
			break;
		}
		if (mnl_cb_run(buf, n, 0, portid, queue_cb, NULL) < 0 && errno != EINTR)
			break;
	}
	mnl_socket_close(nl);
	return 0;
}
