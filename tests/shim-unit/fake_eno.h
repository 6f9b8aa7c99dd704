/*
 * fake_eno.h - an ENO source for tests (shim/eno_source.h) that decides
 * like a host running tcpcryptd would, without root, eBPF or a daemon:
 * it records each socket's offer, and for a connection between two
 * sockets of this process answers the result the kernel's programs would
 * give (the negotiation itself by libtcpcrypt's eno.c), or a forced one.
 */
#ifndef TC_TEST_FAKE_ENO_H
#define TC_TEST_FAKE_ENO_H

enum fake_mode {
	FAKE_NEGOTIATE,   /* what ENO decides from the two offers */
	FAKE_PLAIN,       /* opted in, but the peer sent no ENO option */
	FAKE_ABSENT,      /* no backend: opt-in fails with ENOPROTOOPT */
	FAKE_WRONG_ROLE,  /* negotiated, but the role flag contradicts the options */
};

/* Installs the source (tc_eno_source_set) and forgets all offers. */
void fake_eno_install(enum fake_mode mode);
/* How many times a socket was opted in (listeners included) since. */
int fake_eno_opt_ins(void);
/* How many reports of keys set were received since. */
int fake_eno_reports(void);

#endif
