#!/bin/bash
# test_recv_flags.sh - MSG_TRUNC, MSG_PEEK, MSG_WAITALL on an encrypted
# connection behave as on plain TCP, MSG_PEEK|MSG_WAITALL included: it
# waits for bytes written apart (other frames), returns them unconsumed,
# and ends as plain TCP's does with MSG_DONTWAIT, SO_RCVTIMEO, a signal
# and EOF.
#
# recv_flags (both ends) runs the same cases twice across two namespaces:
# plain, then both ends under tcpcrypt-run. Asserts that the second run is
# encrypted, that neither process crashed (recv(fd, NULL, n, MSG_TRUNC)
# used to: the shim copied into the NULL buffer), and that the server's
# results (return values, errno, bytes delivered, buffers untouched) are
# exactly the plain-TCP ones.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_BUILDDIR/tests/shim/recv_flags
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$PROG" ] || tc_fail "recv_flags not built at $PROG"

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL

# session NAME PORT PREFIX: one run; the server's results in $TC_TMP/NAME.out.
session() {
	local name=$1 port=$2 pre=$3 srv
	tc_bg "$NS_B" $pre "$PROG" server "$port" > "$TC_TMP/$name.out" 2> "$TC_TMP/$name.err"
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	tc_run "$NS_A" timeout 30 $pre "$PROG" client "$IP_B" "$port" 2> "$TC_TMP/$name.cerr" ||
		{ cat "$TC_TMP/$name.cerr" >&2; tc_fail "$name: the client failed"; }
	wait "$srv" || { cat "$TC_TMP/$name.err" >&2; tc_fail "$name: the server failed (status $?)"; }
}

session plain 7310 ""
grep -qx 'encrypted=0' "$TC_TMP/plain.err" || tc_fail "plain: the plain run says it is encrypted"
session crypt 7312 "$RUN"
grep -qx 'encrypted=1' "$TC_TMP/crypt.err" || { cat "$TC_TMP/crypt.err" >&2; tc_fail "crypt: not encrypted"; }

[ "$(wc -l < "$TC_TMP/plain.out")" -ge 25 ] || { cat "$TC_TMP/plain.out" >&2; tc_fail "plain: too few results"; }
diff -u "$TC_TMP/plain.out" "$TC_TMP/crypt.out" >&2 ||
	tc_fail "recv flags differ between plain TCP (-) and tcpcrypt (+)"
cat "$TC_TMP/crypt.out" | sed 's/^/# /' >&2
echo "PASS: recv flags on an encrypted connection give the plain-TCP results"
