#!/bin/bash
# test_nbsend.sh - send() right after a non-blocking connect(), as asyncore
# and asynchat clients do (found by test_parity_python.sh: CPython's
# test_asynchat failed once with EPROTO under tcpcrypt-run), 2000 times in
# one python3 process under tcpcrypt-run, server in the same process.
# Asserts, plain and under tcpcrypt-run: the process exits 0 within 60 s
# (no crash), and no send() fails other than with EAGAIN (plain TCP gives
# none: the server keeps every connection).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_setup
P=$TC_TOP_SRCDIR/tests/apps/nbsend.py
FAILS=()
for mode in plain tcpcrypt; do
	pre=()
	[ $mode = tcpcrypt ] && pre=("$RUN" --log=warn --log-file="$T/shim.log")
	tc_run "$NS_A" timeout 60 "${pre[@]}" "$PY" "$P" 2000 > "$T/$mode.out" 2>&1
	rc=$?
	tc_log "$mode: exit $rc: $(tail -n 2 "$T/$mode.out" | tr '\n' ' ')"
	[ $rc = 0 ] || FAILS+=("$mode: exit status $rc ($( [ $rc -gt 128 ] && echo "signal $((rc - 128))"; [ $rc = 124 ] && echo hung)): $(tail -n 1 "$T/$mode.out")")
done
if [ ${#FAILS[@]} != 0 ]; then
	app_show "$T/shim.log"
	tc_fail "${FAILS[*]}"
fi
echo "PASS: 2000 non-blocking connect + send + close, plain and under tcpcrypt-run"
