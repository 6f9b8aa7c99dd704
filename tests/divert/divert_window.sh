#!/bin/bash
# divert_window.sh - A's divert daemon AND its watchdog stopped between
# A's daemon's verdict on B's SYN-ACK (table: A_ENO, not acked) and its
# verdict on A's first ACK (which carries 45 02): A's connect() returns
# with that ACK queued and nobody serving the queue. A's shim asks for the
# result, gets no answer within its 200 ms, and must not read the table
# before the ACK was judged (the table's judged_ms,
# include/tcpcrypt/divert_proto.h): the watchdog, resumed RESUME ms after
# the stop (longer than the 200 ms), takes over, sends the ACK with 45 02
# (B encrypts), and A must encrypt too. Before judged_ms, A read "not
# acked" at 200 ms and went plain while B encrypted: a split.
#  How the window is held open, the same way each round: B's SYN-ACK, once
#  A's daemon accepted it (mangle INPUT), is queued again by a filter INPUT
#  rule to hold_queue (queue 8 in A); the test stops A's daemon and
#  watchdog, then lets the SYN-ACK go; A's kernel answers with its first
#  ACK, queued for the stopped daemon, and connect() returns.
# Every connection must be intact, both ends must read the same status,
# the connections must be encrypted (the ACK carried 45 02), and no marker
# of an encrypted connection may appear in clear on the wire.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
export TCPCRYPT_TEST_BACKEND=divert
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PEER=$TC_TOP_SRCDIR/tests/divert/stall_peer.py
HOLDQ=$TC_TOP_BUILDDIR/tests/divert/hold_queue
ROUNDS=${DIVERT_WINDOW_ROUNDS:-4}
RESUME=${DIVERT_WINDOW_RESUME:-350}
MAXT=${DIVERT_WINDOW_MAXT:-3}
PORT=7910
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$HOLDQ" ] || tc_fail "hold_queue not built at $HOLDQ"
command -v tcpdump > /dev/null || tc_skip "no tcpdump"
tc_netns_setup
tc_daemon_start
T=$TC_TMP
DA=${TC_DIVERT_PIDS[0]}
WD=$(ps -o pid=,comm= --ppid "$DA" | awk '$2 == "tcpcryptd-wd" { print $1 }')
[ -n "$WD" ] || tc_fail "no watchdog process under A's daemon ($DA)"
STOPPED=
HOLD_RULE=(INPUT -p tcp -m tcp --sport $PORT --tcp-flags SYN,ACK SYN,ACK -j NFQUEUE --queue-num 8 --queue-bypass)
trap 'r=$?; [ -n "$STOPPED" ] && kill -CONT $STOPPED 2> /dev/null
	[ -n "${DIVERT_WINDOW_KEEP:-}" ] && cp -r "$TC_TMP" "$DIVERT_WINDOW_KEEP"; (exit $r); tc_cleanup' EXIT

# state PID: the one-letter state of a process
state() { awk '{ sub(/.*\) /, ""); print substr($0, 1, 1) }' "/proc/$1/stat"; }

tc_bg "$NS_B" env TCPCRYPT_LOG=3 "$RUN" "$PY" "$PEER" server $PORT 2> "$T/server.err"
tc_wait_port "$NS_B" $PORT
ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" -U -s 0 -w "$T/cap.pcap" tcp port $PORT 2> /dev/null &
CAP=$!
TC_PIDS+=($CAP)
ip netns exec "$NS_A" iptables -w -I "${HOLD_RULE[@]}" || tc_fail "iptables"
coproc HQ { exec ip netns exec "$NS_A" "$HOLDQ" 8 2> "$T/hold.err"; }
TC_PIDS+=($HQ_PID)
read -r -t 5 line <&"${HQ[0]}" && [ "$line" = ready ] || tc_fail "hold_queue did not start: $(cat "$T/hold.err")"
sleep 0.5

# round I: one connection caught in the window
round() {
	local i=$1 cpid line t0 t1 j
	tc_bg "$NS_A" env TCPCRYPT_LOG=3 timeout 30 "$RUN" "$PY" "$PEER" client "$IP_B" $PORT 1 0 "w$i" \
		> "$T/w$i.out" 2> "$T/w$i.err"
	cpid=$TC_LAST_PID
	read -r -t 10 line <&"${HQ[0]}" && [ "$line" = held ] || tc_fail "round $i: B's SYN-ACK was not held"
	kill -STOP "$DA" "$WD"
	STOPPED="$DA $WD"
	for j in $(seq 1 100); do
		[ "$(state "$DA")$(state "$WD")" = TT ] && break
		[ "$j" = 100 ] && tc_fail "round $i: daemon and watchdog not stopped"
		sleep 0.01
	done
	t0=$(date +%s.%N)
	echo go >&"${HQ[1]}"                  # the SYN-ACK goes on; A's ACK is queued
	read -r -t 5 line <&"${HQ[0]}" && [ "$line" = released ] || tc_fail "round $i: SYN-ACK not released"
	sleep "$(awk -v s="$RESUME" 'BEGIN { print s / 1000 }')"
	kill -CONT "$WD"
	STOPPED=$DA
	for j in $(seq 1 $((MAXT * 20 + 40))); do
		kill -0 "$cpid" 2> /dev/null || break
		sleep 0.05
	done
	t1=$(date +%s.%N)
	kill -CONT "$DA"
	STOPPED=
	wait "$cpid"
	tc_log "round $i: watchdog resumed after $RESUME ms, client done $(awk -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%.3f", b - a }') s after the stop: $(cat "$T/w$i.out")"
	sleep 0.3    # the daemon hands back and turns again
}

for i in $(seq 1 "$ROUNDS"); do
	round "$i"
done
ip netns exec "$NS_A" iptables -w -D "${HOLD_RULE[@]}"
kill "$HQ_PID" 2> /dev/null
sleep 0.5
kill -INT $CAP 2> /dev/null
sleep 0.3
cat "$T"/w*.out > "$T/all.out"
grep -h "watchdog" "$T"/tcpcryptd-*.log | sed 's/^/# /' >&2
grep -h "stopped and its queue" "$T"/w*.err | sed 's/^/# shim: /' >&2
[ "$(wc -l < "$T/all.out")" = "$ROUNDS" ] || tc_fail "$(wc -l < "$T/all.out") of $ROUNDS connections reported"
if awk '$2 != "ok" || substr($3, 8) != substr($4, 8)' "$T/all.out" | grep .; then
	sed 's/^/# daemons: /' "$T"/tcpcryptd-*.log | tail -20 >&2
	tc_fail "connections failed, corrupted or split (client and server disagree)"
fi
awk -v m="$MAXT" '$5 > m' "$T/all.out" | grep . && tc_fail "connections took more than $MAXT s"
# the watchdog sent A's ACK with 45 02: the connections are encrypted
grep -v 'client=enc' "$T/all.out" && tc_fail "connections not encrypted although A's ACK carried ENO"
for m in $(awk '{ print $6 }' "$T/all.out"); do
	grep -aq "$m" "$T/cap.pcap" && tc_fail "marker $m in clear on an encrypted connection"
done
echo "PASS: A's daemon and watchdog stopped with A's first ACK queued: $ROUNDS/$ROUNDS encrypted on both ends"
