#!/bin/bash
# test_oobinline.sh - SO_OOBINLINE set right after accept() (CPython's
# test_ftplib server; found by test_parity_python.sh, where test_abort
# timed out under tcpcrypt-run): 100 connections in one python3, the client
# sends "NOOP\r\n" then "ABOR\r\n" with MSG_OOB.
# Asserts, plain and under tcpcrypt-run: the server reads every byte, the
# urgent "\n" inline, on all 100 connections (each read has 1 s).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_setup
P=$TC_TOP_SRCDIR/tests/apps/oobinline.py
FAILS=()
for mode in plain tcpcrypt; do
	pre=()
	[ $mode = tcpcrypt ] && pre=("$RUN" --log=warn --log-file="$T/shim.log")
	tc_run "$NS_A" timeout 200 "${pre[@]}" "$PY" "$P" 100 > "$T/$mode.out" 2>&1
	rc=$?
	tc_log "$mode: exit $rc: $(tail -n 4 "$T/$mode.out" | tr '\n' ' ')"
	[ $rc = 0 ] || FAILS+=("$mode: $(tail -n 1 "$T/$mode.out")")
done
if [ ${#FAILS[@]} != 0 ]; then
	app_show "$T/shim.log"
	tc_fail "${FAILS[*]}"
fi
echo "PASS: SO_OOBINLINE set after accept() keeps the urgent byte inline, plain and under tcpcrypt-run"
