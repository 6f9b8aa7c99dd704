#!/bin/bash
# test_parked.sh - key exchanges parked on a silent server do not slow the
# others (issue 13: "the progress thread serves 10,000 connections"). One
# client process parks PARKED_N (10,000) connections on a server program
# that listens but does not accept (so Init2 does not come: their key
# exchange waits in the shim's progress thread). With them parked it opens
# PARKED_LIVE (200) connections to a live server and does a request and its
# response on each, then as many "hellos" (written before the keys exist,
# the application then reading only another connection: the progress thread
# alone finishes the key exchange and sends them). Then the server accepts
# the parked ones, which the progress thread alone must finish. Checked:
# every live exchange and hello, and every parked connection, completes
# encrypted (TCP_CRYPT_SESSID, and the key log holds a session for each),
# and the data of a sample (every 50th parked one) comes back intact.
# Reported, not checked: the time to park them, the live connections'
# latency, the hellos' delay, the time the parked ones take to finish, and
# the progress thread's CPU (idle with them parked, during the live
# exchanges and hellos, while finishing them). About 20 s.
# Then (parked fds) fd numbers, dups and fork against the thread's epoll
# set: hellos queued on a dup of a parked connection whose first fd was
# closed, on a live connection that got that fd's number, on a parked
# connection that only a fork child keeps, and on the child's own live
# connection, all arrive.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_BUILDDIR/tests/shim/parked
N=${PARKED_N:-10000}
L=${PARKED_LIVE:-200}
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$PROG" ] || tc_fail "parked not built at $PROG"
tc_netns_setup
ip netns exec "$NS_B" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
ip netns exec "$NS_A" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
lim=$((N + L + 1024))

tc_bg "$NS_B" bash -c 'ulimit -n "$0" && exec "$@"' "$lim" "$RUN" "$PROG" server 7800 7801 "$N" \
	> "$T/server.out" 2> "$T/server.err"
srv=$TC_LAST_PID
tc_wait_port "$NS_B" 7800
tc_wait_port "$NS_B" 7801
tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$T/keylog" bash -c 'ulimit -n "$0" && exec timeout 300 "$@"' "$lim" \
	"$RUN" "$PROG" client "$IP_B" 7800 7801 "$N" "$L" "$T/keylog" > "$T/client.out" 2> "$T/client.err"
rc=$?
while read -r line; do tc_log "$line"; done < "$T/client.out"
[ $rc = 0 ] || { cat "$T/client.err" "$T/server.err" >&2; tc_fail "client failed ($rc)"; }
for _ in $(seq 1 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
wait "$srv" || { cat "$T/server.err" >&2; tc_fail "server failed"; }
grep -q "^live $L errors 0 " "$T/client.out" || tc_fail "live exchanges failed"
grep -q "^hello $L errors 0 " "$T/client.out" || tc_fail "hellos failed"
grep -q "^complete $N of $N " "$T/client.out" || tc_fail "not every parked connection finished its key exchange"
grep -q "^encrypted $N of $N samples [0-9]* errors 0$" "$T/client.out" || tc_fail "parked connections not encrypted, or their data damaged"

# fd numbers, dups, fork
tc_bg "$NS_B" "$RUN" "$PROG" server 7802 7803 2 > "$T/server2.out" 2> "$T/server2.err"
srv=$TC_LAST_PID
tc_wait_port "$NS_B" 7802
tc_wait_port "$NS_B" 7803
tc_run "$NS_A" timeout 60 "$RUN" "$PROG" fds "$IP_B" 7802 7803 > "$T/fds.out" 2> "$T/fds.err" ||
	{ cat "$T/fds.out" "$T/fds.err" "$T/server2.err" >&2; tc_fail "fds: failed"; }
tc_log "$(cat "$T/fds.out")"
wait "$srv" || { cat "$T/server2.err" >&2; tc_fail "fds: server failed"; }
echo "PASS: $N parked key exchanges; $L live exchanges meanwhile; all $N finished encrypted; dups, reused fd numbers and a fork child served"
