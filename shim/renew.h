/*
 * renew.h - a listener's opt-in kept in step with tcpcryptd.
 *
 * A listener opts in at listen(). When no daemon ran then, or the daemon
 * was restarted since (a clean stop removes its programs and maps, and
 * with them every socket's opt-in), the listener would answer every later
 * SYN in plain TCP. So the shim looks again, at most once a second per
 * listener: from the progress thread, and from accept() on a listener
 * that is not opted in. A listener the daemon no longer knows is opted in
 * again (a "renewal"; the kernel programs and the divert backend accept
 * an offer for a listening socket). Connections whose handshake was over
 * before the renewal stay plain.
 */
#ifndef TC_SHIM_RENEW_H
#define TC_SHIM_RENEW_H

struct tc_sock;

#define TC_RENEW_MS 1000

/* Monotonic milliseconds (coarse clock: no syscall). */
long long tc_renew_now(void);
/* listen(): the outcome r of the listener's opt-in (0 or -errno) and
 * how it went (via_divert); schedules the next look. */
void tc_renew_note(struct tc_sock *s, int r, int via_divert);
/* accept() on listener s when something suggests a look (it is not opted
 * in, or a child came out plain): wakes the progress thread if the look
 * is due. Costs a clock read (no syscall) when it is not. */
void tc_renew_poke(struct tc_sock *s);
/* The progress thread: looks at every listener that is due, and opts in
 * again those the daemon serving us now does not know. Returns the
 * ms until the next one is due, or -1 when there is no listener. */
int tc_renew_all(void);
/* accept() on a listener that is not opted in: 1 if child c was opted in
 * all the same (another process renewed the shared listener). */
int tc_renew_child_opted(int c);

#endif
