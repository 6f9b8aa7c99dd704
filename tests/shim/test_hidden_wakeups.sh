#!/bin/bash
# test_hidden_wakeups.sh - a socket that epoll, poll or select reports
# readable gives data (or end of stream) to a non-blocking read, never
# EAGAIN, while many key exchanges end one after the other.
#
# hidden_wakeups.py, plain then both ends under tcpcrypt-run: 150
# non-blocking connections per call (epoll, poll, select) to a server that
# accepts one every 5 ms and sends nothing for 3 s, so that each Init2
# wakes the client on its own. Asserts for each call:
#  - during those 3 s no connection is reported readable (as over plain
#    TCP, which the run checks too). Before, after 64 rounds in which every
#    wake-up was an Init message the shim hid, the next round's events were
#    returned unfiltered: a connection with keys and no data was reported
#    readable and its read answered EAGAIN (wrk counted read errors);
#  - then the server's byte is reported and read on every connection.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_SRCDIR/tests/shim/hidden_wakeups.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
N=150

for m in plain crypt; do
	pre=; [ $m = crypt ] && pre="$RUN --keylog=$T/keylog"
	port=7730; [ $m = crypt ] && port=7731
	tc_bg "$NS_B" $pre python3 "$PROG" server $port $N > "$T/server.$m" 2>&1
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" $port
	tc_run "$NS_A" timeout 90 $pre python3 "$PROG" client "$IP_B" $port $N > "$T/client.$m" 2>&1 ||
		{ cat "$T/client.$m" "$T/server.$m" >&2; tc_fail "$m: client failed"; }
	timeout 30 tail --pid="$srv" -f /dev/null
	sed "s/^/# $m: /" "$T/client.$m" >&2
	for call in epoll poll select; do
		grep -qx "$call quiet: 0 readable, 0 of them EAGAIN" "$T/client.$m" ||
			tc_fail "$m: $call reported connections readable before any data: $(grep "^$call quiet" "$T/client.$m")"
		grep -qx "$call data: $N of $N" "$T/client.$m" ||
			tc_fail "$m: $call: $(grep "^$call data" "$T/client.$m")"
	done
done
# every connection of the encrypted run was tcpcrypt (3 x N, and the control one)
n=$(grep '^TCPCRYPT_SS ' "$T/keylog" 2>/dev/null | awk '{print $2}' | sort -u | wc -l)
[ "$n" -ge $((3 * N + 1)) ] || tc_fail "crypt: the key log names $n sessions, expected >= $((3 * N + 1))"
echo "PASS: readable means a read gets data, with $((3 * N)) key exchanges ending one by one (epoll, poll, select)"
