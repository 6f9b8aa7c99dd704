/* saved_syn.h - the SYN that opened a passive connection, as the kernel
 * saved it (TCP_SAVE_SYN on the listener, TCP_SAVED_SYN on the child): the
 * divert backend's check that a slot of tcpcryptd's table belongs to this
 * connection and not to an earlier one of the same 4-tuple. */
#ifndef TC_SHIM_SAVED_SYN_H
#define TC_SHIM_SAVED_SYN_H

#include <stddef.h>
#include <stdint.h>

/* Asks the kernel to keep the SYN of each connection fd will accept
 * (harmless on a socket that never listens). */
void tc_saved_syn_enable(int fd);

/* The sequence number of the SYN saved for fd (host order), read once:
 * the kernel frees it then. 0, or -ENOENT (none saved, or not IP+TCP). */
int tc_saved_syn_seq(int fd, uint32_t *seq);

/* Parses the headers of a saved SYN (IPv4 or IPv6, then TCP): its
 * sequence number. 0, or -EINVAL. (Apart for the unit tests.) */
int tc_saved_syn_parse(const uint8_t *b, size_t len, uint32_t *seq);

#endif
