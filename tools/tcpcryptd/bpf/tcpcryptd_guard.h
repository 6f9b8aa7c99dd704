/* tcpcryptd_guard.h - the optional guard of the eBPF backend: an sk_msg
 * program that refuses, on negotiated sockets, every byte the shim did
 * not grant (bpf/progs/tcpcrypt_guard.bpf.c). */
#ifndef TCPCRYPTD_GUARD_H
#define TCPCRYPTD_GUARD_H

#include <stddef.h>

struct tcpcrypt_eno;
struct tcpcrypt_guard;

/* Loads the guard over the pinned maps of eno (already loaded), attaches
 * it to the sockhash and turns enrolment on. refused: treat it as refused
 * by the kernel (the test switch). Never fails: on refusal, logs one line,
 * writes "refused REASON" into state and returns NULL; else "loaded". */
struct tcpcrypt_guard *tcg_start(struct tcpcrypt_eno *eno, const char *pin_dir, int refused,
                                 char *state, size_t len);

/* Turns enrolment off, detaches the program and frees it (g may be NULL).
 * Sockets still in the sockhash leave it when the map goes away. */
void tcg_stop(struct tcpcrypt_guard *g, struct tcpcrypt_eno *eno);

#endif
