/* hold_queue.c - test helper: serves NFQUEUE QNUM (in the current network
 * namespace) one segment at a time, holding each until told to let it go.
 *
 *   hold_queue QNUM
 *
 * For each queued segment it prints "held" (flushed) and waits for a line
 * on stdin; then it accepts the segment (NF_ACCEPT: it goes on to the
 * next hooks) and prints "released". EOF on stdin: exit (the rule's
 * --queue-bypass lets later segments through). divert_window.sh uses it
 * to hold B's SYN-ACK on A after A's daemon judged it, while it stops
 * that daemon and its watchdog. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include "tcpcryptd_divert_nfq.h"   /* binding the queue, as tcpcryptd does */

static struct mnl_socket *nl;
static unsigned qnum, portid;
static uint32_t last_id;

static int on_pkt(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;

	(void)data;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	last_id = ntohl(ph->packet_id);
	return MNL_CB_OK;
}

/* The verdict NF_ACCEPT for packet id. Returns 0 or -errno. */
static int accept_pkt(uint32_t id)
{
	static char buf[512];
	struct nlmsghdr *v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, qnum);

	nfq_nlmsg_verdict_put(v, id, NF_ACCEPT);
	return mnl_socket_sendto(nl, v, v->nlmsg_len) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	static const struct dv_nfq_params params = { .copy_mode = NFQNL_COPY_META };
	struct dv_nfq nfq;
	char line[64];
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: hold_queue QNUM\n");
		return 2;
	}
	qnum = (unsigned)atoi(argv[1]);
	n = dv_nfq_socket(&nfq, qnum, 0);
	if (n < 0) {
		fprintf(stderr, "netlink: %s\n", strerror(-n));
		return 1;
	}
	nl = nfq.nl;
	portid = nfq.portid;
	n = dv_nfq_bind(&nfq, &params);
	if (n < 0) {
		fprintf(stderr, "nfqueue bind: %s\n", strerror(-n));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("recv");
			return 1;
		}
		last_id = 0;
		mnl_cb_run(buf, (size_t)n, 0, portid, on_pkt, NULL);
		if (!last_id)
			continue;
		printf("held\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin)) {
			accept_pkt(last_id);
			return 0;
		}
		if (accept_pkt(last_id) < 0) {
			perror("verdict");
			return 1;
		}
		printf("released\n");
		fflush(stdout);
	}
}
