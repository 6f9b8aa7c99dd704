/* tcpcryptd_divert_nfq.c - binding an NFQUEUE (see the header). */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include "tcpcryptd_divert_nfq.h"

int dv_nfq_socket(struct dv_nfq *q, unsigned qnum, int rcvbuf)
{
	int one = 1, e;

	q->qnum = qnum;
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!q->nl)
		return -errno;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		mnl_socket_close(q->nl);
		q->nl = NULL;
		return -e;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	setsockopt(mnl_socket_get_fd(q->nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (rcvbuf)
		setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			   sizeof(rcvbuf));
	return 0;
}

/* Sends a config message (the bind command, or the parameters) and waits
 * for its ack. */
static int nl_cfg(struct dv_nfq *q, const struct dv_nfq_params *p)
{
	static char buf[8192];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->qnum);
	int r;

	if (!p) {
		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	} else {
		nfq_nlmsg_cfg_put_params(nlh, p->copy_mode, (int)p->copy_range);
		if (p->fail_open) {
			mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
			mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
		}
		if (p->maxlen)
			mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(p->maxlen));
	}
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	r = (int)mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (r < 0)
		return -errno;
	r = mnl_cb_run(buf, (size_t)r, 0, q->portid, NULL, NULL);
	return r < 0 ? -errno : 0;
}

int dv_nfq_bind(struct dv_nfq *q, const struct dv_nfq_params *p)
{
	int r = nl_cfg(q, NULL);

	return r ? r : nl_cfg(q, p);
}
