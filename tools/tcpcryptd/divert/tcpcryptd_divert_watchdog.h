/* tcpcryptd_divert_watchdog.h - a second process that serves the divert
 * daemon's NFQUEUE while the daemon is stopped or hung (see the comment at
 * the top of tcpcryptd_divert_watchdog.c). */
#ifndef TCPCRYPTD_DIVERT_WATCHDOG_H
#define TCPCRYPTD_DIVERT_WATCHDOG_H

/* How long segments may wait in the queue while the daemon's loop does
 * not turn before the watchdog takes over (ms). Well below the shim's
 * 200 ms control timeout, after which it reads the table. */
#define DV_WD_STALL_MS 50

/* Starts the watchdog (daemon side): qfd is the queue's netlink socket,
 * the table is written through dv_tab_fd(). Returns 0 or a negative
 * errno (then the daemon runs without one). */
int dv_wd_start(int qfd);
/* Stops it (handing the queue back first); the daemon's fds are its own
 * again. */
void dv_wd_stop(void);

/* The daemon's side of the protocol: a turn of the main loop, and the
 * bracket around one segment (peek .. verdict .. consume). */
void dv_wd_beat(void);
void dv_wd_step_begin(void);
void dv_wd_step_end(void);
/* 1 while the watchdog holds the queue (the daemon's fds are revoked). */
int dv_wd_revoked(void);

#endif
