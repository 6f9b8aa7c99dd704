/* tcpcryptd_ctl.h - the control socket (AF_UNIX stream, one text request
 * line per connection: "list" or "status"; the answer ends with "ok" or
 * "error MESSAGE"). Requests are authenticated with SO_PEERCRED: root sees
 * every session, other users only the sessions of their uid. */
#ifndef TCPCRYPTD_CTL_H
#define TCPCRYPTD_CTL_H

#include "tcpcryptd.h"

struct tc_backend;

/* Creates the socket (mode 0666, parent dir made if needed); returns the
 * listening fd or a negative errno. */
int tcctl_open(const char *path);

/* Accepts and answers one request on the listening fd. */
void tcctl_serve(int lfd, const struct tcpcryptd_cfg *cfg, struct tc_backend *b);

void tcctl_close(int lfd, const char *path);

#endif
