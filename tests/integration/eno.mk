# tcpcryptd / ENO-on-the-wire integration tests (root, network namespaces).
ENO_TESTS = \
	integration/eno_basic.sh \
	integration/eno_fallback.sh
if ENABLE_BPF
check_PROGRAMS += integration/eno_peer
integration_eno_peer_SOURCES = integration/eno_peer.c

TESTS += $(ENO_TESTS)
endif
EXTRA_DIST += integration/eno_lib.sh $(ENO_TESTS)
