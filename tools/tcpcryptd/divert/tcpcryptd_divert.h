/* tcpcryptd_divert.h - the divert backend: TCP-ENO through an NFQUEUE
 * (tcpcryptd -b divert -p QUEUE). One daemon per network namespace. */
#ifndef TCPCRYPTD_DIVERT_H
#define TCPCRYPTD_DIVERT_H

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include "tcpcryptd.h"
#include "tcpcrypt/divert_proto.h"

/* Installs the rules, binds the queue, opens the control socket and
 * serves until a stop signal arrives on sfd (a signalfd); removes the
 * rules on the way out. Returns the exit status. */
int dv_run(const struct tcpcryptd_cfg *cfg, int sfd);

/* The control requests (tcpcryptd_divert_ctl.c calls them): fd is the
 * client's TCP socket. Return 0 or a negative errno. */
int dv_optin(int fd, const struct tcpcrypt_eno_offer *offer, const struct ucred *cred);
int dv_result(int fd, struct tcpcrypt_eno_result *res);

/* "status" lines. */
void dv_status(FILE *out);

/* Control socket service (tcpcryptd_divert_ctl.c). */
struct dv_ctl;
struct dv_ctl *dv_ctl_open(const char *path);
/* The fds to poll (up to max); returns their count. */
int dv_ctl_pollfds(struct dv_ctl *c, struct pollfd *pfd, int max);
/* Serves whatever is ready among the fds dv_ctl_pollfds gave. */
void dv_ctl_serve(struct dv_ctl *c, const struct pollfd *pfd, int n, uint64_t now_ms);
void dv_ctl_close(struct dv_ctl *c);

uint64_t dv_now_ms(void);

/* Reads one queued segment from the queue's netlink socket fd, applies the
 * rules, writes the table and sends the verdict. peek: read it with
 * MSG_PEEK and consume it only after the verdict (the daemon; see
 * tcpcryptd_divert_watchdog.c). Returns 1, 0 (none waiting) or -errno. */
int dv_queue_step(int fd, int peek);

#endif
