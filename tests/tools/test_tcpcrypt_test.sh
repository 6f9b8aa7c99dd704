#!/bin/bash
# test_tcpcrypt_test.sh - tcpcrypt-test answers "is it encrypted, and if
# not, why?" correctly. In two namespaces with this test's own tcpcryptd:
#  1. no arguments: every host check passes (daemon, the kernel's features,
#     opt-in, shim, the loopback connections through the shim) and a
#     session ID is printed (the feature lines against a fake daemon:
#     test_tct_features.sh);
#  2. HOST PORT against a shimmed socat: exit 0, the ENO options of both
#     sides, role A, the AEAD, and a 66-hex-digit session ID equal to the
#     one in the server's key log;
#  3. HOST PORT against a plain socat: exit 1, "peer sent no ENO option";
#     against a peer that negotiates ENO but runs no tcpcrypt: exit 1, the
#     Init exchange got no answer;
#  4. from outside the daemon's cgroup: it names the served cgroup, exit 1;
#     daemon stopped: both modes say tcpcryptd is not running, exit 1;
#  5. -h, -V exit 0; a usage error exits 2.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

TT=$TC_TOP_BUILDDIR/tools/tcpcrypt-test/tcpcrypt-test
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$TT" ] || tc_fail "tcpcrypt-test not built at $TT"
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
command -v socat > /dev/null || tc_fail "socat not installed (scripts/install-deps.sh)"
T=$TC_TMP

# 5. Options.
"$TT" -h | grep -q '^Usage: tcpcrypt-test' || tc_fail "-h prints no usage"
"$TT" -V | grep -q "^tcpcrypt-test (tcpcrypt) [0-9]" || tc_fail "-V prints no version"
"$TT" a b c > /dev/null 2>&1; [ $? = 2 ] || tc_fail "three arguments: exit status is not 2"
"$TT" -t 0 > /dev/null 2>&1; [ $? = 2 ] || tc_fail "-t 0: exit status is not 2"

tc_netns_setup
tc_daemon_start

# 1. The host.
tc_run "$NS_A" "$TT" -v -u "$TC_CONTROL" > "$T/host.out" 2>&1 ||
	{ cat "$T/host.out" >&2; tc_fail "host check: exit status $?"; }
grep -Eq '^session ID: 23[0-9a-f]{64}$' "$T/host.out" ||
	{ cat "$T/host.out" >&2; tc_fail "host check: no session ID"; }
for c in "tcpcryptd answers on $TC_CONTROL" "this process can opt sockets in" "the shim loads" \
	"encrypted loopback connection (engine -> shim)" "encrypted loopback connection (shim -> shim)"; do
	grep -F "$c" "$T/host.out" | grep -q '^\[  ok  \] ' ||
		{ cat "$T/host.out" >&2; tc_fail "host check: '$c' not listed as ok"; }
done
grep -Eq '^\[  ok  \] kernel: sock_ops programs' "$T/host.out" ||
	{ cat "$T/host.out" >&2; tc_fail "host check: the kernel's sock_ops programs not listed as ok"; }
grep -q 'tcpcrypt works on this host' "$T/host.out" || tc_fail "host check: no verdict"

# 2. A shimmed server.
tc_bg "$NS_B" env TCPCRYPT_KEYLOGFILE="$T/keylog" timeout 30 "$RUN" socat TCP-LISTEN:7700,reuseaddr EXEC:cat
SRV=$TC_LAST_PID
tc_wait_port "$NS_B" 7700
tc_run "$NS_A" "$TT" -v -u "$TC_CONTROL" "$IP_B" 7700 > "$T/peer.out" 2>&1 ||
	{ cat "$T/peer.out" >&2; tc_fail "shimmed peer: exit status $?"; }
wait "$SRV" || tc_fail "shimmed socat server failed"
id=$(sed -n 's/^session ID: *//p' "$T/peer.out")
echo "$id" | grep -Eqx '[0-9a-f]{66}' || { cat "$T/peer.out" >&2; tc_fail "shimmed peer: no 66-hex-digit session ID"; }
srv_id=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/keylog")
[ "$id" = "$srv_id" ] || tc_fail "session ID $id is not the server's ($srv_id)"
grep -Eq '^ENO sent: +4503[0-9a-f]*$' "$T/peer.out" || tc_fail "shimmed peer: our ENO option not shown"
grep -Eq '^ENO received: +45[0-9a-f]+$' "$T/peer.out" || tc_fail "shimmed peer: the peer's ENO option not shown"
grep -Eq '^role: +A$' "$T/peer.out" || tc_fail "shimmed peer: role not A"
grep -Eq '^AEAD: +(aes128gcm|aes256gcm|chacha20poly1305)$' "$T/peer.out" || tc_fail "shimmed peer: no AEAD"
grep -q 'FINp sent and received' "$T/peer.out" || tc_fail "shimmed peer: no clean FINp close"
grep -Eq '^tcpcrypt: +yes$' "$T/peer.out" || tc_fail "shimmed peer: no verdict"

