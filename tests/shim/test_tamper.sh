#!/bin/bash
# test_tamper.sh - an active attacker flips one bit in a data segment.
#
# Routed topology A <-> R <-> B; in R, nfq_mangle -m flip-payload flips one
# bit in the middle of the first TCP segment with >= 200 bytes of payload
# (the Init messages and the case header are smaller, so the bit lands in
# the application's data). The client sends a 4 MiB pattern (conformance
# "tamper" case). Asserts:
#  1. plain TCP through the same router: the corrupted byte reaches the
#     receiving application (the mangler works, and would be noticed);
#  2. tcpcrypt at both ends: the receiving application gets ECONNRESET,
#     EBADMSG or EPROTO, not EOF, not a hang, and everything it received
#     before the error is an intact prefix of the pattern.
# Then the router forges a TCP urgent pointer into a data segment instead
# (nfq_mangle -m forge-urg, conformance "urgforge" case):
#  3. plain TCP: the byte it names goes out of band, one byte is missing;
#  4. tcpcrypt: all 4 MiB intact and an authenticated EOF (urgent data
#     travel inside the frames; the kernel keeps urgent bytes inline).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

CONF=$TC_TOP_BUILDDIR/tests/shim/conformance
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
MANGLE=$TC_TOP_BUILDDIR/tests/integration/nfq_mangle
[ -x "$CONF" ] || tc_fail "conformance not built at $CONF"
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$MANGLE" ] || tc_fail "nfq_mangle not built at $MANGLE"

tc_netns_setup routed
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
PORT=7600

# tamper NAME PREFIX EXPECT QUEUE [CASE MODE]
tamper() {
	local name=$1 pre=$2 expect=$3 q=$4 case=${5:-tamper} mode=${6:-flip-payload} i srv crc
	ip netns exec "$NS_R" "$MANGLE" -q "$q" -m "$mode" -n 200 -c 1 > "$T/$name.mangle" 2>&1 &
	TC_PIDS+=($!)
	local mpid=$!
	for i in $(seq 1 100); do
		grep -q ready "$T/$name.mangle" && break
		kill -0 "$mpid" 2> /dev/null || break
		sleep 0.05
	done
	grep -q ready "$T/$name.mangle" || { cat "$T/$name.mangle" >&2; tc_fail "$name: nfq_mangle not ready"; }
	ip netns exec "$NS_R" iptables -A FORWARD -p tcp -j NFQUEUE --queue-num "$q" --queue-bypass ||
		tc_fail "$name: iptables NFQUEUE rule"

	tc_bg "$NS_B" $pre "$CONF" server $PORT --expect "$expect" > "$T/$name.server" 2>&1
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" $PORT
	tc_run "$NS_A" timeout 40 $pre "$CONF" client "$IP_B" $PORT --expect "$expect" --case "$case" \
		--no-quit > "$T/$name.client" 2>&1
	crc=$?
	# The verdict is the server's "ok/FAIL CASE" line; then stop it (the
	# only process in B) rather than depend on one more connection.
	for i in $(seq 1 100); do
		grep -qE "^(ok|FAIL) $case" "$T/$name.server" && break
		sleep 0.1
	done
	ip netns pids "$NS_B" | xargs -r kill 2> /dev/null
	wait "$srv" 2> /dev/null
	PORT=$((PORT + 2))
	ip netns exec "$NS_R" iptables -F FORWARD
	kill "$mpid" 2> /dev/null
	wait "$mpid" 2> /dev/null
	sed 's/^/#   mangle: /' "$T/$name.mangle" >&2
	sed 's/^/#   server: /' "$T/$name.server" >&2
	grep -q "^$case: " "$T/$name.server" || {
		sed 's/^/#   client: /' "$T/$name.client" >&2
		tc_fail "$name: the server never reached the tampered data"; }
	if ! grep -q "^ok $case" "$T/$name.server" || [ $crc != 0 ]; then
		sed 's/^/#   client: /' "$T/$name.client" >&2
		tc_fail "$name: $(grep -h '^FAIL' "$T/$name.server" "$T/$name.client" | head -2 | tr '\n' ';')"
	fi
	tc_log "$name: $(grep "^$case: " "$T/$name.server")"
}

tamper plain "" none 5
tamper crypt "$RUN" crypt 6
tamper urg-plain "" none 7 urgforge forge-urg
tamper urg-crypt "$RUN" crypt 8 urgforge forge-urg
echo "PASS: a flipped bit reaches a plain application; tcpcrypt turns it into an error;" \
	"a forged urgent pointer takes a byte out of plain TCP and changes nothing under tcpcrypt"
