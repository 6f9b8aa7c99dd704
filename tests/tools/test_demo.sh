#!/usr/bin/env bash
# The README's first command, scripts/demo.sh, on the tree just built: it
# must end with "OK: encrypted on the wire", and tcnetstat (run by the demo
# while the connection is open) must list the session with the session ID
# both ends read. On a kernel that refuses BPF tracing programs (or with
# TCPCRYPTD_TEST_REFUSE=sessions_iter, as tests/run-all.sh sets for the
# whole run) this proves the daemon's fallback end to end.
set -u
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root"; exit 1; }
out=$(TCPCRYPT_DEMO_BUILDDIR="$top_builddir" bash "$top_srcdir/scripts/demo.sh" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc = 0 ] || { echo "FAIL: demo.sh exited $rc"; exit 1; }
echo "$out" | grep -q "^OK: encrypted on the wire" || { echo "FAIL: no OK line"; exit 1; }
sid=$(echo "$out" | sed -n 's/^ *A \([0-9a-f]\{66\}\)$/\1/p')
[ -n "$sid" ] || { echo "FAIL: no session ID in the summary"; exit 1; }
echo "$out" | grep -A3 -- "-- tcnetstat" | grep -q "$sid" ||
	{ echo "FAIL: tcnetstat did not list session $sid"; exit 1; }
echo "PASS: test_demo"
