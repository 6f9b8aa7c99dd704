#!/usr/bin/env bash
# The main job, shown: builds tcpcrypt, starts tcpcryptd, and runs the same
# ordinary client and server twice between two network namespaces: once as
# plain TCP, once under tcpcrypt-run. For each it prints what the
# applications saw, what a capture of the wire shows, the session IDs both
# ends read, and tcnetstat's listing. Everything it creates (namespaces,
# cgroup, daemon, pins, build-free temp files) is removed at the end.
#
# Run as root on Debian 12:  bash scripts/demo.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces and loads eBPF programs)" >&2; exit 1; }

if [ -n "${TCPCRYPT_DEMO_BUILDDIR:-}" ]; then
	# the test suite runs the demo on the tree it has just built
	builddir=$(cd "$TCPCRYPT_DEMO_BUILDDIR" && pwd)
else
	echo "== building (installing Debian packages first if needed)"
	bash scripts/install-deps.sh
	[ -x configure ] || autoreconf -fi >/dev/null 2>&1
	mkdir -p _build-demo
	( cd _build-demo && { [ -f Makefile ] || ../configure -q; } && make -s -j"$(nproc)" >/dev/null )
	builddir=$top/_build-demo
fi
export top_builddir=$builddir top_srcdir=$top
set +e +u
source tests/lib/netns.sh
set -u

RUN=$top_builddir/tcpcrypt-run
PEER=$top/scripts/demo_peer.py
SECRET="the secret plan is $(head -c6 /dev/urandom | od -An -tx1 | tr -d ' \n')"

tc_netns_setup
tc_daemon_start
echo "== hosts: A = $IP_A (namespace $NS_A), B = $IP_B (namespace $NS_B), joined by a veth pair"
echo "== tcpcryptd is running (pid $TC_DAEMON_PID), serving this demo's cgroup"

# run_case NAME PORT PREFIX...: one connection, captured on A's side of the veth.
run_case() {
	local name=$1 port=$2; shift 2
	local cap=$TC_TMP/$name.pcap
	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" -U -s0 -w "$cap" "tcp port $port" 2>/dev/null &
	local dump=$!
	sleep 0.5
	tc_bg "$NS_B" "$@" python3 "$PEER" server "$port" > "$TC_TMP/$name.b" 2>&1
	local srv=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	tc_run "$NS_A" "$@" python3 "$PEER" client "$IP_B" "$port" "$SECRET" > "$TC_TMP/$name.a" 2>&1 &
	local cli=$!
	for _ in $(seq 1 40); do grep -q "session ID" "$TC_TMP/$name.a" 2>/dev/null && break; sleep 0.1; done
	if [ "$name" = tcpcrypt ]; then
		echo "-- tcnetstat (while the connection is open):"
		"$top_builddir/tools/tcnetstat/tcnetstat" -u "$TC_CONTROL" | sed 's/^/   /'
	fi
	wait "$cli"; wait "$srv" 2>/dev/null
	sleep 0.3; kill "$dump"; wait "$dump" 2>/dev/null
	echo "-- what the applications saw:"
	sed 's/^/   /' "$TC_TMP/$name.b" "$TC_TMP/$name.a"
	echo "-- on the wire (payload of A's first data segments, as tcpdump shows it):"
	tcpdump -r "$cap" -nn -X "src $IP_A and tcp[tcpflags] & tcp-push != 0" 2>/dev/null | head -14 | sed 's/^/   /'
	local n
	n=$(grep -c -a -F "$SECRET" "$cap" || true)
	echo "-- the message appears $n time(s) in the capture of the wire"
	eval "count_$name=$n"
}

echo
echo "======== 1. plain TCP: client and server run as they are"
run_case plain 7001
echo
echo "======== 2. tcpcrypt: the same programs under tcpcrypt-run"
run_case tcpcrypt 7002 "$RUN"
echo
sid_a=$(sed -n 's/^A: session ID \([0-9a-f]*\)$/\1/p' "$TC_TMP/tcpcrypt.a")
sid_b=$(sed -n 's/^B: session ID \([0-9a-f]*\)$/\1/p' "$TC_TMP/tcpcrypt.b")
echo "======== summary"
echo "plain:    the message is visible on the wire ($count_plain time(s))"
echo "tcpcrypt: the message is visible on the wire $count_tcpcrypt time(s); session IDs:"
echo "          A $sid_a"
echo "          B $sid_b"
if [ "$count_plain" -ge 1 ] && [ "$count_tcpcrypt" = 0 ] && [ -n "$sid_a" ] && [ "$sid_a" = "$sid_b" ]; then
	echo "OK: encrypted on the wire, both ends agree on the session ID"
	exit 0
fi
echo "demo: something did not work as shown above" >&2
exit 1