# 3. A plain server.
tc_bg "$NS_B" timeout 30 socat TCP-LISTEN:7702,reuseaddr EXEC:cat
tc_wait_port "$NS_B" 7702
tc_run "$NS_A" "$TT" -u "$TC_CONTROL" "$IP_B" 7702 > "$T/plain.out" 2>&1 &&
	{ cat "$T/plain.out" >&2; tc_fail "plain peer: exit status 0"; }
grep -q 'plain TCP: peer sent no ENO option' "$T/plain.out" ||
	{ cat "$T/plain.out" >&2; tc_fail "plain peer: reason not given"; }
grep -Eq '^ENO received: +none$' "$T/plain.out" || tc_fail "plain peer: 'ENO received: none' missing"

# 3b. A peer that negotiates ENO but speaks no tcpcrypt (eno_peer, from the
# ENO integration tests): the Init exchange times out, and it says so.
PEER=$TC_TOP_BUILDDIR/tests/integration/eno_peer
[ -x "$PEER" ] || tc_fail "eno_peer not built at $PEER (built with tcpcrypt-test, by make check)"
tc_bg "$NS_B" timeout 30 "$PEER" server 7703 --hold 5 > "$T/eno_peer.out" 2>&1
tc_wait_port "$NS_B" 7703
tc_run "$NS_A" "$TT" -t 1 -u "$TC_CONTROL" "$IP_B" 7703 > "$T/noinit.out" 2>&1 &&
	{ cat "$T/noinit.out" >&2; tc_fail "ENO without tcpcrypt: exit status 0"; }
grep -q 'no: ENO negotiated, then Init exchange failed: no answer from the peer' "$T/noinit.out" ||
	{ cat "$T/noinit.out" >&2; tc_fail "ENO without tcpcrypt: not said"; }
grep -Eq '^ENO received: +45040123$' "$T/noinit.out" || tc_fail "ENO without tcpcrypt: peer's option not shown"

# 4a. A daemon that does not serve this process's cgroup (unless the host
# runs its own tcpcryptd, whose programs would serve it).
UNSERVED=checked
if [ -S /run/tcpcrypt/control ]; then
	UNSERVED=SKIPPED
	tc_skip_part unserved-cgroup "the host runs its own tcpcryptd (/run/tcpcrypt/control), which serves every cgroup"
else
	ip netns exec "$NS_A" "$TT" -u "$TC_CONTROL" "$IP_B" 7702 > "$T/out.out" 2>&1 &&
		{ cat "$T/out.out" >&2; tc_fail "outside the served cgroup: exit status 0"; }
	grep -q "serves cgroup $TC_CGROUP, which does not hold this process" "$T/out.out" ||
		{ cat "$T/out.out" >&2; tc_fail "outside the served cgroup: not said"; }
fi

# 4. No daemon.
tc_daemon_stop || tc_fail "tcpcryptd did not stop cleanly"
tc_bg "$NS_B" timeout 30 "$RUN" socat TCP-LISTEN:7704,reuseaddr EXEC:cat
tc_wait_port "$NS_B" 7704
tc_run "$NS_A" "$TT" -u "$TC_CONTROL" "$IP_B" 7704 > "$T/nod.out" 2>&1 &&
	{ cat "$T/nod.out" >&2; tc_fail "no daemon, peer: exit status 0"; }
grep -q 'tcpcryptd not running: the opt-in setsockopt answered ENOPROTOOPT' "$T/nod.out" ||
	{ cat "$T/nod.out" >&2; tc_fail "no daemon, peer: not said"; }
tc_run "$NS_A" "$TT" -u "$TC_CONTROL" > "$T/nodh.out" 2>&1 &&
	{ cat "$T/nodh.out" >&2; tc_fail "no daemon, host: exit status 0"; }
grep -q 'tcpcryptd is not running' "$T/nodh.out" ||
	{ cat "$T/nodh.out" >&2; tc_fail "no daemon, host: not said"; }
echo "PASS: tcpcrypt-test: host check, shimmed peer (same session ID), plain peer, ENO without tcpcrypt, unserved cgroup ($UNSERVED), no daemon"
