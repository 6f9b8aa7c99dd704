/*
 * session_internal.h - test-only entry points of the session engine. Not
 * part of session.h: production code always takes its X25519 secret key
 * and nonce from randombytes (tc_session_init).
 */
#ifndef TC_SESSION_INTERNAL_H
#define TC_SESSION_INTERNAL_H

#include <stdint.h>
#include "session.h"

/* Like tc_session_init(), with a fixed X25519 secret key and a fixed
 * nonce (N_A or N_B): for known-answer tests and fuzz harnesses only. */
int tc_session_init_fixed(tc_session *s, const struct tc_session_params *p,
                          const uint8_t sk[32], const uint8_t nonce[32]);

#endif /* TC_SESSION_INTERNAL_H */
