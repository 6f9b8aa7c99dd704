# tcpcryptd's divert backend (NFQUEUE; tcpcryptd -b divert): the shim and
# ENO integration tests again, against the divert backend (each dv_*.sh
# runs one of them through run_with_divert.sh, which sets
# TCPCRYPT_TEST_BACKEND=divert for tests/lib/netns.sh), plus the tests of
# the backend itself.
#
# eBPF-only, not run here: integration/eno_daemon.sh (bpftool, pins);
# integration/eno_flood.sh, eno_listen_lost.sh (the eBPF backend's maps);
# shim/test_guard.sh (the guard is a feature of the eBPF backend);
# shim/test_launcher.sh needs no daemon.
DIVERT_TESTS = \
	divert/dv_test_conformance.sh \
	divert/dv_test_fortify.sh \
	divert/dv_test_wire.sh \
	divert/dv_test_children.sh \
	divert/dv_test_handover.sh \
	divert/dv_test_socat.sh \
	divert/dv_test_curl_http.sh \
	divert/dv_test_fallback.sh \
	divert/dv_test_tamper.sh \
	divert/dv_test_late_start.sh \
	divert/dv_test_nginx_late.sh \
	divert/dv_test_bypass.sh \
	divert/dv_test_recv_flags.sh \
	divert/dv_test_noaccept.sh \
	divert/dv_test_urgent.sh \
	divert/dv_test_stalls.sh \
	divert/dv_eno_basic.sh \
	divert/dv_eno_fallback.sh \
	divert/dv_eno_middlebox.sh \
	divert/dv_eno_robust.sh \
	divert/dv_eno_badsyn.sh \
	divert/dv_eno_badsynack.sh \
	divert/dv_eno_tcnetstat.sh \
	divert/dv_eno_listeners.sh \
	divert/divert_rules.sh \
	divert/divert_kill.sh \
	divert/divert_stale_slot.sh \
	divert/divert_stall.sh \
	divert/divert_window.sh \
	divert/divert_flood.sh \
	divert/divert_state_lost.sh \
	divert/divert_forged.sh \
	divert/divert_ack_bypass.sh \
	divert/divert_ctl_slots.sh
if ENABLE_BPF
if HAVE_NFQ
TESTS += $(DIVERT_TESTS)
# holds a queued segment until told (divert_window.sh)
check_PROGRAMS += divert/hold_queue
divert_hold_queue_SOURCES = divert/hold_queue.c \
	$(top_srcdir)/tools/tcpcryptd/divert/tcpcryptd_divert_nfq.c
divert_hold_queue_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/tcpcryptd/divert
divert_hold_queue_CFLAGS = $(AM_CFLAGS) $(NFQ_CFLAGS)
divert_hold_queue_LDADD = $(NFQ_LIBS)
# handshake cost, divert vs eBPF vs plain (make -C tests bench)
noinst_PROGRAMS += divert/bench_divert
bench_programs += divert/bench_divert
bench_scripts += divert/bench_divert.sh
divert_bench_divert_SOURCES = divert/bench_divert.c divert/divert_req.h
endif
endif
# the packet surgery (parse, insert an option, lengths and checksums)
if HAVE_CHECK
UNIT_TESTS += divert/check_divert_pkt
check_PROGRAMS += divert/check_divert_pkt
TESTS += divert/check_divert_pkt
divert_check_divert_pkt_SOURCES = divert/check_divert_pkt.c
divert_check_divert_pkt_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
divert_check_divert_pkt_LDADD = $(CHECK_LIBS)
# the control requests (binary kinds, lengths, reports)
UNIT_TESTS += divert/check_divert_req
check_PROGRAMS += divert/check_divert_req
TESTS += divert/check_divert_req
divert_check_divert_req_SOURCES = divert/check_divert_req.c
divert_check_divert_req_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
divert_check_divert_req_LDADD = $(CHECK_LIBS)
endif
EXTRA_DIST += $(DIVERT_TESTS) divert/run_with_divert.sh divert/divert_ctl.py divert/divert_req.h \
	divert/divert_echo.py divert/divert_tab.py divert/divert_forge.py divert/divert_ctl_hold.py divert/stall_peer.py divert/bench_divert.sh
