#!/bin/bash
# test_noaccept.sh - a blocking connect() under the shim returns when TCP's
# handshake completes, as over plain TCP, whether or not the server program
# has called accept() yet; the key exchange ends in the background and the
# data written before it is sent encrypted once the keys exist.
#  1. The server (B) listens and accepts only after 3 s: the client's
#     connect() returns in well under 1 s (before: 3 s, when accept() let
#     B answer Init1), its data is echoed intact, and both ends give the
#     same session ID (encrypted).
#  2. One thread listens, connects to itself and only then accepts (an
#     event loop's own client and server, a library's socket-pair
#     emulation): it completes (before: connect() waited forever for an
#     Init2 that only its own later accept() could send), its 100 bytes
#     come back, and both ends give the same session ID.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_SRCDIR/tests/shim/noaccept.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL

# 1. accept() 3 s late
tc_bg "$NS_B" "$RUN" python3 "$PROG" server 7600 3 2> "$TC_TMP/server.err"
srv=$TC_LAST_PID
tc_wait_port "$NS_B" 7600
tc_run "$NS_A" timeout 30 "$RUN" python3 "$PROG" client "$IP_B" 7600 > "$TC_TMP/client.out" 2> "$TC_TMP/client.err" ||
	{ cat "$TC_TMP/client.out" "$TC_TMP/client.err" "$TC_TMP/server.err" >&2; tc_fail "late accept: client failed"; }
wait "$srv" || { cat "$TC_TMP/server.err" >&2; tc_fail "late accept: server failed"; }
t=$(awk '/^connect/ {print $2}' "$TC_TMP/client.out")
read -r res id < <(sed -n 2p "$TC_TMP/client.out")
tc_log "late accept: connect() took $t s; $res, session $id"
[ "$res" = ok ] || tc_fail "late accept: the data did not come back intact"
[ "$id" != plain ] && [ -n "$id" ] || tc_fail "late accept: the connection is not encrypted"
awk -v t="$t" 'BEGIN {exit !(t < 1.0)}' || tc_fail "late accept: connect() took $t s: it waited for the server's accept()"

# 2. one thread: connect, then accept
tc_run "$NS_A" timeout 20 "$RUN" python3 "$PROG" self "$IP_A" 7601 > "$TC_TMP/self.out" 2> "$TC_TMP/self.err"
rc=$?
[ $rc = 124 ] && tc_fail "connect-then-accept in one thread: hung (connect() waited for its own accept())"
[ $rc = 0 ] || { cat "$TC_TMP/self.out" "$TC_TMP/self.err" >&2; tc_fail "connect-then-accept: failed ($rc)"; }
read -r res ida idb < <(sed -n 2p "$TC_TMP/self.out")
tc_log "connect-then-accept: $(head -1 "$TC_TMP/self.out"); $res, sessions $ida / $idb"
[ "$res" = ok ] || tc_fail "connect-then-accept: the data did not come back intact"
[ "$ida" != plain ] && [ -n "$ida" ] && [ "$ida" = "$idb" ] ||
	tc_fail "connect-then-accept: not encrypted, or the ends disagree ($ida / $idb)"
echo "PASS: connect() returns at TCP's pace; the key exchange ends in the background"
