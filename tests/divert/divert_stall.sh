#!/bin/bash
# divert_stall.sh - a divert daemon stopped (SIGSTOP) while it holds
# handshakes in its queue: they must complete within a bound anyway, both
# ends agreeing on encrypted or plain (tcpcryptd's watchdog serves the
# queue, tools/tcpcryptd/divert/tcpcryptd_divert_watchdog.c).
#  A: B's SYN-ACKs are dropped (filter OUTPUT, after B's queue) until
#     just after A's daemon is stopped: A's retransmitted SYNs and B's
#     retransmitted SYN-ACKs (1 s later) meet A's stopped daemon (A's SYN
#     out, A's SYN-ACK in, A's first ACK out with 45 02);
#  B: A's SYNs are dropped the same way: they come back while B's daemon
#     is stopped (A's SYN in, B's SYN-ACK out, A's ACK in).
# (No netem on this kernel: drops and TCP's own retransmissions hold the
# handshakes.) Each round starts N shimmed connections GAP ms apart and
# stops the daemon STOPAT ms after the first held segment; it stays stopped until the client is
# done or HOLD s passed. A single-threaded accept loop pays the shim's
# 200 ms control timeout per connection while B's daemon is stopped, so N
# stays small. Every connection must be intact, finish within MAXT s, and read
# the same status (enc/plain) on both ends; a capture on the veth must not
# show the marker of an encrypted connection in clear. After SIGCONT, new
# connections must be encrypted again.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
export TCPCRYPT_TEST_BACKEND=divert
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PEER=$TC_TOP_SRCDIR/tests/divert/stall_peer.py
N=${DIVERT_STALL_N:-8}
GAP=${DIVERT_STALL_GAP:-25}
STOPAT=${DIVERT_STALL_STOPAT:-150}
HOLD=${DIVERT_STALL_HOLD:-6}
MAXT=${DIVERT_STALL_MAXT:-3}
PORT=7900
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
command -v tcpdump > /dev/null || tc_skip "no tcpdump"
tc_netns_setup
tc_daemon_start
T=$TC_TMP
DA=${TC_DIVERT_PIDS[0]} DB=${TC_DIVERT_PIDS[1]}
STOPPED=
trap 'r=$?; [ -n "$STOPPED" ] && kill -CONT $STOPPED 2> /dev/null
	[ -n "${DIVERT_STALL_KEEP:-}" ] && cp -r "$TC_TMP" "$DIVERT_STALL_KEEP"; (exit $r); tc_cleanup' EXIT

tc_bg "$NS_B" env TCPCRYPT_LOG=3 "$RUN" "$PY" "$PEER" server $PORT 2> "$T/server.err"
tc_wait_port "$NS_B" $PORT
ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" -U -s 0 -w "$T/cap.pcap" tcp port $PORT 2> /dev/null &
CAP=$!
TC_PIDS+=($CAP)
sleep 0.5

# check NAME FILE N: every line ok, on time, both ends agree; prints counts
check() {
	local name=$1 f=$2 n=$3 enc max
	[ "$(wc -l < "$f")" = "$n" ] || { cat "$f" >&2; tc_fail "$name: $(wc -l < "$f") of $n connections reported"; }
	if awk '$2 != "ok" || substr($3, 8) != substr($4, 8)' "$f" | grep .; then
		sed 's/^/# daemons: /' "$T"/tcpcryptd-*.log | tail -20 >&2
		tc_fail "$name: connections failed, corrupted or split"
	fi
	awk -v m="$MAXT" '$5 > m' "$f" | grep . && tc_fail "$name: connections took more than $MAXT s"
	enc=$(grep -c 'client=enc' "$f")
	max=$(sort -k5 -n "$f" | tail -1 | awk '{print $5}')
	tc_log "$name: $n/$n intact and agreeing, $enc encrypted, $((n - enc)) plain, slowest $max s"
	ENC=$enc
}

