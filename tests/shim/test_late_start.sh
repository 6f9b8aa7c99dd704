#!/bin/bash
# test_late_start.sh - order of start: a server that listens before tcpcryptd
# runs, and across a restart of tcpcryptd, is encrypted soon after.
#
# A shimmed echo server (tests/apps/pyecho.py under tcpcrypt-run) listens in
# B while no tcpcryptd runs; a shimmed client in A connects:
#  0. with no daemon: plain TCP (the server's listener could not opt in);
#  1. tcpcryptd starts: within BOUND seconds the connections are encrypted
#     (the client reads a session ID; the server logs the same one), and a
#     capture on the veth does not show the client's marker;
#  2. tcpcryptd stops cleanly (its programs and maps go) and starts again:
#     within BOUND seconds encrypted again. The second daemon loads its
#     programs as on a kernel that refuses bpf_setsockopt in sockopt hooks
#     (TCPCRYPTD_TEST_REFUSE=late_listen): a listener that was served
#     before still has its header-option flag, and is renewed all the same.
# Run against the divert backend by tests/divert/dv_test_late_start.sh.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PYECHO=$TC_TOP_SRCDIR/tests/apps/pyecho.py
BOUND=${BOUND:-3}
PORT=7320
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
command -v tcpdump > /dev/null || tc_fail "tcpdump not installed (scripts/install-deps.sh)"

tc_netns_setup
[ "$TCPCRYPT_TEST_BACKEND" = divert ] || tc_cgroup_setup
export TCPCRYPT_CONTROL=$TC_CONTROL

cat > "$TC_TMP/client.py" <<'EOF'
# client.py HOST PORT MARKER: one connection; prints "enc <sessid hex>" or "plain".
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
m = sys.argv[3].encode() + b"\n"
s.sendall(m)
got = b""
while len(got) < len(m):
    d = s.recv(4096)
    if not d:
        break
    got += d
if got != m:
    sys.exit("echo mismatch: %r" % got)
try:
    v = s.getsockopt(socket.IPPROTO_TCP, 0x54430001, 64)
    print("enc " + v.hex())
except OSError:
    print("plain")
s.close()
EOF

# The server, before any daemon.
tc_bg "$NS_B" env TCPCRYPT_LOG=info TCPCRYPT_LOG_FILE="$TC_TMP/server.log" \
	"$RUN" python3 "$PYECHO" threading-server "$IP_B" "$PORT" "$TC_TMP/sess.txt"
tc_wait_port "$NS_B" "$PORT"

# once MARKER: one connection; sets OUT to its outcome (a variable: in
# $(...) the tc_fail would end only the subshell).
once() {
	OUT=$(tc_run "$NS_A" timeout 10 "$RUN" python3 "$TC_TMP/client.py" "$IP_B" "$PORT" "$1" 2> "$TC_TMP/client.err") ||
		{ cat "$TC_TMP/client.err" >&2; tc_fail "client failed"; }
}

# wait_crypt WHAT: connections until one is encrypted, at most BOUND s.
wait_crypt() {
	local t0 out n=0
	t0=$(date +%s%N)
	while :; do
		once "marker-$RANDOM"; out=$OUT
		n=$((n + 1))
		[[ $out == enc\ 23* ]] && break
		(( ($(date +%s%N) - t0) / 1000000 < BOUND * 1000 )) ||
			{ cat "$TC_TMP/server.log" >&2; tc_fail "$1: still plain after ${BOUND}s ($n connections)"; }
		sleep 0.2
	done
	tc_log "$1: encrypted after $(( ($(date +%s%N) - t0) / 1000000 )) ms, $n connection(s)"
	# the server saw the same session (its log line comes at EOF)
	sleep 0.2
	grep -qx "${out#enc }" "$TC_TMP/sess.txt" || tc_fail "$1: the server did not log session ${out#enc }"
}

# captured WHAT: one more connection under tcpdump; its marker is not in clear.
captured() {
	local cap=$TC_TMP/$1.pcap mark=late-marker-$(head -c 12 /dev/urandom | xxd -p) dump i out
	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$cap" "tcp port $PORT" \
		2> "$TC_TMP/tcpdump.err" &
	dump=$!
	TC_PIDS+=($dump)
	for i in $(seq 1 100); do
		grep -qs 'listening on' "$TC_TMP/tcpdump.err" && break
		sleep 0.05
	done
	once "$mark"; out=$OUT
	sleep 0.3
	kill "$dump"; wait "$dump" 2> /dev/null
	[[ $out == enc\ 23* ]] || tc_fail "$1: plain again ($out)"
	[ -s "$cap" ] || tc_fail "$1: empty capture"
	! grep -qaF "$mark" "$cap" || tc_fail "$1: the marker is in clear on the wire"
}

once plain-marker; out=$OUT
[ "$out" = plain ] || tc_fail "no daemon: expected plain TCP, got $out"
tc_log "no daemon: plain"

tc_daemon_start
wait_crypt "late start"
captured late
tc_daemon_stop || tc_fail "tcpcryptd did not stop cleanly"
TCPCRYPTD_TEST_REFUSE=${TCPCRYPTD_TEST_REFUSE:+$TCPCRYPTD_TEST_REFUSE,}late_listen tc_daemon_start
[ "$TCPCRYPT_TEST_BACKEND" = divert ] || grep -q "refuses bpf_setsockopt" "$TC_TMP/tcpcryptd.log" ||
	tc_fail "the second tcpcryptd did not load its programs as on an older kernel"
wait_crypt "restart"
captured restart
echo "PASS: a listener started before tcpcryptd, and across its restart, is encrypted within ${BOUND}s"
