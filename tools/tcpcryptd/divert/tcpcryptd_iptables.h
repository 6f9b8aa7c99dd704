/* tcpcryptd_iptables.h - the divert backend's netfilter rules, in chains
 * of their own in the mangle table of iptables and ip6tables:
 *   OUTPUT -p tcp -m mark --mark DV_MARK/DV_MARK_MASK -j TCPCRYPT-OUT
 *   INPUT  -p tcp -j TCPCRYPT-IN
 * TCPCRYPT-OUT queues SYNs and SYN-ACKs of opted-in sockets (and labels
 * their conntrack entry) and A's segments until B's first non-SYN;
 * TCPCRYPT-IN queues labelled SYN-ACKs, the first segments B receives, and
 * (through TCPCRYPT-SYN) SYNs to opted-in listeners (-m socket
 * --restore-skmark on packets without a mark, the mark reset afterwards).
 * Every NFQUEUE rule has --queue-bypass. Nothing else of the host is
 * touched. A SYN that meets a TIME_WAIT socket instead of the listener is
 * not queued: that connection falls back to plain TCP on both ends. */
#ifndef TCPCRYPTD_IPTABLES_H
#define TCPCRYPTD_IPTABLES_H

#define DV_CONNLABEL 69

/* Runs iptables inside the network namespace of nsfd (-1: our own). */
void dv_ipt_set_netns(int nsfd);

/* Removes stale rules of a crashed run, then installs ours for queue.
 * Returns 0 or -EIO (logged). */
int dv_ipt_install(unsigned queue);

/* Removes exactly our jumps and chains (best effort). */
void dv_ipt_remove(void);

#endif
