/*
 * pair.h - two shimmed TCP sockets of this process connected over
 * 127.0.0.1, and a look at the bytes the kernel carried between them.
 */
#ifndef TC_TEST_PAIR_H
#define TC_TEST_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads the shim's settings again from the environment (after setenv). */
void settings_reload(void);
/* A TCP socket bound to 127.0.0.1 on a free port (*port), not listening. */
int bound_socket(int *port);
/* Connects a new socket to 127.0.0.1:port (blocking connect through the
 * shim) while another thread accepts on lfd, and waits until both ends
 * have their keys (an encrypted connection). Returns 0 and both ends. */
int pair_connect(int lfd, int port, int *cfd, int *sfd);
/* bound_socket + listen + pair_connect, with the settings as they are. */
int pair_open(int *cfd, int *sfd);
/* Copies up to cap bytes the kernel holds for fd, left in place and
 * bypassing the shim (the recvfrom system call with MSG_PEEK); waits up
 * to 2 s for at least want bytes. Returns how many. */
size_t raw_peek(int fd, uint8_t *buf, size_t cap, size_t want);
/* Writes all n bytes through the shim (send). 0 or -1. */
int send_all(int fd, const void *b, size_t n);
/* Reads exactly n bytes through the shim (recv). 0 or -1. */
int recv_all(int fd, void *b, size_t n);
/* 1 if needle occurs in hay. */
int contains(const uint8_t *hay, size_t n, const void *needle, size_t m);

#endif
