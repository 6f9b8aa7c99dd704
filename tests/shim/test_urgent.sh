#!/bin/bash
# test_urgent.sh - urgent data (send/recv MSG_OOB, SO_OOBINLINE,
# SIOCATMARK, SIGURG, POLLPRI and select's exceptions) on an encrypted
# connection behave as on plain TCP (RFC 8548 3.7: URGp frames).
#
# urgent (both ends) runs the same steps twice across two namespaces:
# plain, then both ends under tcpcrypt-run, with tcpdump on A's veth.
# Asserts that the second run is encrypted, that the server's results
# (return values, errno, bytes, marks, signals, readiness) are exactly the
# plain-TCP ones, that the 100,000 bytes before the last urgent byte
# arrived intact, that the stream's text appears in clear in the plain
# capture and not in the encrypted one, and that the encrypted
# connection's urgent bytes were TCP-urgent too (URG segments from A: the
# hint that gives the receiver SIGURG and POLLPRI from its kernel).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_BUILDDIR/tests/shim/urgent
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$PROG" ] || tc_fail "urgent not built at $PROG"
for c in tcpdump tshark; do
	command -v $c > /dev/null || tc_fail "$c not installed (scripts/install-deps.sh)"
done

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL

# session NAME PORT PREFIX: one run; the server's results in $TC_TMP/NAME.out,
# the capture in $TC_TMP/NAME.pcap.
session() {
	local name=$1 port=$2 pre=$3 srv dump i
	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$TC_TMP/$name.pcap" \
		"tcp port $port" 2> "$TC_TMP/$name.dump" &
	dump=$!
	TC_PIDS+=($dump)
	for i in $(seq 1 100); do
		grep -qs 'listening on' "$TC_TMP/$name.dump" && break
		sleep 0.05
	done
	tc_bg "$NS_B" $pre "$PROG" server "$port" > "$TC_TMP/$name.out" 2> "$TC_TMP/$name.err"
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	tc_run "$NS_A" timeout 60 $pre "$PROG" client "$IP_B" "$port" 2> "$TC_TMP/$name.cerr" ||
		{ cat "$TC_TMP/$name.cerr" >&2; tc_fail "$name: the client failed"; }
	wait "$srv" || { cat "$TC_TMP/$name.err" >&2; tc_fail "$name: the server failed (status $?)"; }
	sleep 0.3
	kill "$dump"
	wait "$dump" 2> /dev/null
}

session plain 7320 ""
grep -qx 'encrypted=0' "$TC_TMP/plain.err" || tc_fail "plain: the plain run says it is encrypted"
session crypt 7322 "$RUN"
grep -qx 'encrypted=1' "$TC_TMP/crypt.err" || { cat "$TC_TMP/crypt.err" >&2; tc_fail "crypt: not encrypted"; }

[ "$(wc -l < "$TC_TMP/plain.out")" -ge 30 ] || { cat "$TC_TMP/plain.out" >&2; tc_fail "plain: too few results"; }
grep -qx '4 before the mark: 100000 bytes, 0 wrong' "$TC_TMP/plain.out" ||
	{ cat "$TC_TMP/plain.out" >&2; tc_fail "plain: the test itself is wrong (step 4)"; }
diff -u <(grep -v '^9 ' "$TC_TMP/plain.out") <(grep -v '^9 ' "$TC_TMP/crypt.out") >&2 ||
	tc_fail "urgent data differ between plain TCP (-) and tcpcrypt (+)"
# Step 9, two urgent sends in a row: plain TCP keeps the last urgent
# pointer only; tcpcrypt keeps both bytes out of band (each came in an
# authenticated URGp frame; the first frame is opened straight into the
# reader's buffer, the part from the mark on goes back to the shim).
cat > "$TC_TMP/crypt9.want" <<'WANT'
9 recv: 1 "a"
9 atmark: 1
9 recv(OOB): 1 "U"
9 recv: 1 "b"
9 atmark: 1
9 recv(OOB): 1 "V"
9 recv: -1 EAGAIN
WANT
diff -u "$TC_TMP/crypt9.want" <(grep '^9 ' "$TC_TMP/crypt.out" | grep -v '^9 sigurg') >&2 ||
	tc_fail "two urgent sends in a row: not the expected results (-) under tcpcrypt (+)"

ALPHA=abcdefghijklmnopqrstuvwxyz
grep -qaF "$ALPHA$ALPHA" "$TC_TMP/plain.pcap" || tc_fail "plain: the capture does not see the stream"
! grep -qaF "$ALPHA$ALPHA" "$TC_TMP/crypt.pcap" || tc_fail "crypt: the stream is in clear on the wire"
urg=$(tshark -r "$TC_TMP/crypt.pcap" -Y "tcp.flags.urg == 1 && ip.src == $IP_A" 2> /dev/null | wc -l)
[ "$urg" -ge 3 ] || tc_fail "crypt: $urg URG segments from A (expected one per urgent send at least)"
sed 's/^/# /' "$TC_TMP/crypt.out" >&2
echo "PASS: urgent data on an encrypted connection give the plain-TCP results ($urg URG segments)"
