/*
 * keypool.h - X25519 key pairs made ahead of connections, off their
 * critical path: the progress thread keeps a few ready; a connection whose
 * keys are set takes one (or makes its own when none is ready). Each pair
 * serves one connection and is wiped when taken. The pool's page is never
 * dumped (MADV_DONTDUMP) and is zero in a forked child (MADV_WIPEONFORK),
 * so parent and child can never use the same pair.
 */
#ifndef TC_SHIM_KEYPOOL_H
#define TC_SHIM_KEYPOOL_H

#include "session.h"

/* Moves a ready key pair into kp and wipes it from the pool. Returns 0, or
 * -EAGAIN when none is ready (the caller makes its own). Async-signal-safe
 * and lock-free. */
int tc_keypool_take(struct tc_keypair *kp);

/* Makes key pairs for the empty slots (the progress thread calls it).
 * Returns how many it made. Does nothing before the first take: programs
 * that never set up a connection never pay for a key pair. */
int tc_keypool_fill(void);

#endif
