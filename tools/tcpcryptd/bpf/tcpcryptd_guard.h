/* tcpcryptd_guard.h - the optional guard of the eBPF backend: on a
 * negotiated connection, a segment carrying a byte the shim did not write
 * never leaves (bpf/progs/tcpcrypt_guard.bpf.c). */
#ifndef TCPCRYPTD_GUARD_H
#define TCPCRYPTD_GUARD_H

#include <stddef.h>

struct tcpcrypt_eno;
struct tcpcrypt_guard;

/* Loads the guard over the pinned maps of eno (already loaded), attaches
 * its programs to the cgroup cg_fd (replacing and unpinning those an
 * earlier daemon left in pin_dir), pins them and turns enrolment on.
 * refused: treat it as refused by the kernel (the test switch). Never
 * fails: on refusal, logs one line, writes "refused REASON" into state and
 * returns NULL; else writes "loaded". */
struct tcpcrypt_guard *tcg_start(struct tcpcrypt_eno *eno, const char *pin_dir, int cg_fd,
                                 int refused, char *state, size_t len);

/* Turns enrolment off, detaches the programs from cg_fd and frees them
 * (g may be NULL). Their pins go with the pin dir. Connections enrolled
 * before stay guarded by nothing: their storage remains, unread. */
void tcg_stop(struct tcpcrypt_guard *g, struct tcpcrypt_eno *eno, int cg_fd);

#endif
