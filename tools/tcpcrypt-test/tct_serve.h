/* tct_serve.h - `tcpcrypt-test --serve PORT`: the "is my connection
 * encrypted?" test page, an HTTP server that tells each visitor what
 * tcpcrypt did on their connection (tct_page.c) and logs it. */
#ifndef TCT_SERVE_H
#define TCT_SERVE_H

#include "tct_host.h"

/* Runs the server on port (all addresses) until SIGINT or SIGTERM; when
 * this process does not have the shim, it first runs itself again under
 * tcpcrypt-run (argv: the original arguments). Returns the exit status. */
int tct_serve(struct tct_ctx *c, const char *port, int argc, char **argv);

#endif
