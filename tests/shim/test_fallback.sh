#!/bin/bash
# test_fallback.sh - opportunistic fallback to plain TCP, and REQUIRE mode.
#
# Asserts, each with a random marker sent by the conformance program's echo
# case (and its rw case for the data path), tcpdump on the veth:
#  1. shimmed client -> plain server (daemon running): data flows, the
#     marker is visible on the wire, TCP_CRYPT_SESSID gives ENOTCONN in the
#     shimmed client (ENOPROTOOPT in the plain server);
#  2. plain client -> shimmed server: same, ENOTCONN in the shimmed server;
#  3. TCPCRYPT_REQUIRE=1 on the shimmed client towards the plain server: the
#     connection fails (connect or first I/O) with an errno, the marker never
#     reaches the server nor the wire, and the log (TCPCRYPT_LOG=4 to
#     TCPCRYPT_LOG_FILE) has a line about it;
#  4. both ends shimmed but no tcpcryptd: plain TCP as in 1;
#  5. and there, TCPCRYPT_REQUIRE=1 makes the connection fail as in 3.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

CONF=$TC_TOP_BUILDDIR/tests/shim/conformance
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$CONF" ] || tc_fail "conformance not built at $CONF"
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
PORT=7500

capture_start() {
	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$T/$1.pcap" \
		"tcp port $PORT" 2> "$T/$1.tcpdump" &
	DUMP=$!
	TC_PIDS+=($DUMP)
	local i
	for i in $(seq 1 100); do
		grep -qs 'listening on' "$T/$1.tcpdump" && return 0
		sleep 0.05
	done
	tc_fail "$1: tcpdump did not start"
}
capture_stop() {
	sleep 0.3
	kill "$DUMP"
	wait "$DUMP" 2> /dev/null
}

# pair NAME SERVER_PREFIX SERVER_EXPECT CLIENT_PREFIX CLIENT_EXPECT: echo + rw
pair() {
	local name=$1 spre=$2 sexp=$3 cpre=$4 cexp=$5 crc srv
	PORT=$((PORT + 2))   # a fresh port each time (PORT+1 stays closed)
	MARK=fallback-marker-$(head -c 16 /dev/urandom | xxd -p)
	capture_start "$name"
	tc_bg "$NS_B" $spre "$CONF" server $PORT --expect "$sexp" > "$T/$name.server" 2>&1
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" $PORT
	tc_run "$NS_A" $cpre "$CONF" client "$IP_B" $PORT --expect "$cexp" --marker "$MARK" \
		--case echo --case rw > "$T/$name.client" 2>&1
	crc=$?
	wait "$srv"
	local src=$?
	capture_stop
	if [ $crc != 0 ] || [ $src != 0 ]; then
		sed 's/^/#   client: /' "$T/$name.client" >&2
		sed 's/^/#   server: /' "$T/$name.server" >&2
		tc_fail "$name: plain fallback failed: $(grep -h '^FAIL' "$T/$name.client" "$T/$name.server" | head -2 | tr '\n' ';')"
	fi
	grep -qaF "$MARK" "$T/$name.pcap" || tc_fail "$name: the marker is not in clear on the wire (not plain TCP?)"
	tc_log "$name: plain TCP, marker on the wire, session IDs: $(grep -h '^sessid .* echo' "$T/$name.client" "$T/$name.server" | awk '{print $2 "=" $4}' | tr '\n' ' ')"
}

# require NAME SERVER_PREFIX: a REQUIRE client towards a server that will not
# negotiate must fail without leaking the marker.
require() {
	local name=$1 spre=$2 crc srv
	PORT=$((PORT + 2))   # this server never gets "quit"; the next one needs a free port
	MARK=require-marker-$(head -c 16 /dev/urandom | xxd -p)
	capture_start "$name"
	tc_bg "$NS_B" $spre "$CONF" server $PORT > "$T/$name.server" 2>&1
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" $PORT
	tc_run "$NS_A" env TCPCRYPT_REQUIRE=1 TCPCRYPT_LOG=4 TCPCRYPT_LOG_FILE="$T/$name.log" \
		"$RUN" "$CONF" client "$IP_B" $PORT --marker "$MARK" --case echo --no-quit \
		> "$T/$name.client" 2>&1
	crc=$?
	sleep 0.5
	capture_stop
	sed 's/^/#   client: /' "$T/$name.client" >&2
	[ $crc != 0 ] || tc_fail "$name: TCPCRYPT_REQUIRE=1: the connection to a peer without tcpcrypt succeeded"
	grep -q '^FAIL echo: client: .*(E[A-Z0-9]*)' "$T/$name.client" ||
		tc_fail "$name: TCPCRYPT_REQUIRE=1: the failure has no errno: $(grep '^FAIL' "$T/$name.client")"
	! grep -q '^echo received [1-9]' "$T/$name.server" ||
		tc_fail "$name: TCPCRYPT_REQUIRE=1: the server received data"
	! grep -qaF "$MARK" "$T/$name.pcap" || tc_fail "$name: TCPCRYPT_REQUIRE=1: the marker went out in clear"
	[ -s "$T/$name.log" ] || tc_fail "$name: TCPCRYPT_REQUIRE=1 with TCPCRYPT_LOG=4: nothing logged"
	sed 's/^/#   log: /' "$T/$name.log" | tail -5 >&2
	tc_log "$name: refused: $(grep '^FAIL' "$T/$name.client")"
}

pair shim-to-plain "" none "$RUN" plain
pair plain-to-shim "$RUN" plain "" none
require require-to-plain ""

tc_daemon_stop || tc_fail "tcpcryptd did not stop cleanly"
pair no-daemon "$RUN" plain "$RUN" plain
require require-no-daemon "$RUN"
echo "PASS: plain fallback in every direction; REQUIRE fails closed"
