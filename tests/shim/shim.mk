# shim/ tests: a socket conformance program that must pass identically on
# plain TCP and under tcpcrypt-run, and scripts that run it and real
# applications (socat, curl, python's http.server) across two namespaces.
# Built with _FORTIFY_SOURCE and 64-bit file offsets so that it calls the
# __*_chk and *64 entry points real binaries call (test_fortify.sh checks).

check_PROGRAMS += shim/conformance
shim_conformance_SOURCES = shim/conformance.c shim/conformance.h \
	shim/conf_util.c shim/conf_rw.c shim/conf_flags.c shim/conf_ready.c \
	shim/conf_nbrw.c shim/conf_tamper.c
shim_conformance_CPPFLAGS = $(AM_CPPFLAGS) -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 \
	-D_FILE_OFFSET_BITS=64
shim_conformance_CFLAGS = $(AM_CFLAGS) -O2
shim_conformance_LDADD = -lpthread

# Threads with small stacks (tests the shim's static TLS size).
check_PROGRAMS += shim/small_stack
shim_small_stack_SOURCES = shim/small_stack.c
shim_small_stack_LDADD = -lpthread

# A static program: tcpcrypt-run must refuse it.
check_PROGRAMS += shim/static_true
shim_static_true_SOURCES = shim/static_true.c
shim_static_true_LDFLAGS = -all-static

# Sandboxes and exec handover (test_handover.sh).
check_PROGRAMS += shim/handover
shim_handover_SOURCES = shim/handover.c

# fork() while threads are in epoll_ctl (test_epoll_fork.sh).
check_PROGRAMS += shim/epoll_fork
shim_epoll_fork_SOURCES = shim/epoll_fork.c
shim_epoll_fork_LDADD = -lpthread

# Children without the shim's hooks, and stdio (test_children.sh).
check_PROGRAMS += shim/children
shim_children_SOURCES = shim/children.c

# urgent data with plain-TCP semantics (test_urgent.sh).
check_PROGRAMS += shim/urgent
shim_urgent_SOURCES = shim/urgent.c

# recv flags with plain-TCP semantics (test_recv_flags.sh).
check_PROGRAMS += shim/recv_flags
shim_recv_flags_SOURCES = shim/recv_flags.c

# Calls around the socket functions: pwritev2, syscall(), io_uring (test_bypass.sh).
check_PROGRAMS += shim/bypass
shim_bypass_SOURCES = shim/bypass.c

# io_uring through inline `syscall` instructions (test_guard.sh).
check_PROGRAMS += shim/uring_raw
shim_uring_raw_SOURCES = shim/uring_raw.c

# Many key exchanges parked while others go on (test_parked.sh, bench_parked.sh).
check_PROGRAMS += shim/parked
shim_parked_SOURCES = shim/parked.c

# One process holding more encrypted connections than vm.max_map_count (test_many.sh).
check_PROGRAMS += shim/many
shim_many_SOURCES = shim/many.c

# One end of a simultaneous open, TCP_CRYPT_PASSIVE (test_simopen.sh).
check_PROGRAMS += shim/simopen
shim_simopen_SOURCES = shim/simopen.c

shim_scripts = \
	shim/test_conformance.sh \
	shim/test_fortify.sh \
	shim/test_wire.sh \
	shim/test_socat.sh \
	shim/test_fallback.sh \
	shim/test_tamper.sh \
	shim/test_curl_http.sh \
	shim/test_launcher.sh \
	shim/test_run.sh \
	shim/test_tls.sh \
	shim/test_curl_https.sh \
	shim/test_handover.sh \
	shim/test_epoll_fork.sh \
	shim/test_children.sh \
	shim/test_late_start.sh \
	shim/test_recv_flags.sh \
	shim/test_urgent.sh \
	shim/test_epoll_edge.sh \
	shim/test_hidden_wakeups.sh \
	shim/test_partial_init.sh \
	shim/test_bypass.sh \
	shim/test_guard.sh \
	shim/test_noaccept.sh \
	shim/test_stalls.sh \
	shim/test_parked.sh \
	shim/test_many.sh \
	shim/test_simopen.sh
TESTS += $(shim_scripts)
EXTRA_DIST += $(shim_scripts) shim/noaccept.py shim/stalls.py shim/epoll_edge.py shim/hidden_wakeups.py shim/partial_init.py