# dropped NS: packets the round's DROP rule in NS has dropped so far
dropped() {
	ip netns exec "$1" iptables -w -L OUTPUT -v -n -x | awk '$3 == "DROP" { n += $1 } END { print n + 0 }'
}

# round NAME DAEMON_PID NS FLAGS: drops segments with FLAGS (SYN or SYN,ACK)
# leaving NS until just after the stop
round() {
	local name=$1 victim=$2 ns=$3 fl=$4 cpid t0 t1 i
	local drop=(OUTPUT -p tcp -m tcp --tcp-flags SYN,ACK "$fl" -j DROP)
	ip netns exec "$ns" iptables -w -I "${drop[@]}" || tc_fail "iptables"
	tc_bg "$NS_A" env TCPCRYPT_LOG=3 timeout 60 "$RUN" "$PY" "$PEER" client "$IP_B" $PORT "$N" "$GAP" "$name" \
		> "$T/$name.out" 2> "$T/$name.err"
	cpid=$TC_LAST_PID
	# stop the daemon once a handshake is held (a segment dropped), then
	# STOPAT ms more so that later ones are under way too: a fixed delay
	# from the client's start caught none on a loaded machine
	for i in $(seq 1 200); do
		[ "$(dropped "$ns")" -ge 1 ] && break
		kill -0 "$cpid" 2> /dev/null || break
		sleep 0.05
	done
	[ "$(dropped "$ns")" -ge 1 ] || tc_fail "$name: no $fl segment left $ns within 10 s"
	sleep "$(awk -v s="$STOPAT" 'BEGIN { print s / 1000 }')"
	kill -STOP "$victim"
	STOPPED=$victim
	t0=$(date +%s.%N)
	sleep 0.1
	ip netns exec "$ns" iptables -w -D "${drop[@]}"
	for i in $(seq 1 $((HOLD * 20))); do
		kill -0 "$cpid" 2> /dev/null || break
		sleep 0.05
	done
	t1=$(date +%s.%N)
	kill -CONT "$victim"
	STOPPED=
	wait "$cpid"
	tc_log "$name: daemon stopped for $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	check "$name" "$T/$name.out" "$N"
	[ "$ENC" -ge 1 ] || tc_fail "$name: no connection encrypted: none was caught mid-handshake"
	sleep 0.3
	tc_run "$NS_A" env TCPCRYPT_LOG=3 timeout 20 "$RUN" "$PY" "$PEER" client "$IP_B" $PORT 3 0 "$name-after" \
		> "$T/$name-after.out" 2> /dev/null
	check "$name-after" "$T/$name-after.out" 3
	[ "$ENC" = 3 ] || tc_fail "$name: after SIGCONT, new connections are not all encrypted"
}

# DIVERT_STALL_ROUNDS: which daemon(s) to stop (default: a b)
for r in ${DIVERT_STALL_ROUNDS:-a b}; do
	case $r in
	a) round stop-a "$DA" "$NS_B" SYN,ACK ;;
	b) round stop-b "$DB" "$NS_A" SYN ;;
	esac
done
sleep 0.5
kill -INT $CAP 2> /dev/null
sleep 0.3
grep -h "watchdog" "$T"/tcpcryptd-*.log | sed 's/^/# /' >&2
# no marker of an encrypted connection in clear; those of plain ones are
# there (the capture works)
for f in "$T"/stop-*.out; do
	awk '$3 == "client=enc" { print $6 }' "$f" > "$T/enc.list"
	awk '$3 == "client=plain" { print $6 }' "$f" > "$T/plain.list"
	while read -r m; do
		grep -aq "$m" "$T/cap.pcap" && tc_fail "$(basename "$f"): marker $m in clear on an encrypted connection"
	done < "$T/enc.list"
	while read -r m; do
		grep -aq "$m" "$T/cap.pcap" || tc_fail "$(basename "$f"): marker $m of a plain connection not captured"
	done < "$T/plain.list"
done
echo "PASS: stopped divert daemon (A, then B): held handshakes completed in time, both ends agree"
