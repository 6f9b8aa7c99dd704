# tcpcryptd / ENO-on-the-wire integration tests (root, network namespaces).
ENO_TESTS = \
	integration/eno_basic.sh \
	integration/eno_fallback.sh \
	integration/eno_middlebox.sh \
	integration/eno_robust.sh \
	integration/eno_tcnetstat.sh \
	integration/eno_optional.sh \
	integration/eno_daemon.sh \
	integration/eno_badsyn.sh \
	integration/eno_badsynack.sh \
	integration/eno_flood.sh \
	integration/eno_listeners.sh \
	integration/eno_listen_lost.sh
if ENABLE_BPF
check_PROGRAMS += integration/eno_peer integration/eno_synflood
integration_eno_peer_SOURCES = integration/eno_peer.c
integration_eno_synflood_SOURCES = integration/eno_synflood.c

TESTS += $(ENO_TESTS)
endif
EXTRA_DIST += integration/eno_lib.sh integration/eno_rawsyn.py integration/eno_split_peer.py \
	$(ENO_TESTS)

# A misbehaving middlebox on an NFQUEUE (used by the shim tests too).
if HAVE_NFQ
check_PROGRAMS += integration/nfq_mangle
# (its queue binding, packet parsing and checksums are tcpcryptd's divert
# backend's)
integration_nfq_mangle_SOURCES = integration/nfq_mangle.c \
	$(top_srcdir)/tools/tcpcryptd/divert/tcpcryptd_divert_nfq.c \
	$(top_srcdir)/tools/tcpcryptd/divert/tcpcryptd_divert_pkt.c
integration_nfq_mangle_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/tcpcryptd/divert
integration_nfq_mangle_CFLAGS = $(AM_CFLAGS) $(NFQ_CFLAGS)
integration_nfq_mangle_LDADD = $(NFQ_LIBS)
endif
