#!/bin/bash
# divert_kill.sh - the divert daemon dies (SIGKILL) in the middle of a burst
# of handshakes: shimmed client (A) -> shimmed echo server (B), N=200
# sequential connections, each echoing 2 KB.
#  1. A's daemon is killed once half of the connections are done;
#  2. A's daemon is restarted (its stale rules are replaced) and B's daemon
#     is killed in the middle of a second burst;
#  3. A's daemon is stopped (SIGSTOP): new connections go plain after the
#     shim's 200 ms timeout, none hangs.
# Every connection completes, encrypted or plain, with its data intact;
# none takes longer than one SYN retransmission (1 s) plus a margin; none
# hangs. Prints how many were encrypted (key log lines) before and after.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
export TCPCRYPT_TEST_BACKEND=divert
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
ECHO=$TC_TOP_SRCDIR/tests/divert/divert_echo.py
N=${DIVERT_KILL_N:-200}
MAXT=${DIVERT_KILL_MAXT:-1.6}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
tc_netns_setup
tc_daemon_start
T=$TC_TMP

tc_bg "$NS_B" env TCPCRYPT_KEYLOGFILE="$T/keylog.b" TCPCRYPT_LOG=3 "$RUN" "$PY" "$ECHO" server 7800 2> "$T/server.err"
tc_wait_port "$NS_B" 7800

# burst NAME PID: N connections; SIGKILL PID when half are done.
burst() {
	local name=$1 victim=$2 out=$T/$1.out lines i
	: > "$out"
	tc_bg "$NS_A" env TCPCRYPT_KEYLOGFILE="$T/keylog.$name" TCPCRYPT_LOG=3 timeout 120 "$RUN" "$PY" "$ECHO" \
		client "$IP_B" 7800 "$N" > "$out" 2> "$T/$name.err"
	local cpid=$TC_LAST_PID
	for i in $(seq 1 3000); do
		lines=$(wc -l < "$out")
		[ "$lines" -ge $((N / 2)) ] && break
		kill -0 "$cpid" 2> /dev/null || break
		sleep 0.005
	done
	kill -KILL "$victim"
	tc_log "$name: SIGKILL of the daemon after $lines connections"
	wait "$cpid" || { cat "$T/$name.err" >&2; tc_fail "$name: client exited with $?"; }
	[ "$(wc -l < "$out")" = "$N" ] || tc_fail "$name: $(wc -l < "$out") of $N connections reported"
	if awk '$2 != "ok"' "$out" | grep -q .; then
		awk '$2 != "ok"' "$out" | head -5 >&2
		sed 's/^/# client: /' "$T/$name.err" | tail -20 >&2
		sed 's/^/# daemons: /' "$T"/tcpcryptd-*.log | tail -20 >&2
		[ -n "${DIVERT_KILL_KEEP:-}" ] && cp -r "$T" "$DIVERT_KILL_KEEP"
		tc_fail "$name: connections failed or corrupted"
	fi
	awk -v m="$MAXT" '$3 > m' "$out" | head -5 | grep . && tc_fail "$name: connections took more than $MAXT s"
	local enc slow max
	enc=$(grep -c '^TCPCRYPT_SS ' "$T/keylog.$name" 2> /dev/null)
	slow=$(awk '$3 > 0.5' "$out" | wc -l)
	max=$(sort -k3 -n "$out" | tail -1 | awk '{print $3}')
	tc_log "$name: $N/$N intact, ${enc:-0} encrypted, $((N - ${enc:-0})) plain, $slow took > 0.5 s (SYN retransmitted), slowest ${max} s"
	[ "${enc:-0}" -ge $((N / 4)) ] || tc_fail "$name: only ${enc:-0} encrypted before the kill"
}

burst kill-a "${TC_DIVERT_PIDS[0]}"
# A's daemon again: it replaces the stale rules of the killed one
rm -f "$T/ctl-$NS_A"
ip netns exec "$NS_A" "$TCPCRYPTD" -b divert -p 7 -u "$T/ctl-$NS_A" 2> "$T/a2.log" &
A2=$!
TC_PIDS+=($A2)
for _ in $(seq 1 100); do [ -S "$T/ctl-$NS_A" ] && break; sleep 0.05; done
[ "$(ip netns exec "$NS_A" iptables-save -t mangle 2> /dev/null | grep -c -- '-j TCPCRYPT-OUT')" = 1 ] ||
	tc_fail "restart: the OUTPUT jump is not there exactly once"
burst kill-b "${TC_DIVERT_PIDS[1]}"

# 3. A's daemon hangs (SIGSTOP): the shim's opt-in request times out
# (200 ms) and the connection goes plain, unmarked, past the queue
kill -STOP $A2
tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$T/keylog.stop" TCPCRYPT_LOG=3 timeout 60 "$RUN" "$PY" "$ECHO" \
	client "$IP_B" 7800 20 > "$T/stop.out" 2> "$T/stop.err" || { kill -CONT $A2; tc_fail "stopped daemon: client failed"; }
kill -CONT $A2
if [ "$(awk '$2 == "ok"' "$T/stop.out" | wc -l)" != 20 ]; then
	awk '$2 != "ok"' "$T/stop.out" | head -5 | sed 's/^/# failed: /' >&2
	sed 's/^/# client: /' "$T/stop.err" | tail -20 >&2
	sed 's/^/# server: /' "$T/server.err" | tail -20 >&2
	sed 's/^/# daemon A: /' "$T/a2.log" | tail -20 >&2
	tc_fail "stopped daemon: $(awk '$2 != "ok"' "$T/stop.out" | wc -l) connections failed"
fi
awk '$3 > 0.6' "$T/stop.out" | head -3 | grep . && tc_fail "stopped daemon: connections took more than 0.6 s"
tc_log "stopped daemon: 20/20 intact, $(grep -c '^TCPCRYPT_SS ' "$T/keylog.stop" 2> /dev/null) encrypted, slowest $(sort -k3 -n "$T/stop.out" | tail -1 | awk '{print $3}') s"
echo "PASS: daemon killed mid-burst (A, then B), and stopped: every connection intact and on time"
