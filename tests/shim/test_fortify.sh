#!/bin/bash
# test_fortify.sh - real binaries are built with _FORTIFY_SOURCE and 64-bit
# file offsets and call __read_chk, __recv_chk, __recvfrom_chk, fcntl64 and
# sendfile64 instead of read, recv, recvfrom, fcntl, sendfile.
#
# Asserts:
#  1. the conformance binary imports those entry points (nm -D), so the
#     shim cannot pass by interposing only the plain names;
#  2. the cases that go through them (rw: __read_chk, msgflags: __recv_chk,
#     fromto: __recvfrom_chk, sendfile: sendfile64, nonblock: fcntl64) pass
#     under tcpcrypt-run with an encrypted session: a call that bypassed the
#     shim would hand the application ciphertext or Init bytes, and the
#     pattern check would fail.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

CONF=$TC_TOP_BUILDDIR/tests/shim/conformance
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$CONF" ] || tc_fail "conformance not built at $CONF"

syms=$(nm -D --undefined-only "$CONF") || tc_fail "nm -D $CONF"
for s in __read_chk __recv_chk __recvfrom_chk fcntl64 sendfile64; do
	grep -qw "$s" <<< "$syms" || tc_fail "conformance does not import $s (built without _FORTIFY_SOURCE=2 -O2 -D_FILE_OFFSET_BITS=64?)"
done
tc_log "conformance imports __read_chk __recv_chk __recvfrom_chk fcntl64 sendfile64"

[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
PORT=7200
tc_bg "$NS_B" "$RUN" "$CONF" server $PORT --expect crypt > "$TC_TMP/server" 2>&1
spid=$TC_LAST_PID
tc_wait_port "$NS_B" $PORT
tc_run "$NS_A" "$RUN" "$CONF" client "$IP_B" $PORT --expect crypt \
	--case rw --case msgflags --case fromto --case sendfile --case nonblock > "$TC_TMP/client" 2>&1
crc=$?
wait "$spid"
src=$?
if [ $crc != 0 ] || [ $src != 0 ]; then
	sed 's/^/#   client: /' "$TC_TMP/client" >&2
	sed 's/^/#   server: /' "$TC_TMP/server" >&2
	tc_fail "fortified/64-bit entry points under the shim: $(grep -h '^FAIL' "$TC_TMP/client" "$TC_TMP/server" | head -3 | tr '\n' ';')"
fi
[ "$(grep -c '^ok' "$TC_TMP/client")" = 5 ] || tc_fail "not all 5 cases ran"
echo "PASS: __*_chk and *64 entry points go through the shim"
