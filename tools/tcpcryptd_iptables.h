/* tcpcryptd_iptables.h - the divert backend's netfilter rules, in chains
 * of their own in the mangle table of iptables and ip6tables:
 *   OUTPUT -p tcp -m mark --mark DV_MARK/DV_MARK_MASK -j TCPCRYPT-OUT
 *   INPUT  -p tcp -j TCPCRYPT-IN
 * TCPCRYPT-OUT queues SYNs and SYN-ACKs of opted-in sockets (and labels
 * their conntrack entry) and A's segments until B's first non-SYN;
 * TCPCRYPT-IN queues labelled SYN-ACKs, the first segments B receives, and
 * (through TCPCRYPT-SYN) SYNs to the ports of opted-in listeners. Every
 * NFQUEUE rule has --queue-bypass. Nothing else of the host is touched. */
#ifndef TCPCRYPTD_IPTABLES_H
#define TCPCRYPTD_IPTABLES_H

#define DV_CONNLABEL 69

/* Removes stale rules of a crashed run, then installs ours for queue.
 * Returns 0 or -EIO (logged). */
int dv_ipt_install(unsigned queue);

/* Removes exactly our jumps and chains (best effort). */
void dv_ipt_remove(void);

/* Queues SYNs to port (family AF_INET or AF_INET6) from now on. Once per
 * port and family. Returns 0 or -EIO. */
int dv_ipt_listen_port(int family, unsigned port, unsigned queue);

#endif
