#!/bin/bash
# test_partial_init.sh - a peer that sends part of its Init message and
# stops, or ends the stream there.
#
# partial_init.py: a hostile B opted in to ENO without the shim answers the
# client's Init1 with the first 6 bytes of an Init2. The client, under
# tcpcrypt-run, asserts:
#  1. (stall) three 2-second waits for readability (epoll level-triggered,
#     poll, select): nothing readable (no byte of data exists), and no spin:
#     each wait uses well under a core. The engine keeps the part of an
#     Init message it was given (tc_session_handshake takes it), so the
#     kernel's bytes are read and do not wake the wait again;
#  2. (stall) once B closes, the read answers ECONNRESET (the Init message
#     can never be whole), not EAGAIN on a socket poll reports readable;
#  3. (fin) B half-closes right after the partial Init2: a blocking read
#     answers ECONNRESET, without spinning.
# A spin is told by CPU time used (about 2 s of 2 s), not by wall time.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_SRCDIR/tests/shim/partial_init.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
MAXCPU=0.5

for mode in stall fin; do
	port=7740; [ $mode = fin ] && port=7741
	rm -f "$T/flag.$mode"
	tc_bg "$NS_B" python3 "$PROG" server $port $mode "$T/flag.$mode" > "$T/server.$mode" 2>&1
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" $port
	tc_run "$NS_A" timeout 60 "$RUN" python3 "$PROG" client "$IP_B" $port $mode "$T/flag.$mode" \
		> "$T/client.$mode" 2>&1
	rc=$?
	touch "$T/flag.$mode"
	timeout 30 tail --pid="$srv" -f /dev/null
	sed "s/^/# $mode client: /" "$T/client.$mode" >&2
	sed "s/^/# $mode server: /" "$T/server.$mode" >&2
	[ $rc = 0 ] || tc_fail "$mode: client failed (rc $rc)"
	grep -q "^server: Init1 [0-9]* bytes, magic 15101a0e" "$T/server.$mode" ||
		tc_fail "$mode: the server got no Init1 (ENO not negotiated?)"
	if [ $mode = stall ]; then
		for call in epoll poll select; do
			line=$(grep "^$call: " "$T/client.$mode")
			[[ $line == "$call: readable=0 "* ]] || tc_fail "stall: $call reported the socket readable: $line"
			c=${line##*cpu=}
			awk -v c="$c" -v m=$MAXCPU 'BEGIN { exit !(c < m) }' ||
				tc_fail "stall: $call spun on the partial Init message: $c s of CPU in a 2 s wait"
		done
	fi
	grep -q "^end: ECONNRESET" "$T/client.$mode" ||
		tc_fail "$mode: after the stream ended mid-Init the read gave: $(grep '^end:' "$T/client.$mode")"
done
echo "PASS: a partial Init message: nothing readable, no spin, ECONNRESET once the stream ends"
