#!/bin/bash
# test_python.sh - python3 event loop and thread servers under tcpcrypt-run:
# an asyncio echo server and a socketserver.ThreadingTCPServer, each with
# shimmed clients (tests/apps/pyecho.py) across two namespaces.
#
# Asserts, for asyncio server + 150 concurrent asyncio client connections,
# ThreadingTCPServer + 150 asyncio connections, and ThreadingTCPServer + 40
# blocking client threads:
#  1. every connection gets back exactly the random bytes it sent (random
#     total 0..300 KB, random write and read sizes, half-close at the end);
#  2. on every client socket getsockopt(IPPROTO_TCP, TCP_CRYPT_SESSID, 64)
#     returns 33 bytes starting 0x23 after the echo came back; with blocking
#     client sockets (third case) also right after connect() returned: a
#     blocking application may ask at once, the shim must then finish (wait
#     for) the key exchange as a blocking read would, not say ENOTCONN;
#  3. the server saw the same session IDs on its accepted sockets (asked at
#     EOF; every client session ID is in the server's list);
#  4. the client finishes within its time limit (no hang);
#  5. readiness as event loops (wrk, libevent) use it: 200 times a
#     non-blocking connect, a 100-byte request, epoll_wait(EPOLLIN), read():
#     the read never fails with EAGAIN after EPOLLIN, the echo is right.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_setup
ECHO=$TC_TOP_SRCDIR/tests/apps/pyecho.py
FAILS=()
soft() { echo "# FAIL: $*" >&2; FAILS+=("$*"); }

# case NAME SERVERMODE PORT NCONN [client args]
case_run() {
	local name=$1 mode=$2 port=$3 n=$4; shift 4
	tc_bg "$NS_B" "$RUN" --log=warn --log-file="$T/shim-$name-server.log" \
		"$PY" "$ECHO" "$mode" "$IP_B" "$port" "$T/sess-$name-server" > "$T/$name-server.out" 2>&1
	local spid=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	local rc=0
	tc_run "$NS_A" timeout 85 "$RUN" --log=warn --log-file="$T/shim-$name-client.log" \
		"$PY" "$ECHO" client "$IP_B" "$port" "$n" 300000 "$T/sess-$name-client" "$@" \
		> "$T/$name-client.out" 2>&1 || rc=$?
	sed "s/^/#   $name: /" "$T/$name-client.out" | tail -n 12 >&2
	if [ $rc = 124 ]; then
		soft "$name: the client hung (killed after 85 s)"
	elif [ $rc != 0 ]; then
		soft "$name: client exited $rc: $(grep -v '^[0-9]* connections' "$T/$name-client.out" | head -2 | tr '\n' ' ')"
	fi
	grep -q "^$n connections, [0-9]* bytes echoed, 0 errors" "$T/$name-client.out" ||
		soft "$name: $(grep -c 'right after connect' "$T/$name-client.out") session IDs missing right after a blocking connect(), $(grep -c 'after the echo gave' "$T/$name-client.out") after the echo, $(grep -Ec 'sent .* back|^conn [0-9]*: [A-Za-z]*(Error|Exception|Timeout)' "$T/$name-client.out") connections with wrong data or an exception"
	sleep 0.3
	local ns
	ns=$(grep -c '^23[0-9a-f]\{64\}$' "$T/sess-$name-client" 2> /dev/null)
	[ "${ns:-0}" = "$n" ] || soft "$name: $ns of $n client sockets have a 33-byte session ID"
	local missing
	missing=$(comm -23 <(sort -u "$T/sess-$name-client") <(sort -u "$T/sess-$name-server") | wc -l)
	[ "$missing" = 0 ] || soft "$name: $missing client session IDs unknown to the server"
	if grep -q '^none' "$T/sess-$name-server" 2> /dev/null; then
		soft "$name: server getsockopt failed: $(grep -m1 '^none' "$T/sess-$name-server")"
	fi
	[ -s "$T/$name-server.out" ] && sed "s/^/#   $name server: /" "$T/$name-server.out" | tail -5 >&2
	kill "$spid" 2> /dev/null
	tc_log "$name: done (client rc $rc)"
}

case_run asyncio asyncio-server 7840 150
case_run threading threading-server 7841 150
case_run threading-threads threading-server 7842 40 --threads

# Readiness as event loops use it (wrk, redis-benchmark, libevent): after a
# non-blocking connect and a request, epoll's EPOLLIN must mean read() has
# data (or EOF), never EAGAIN.
tc_bg "$NS_B" "$RUN" "$PY" "$ECHO" asyncio-server "$IP_B" 7843 "$T/sess-probe-server"
tc_wait_port "$NS_B" 7843
tc_run "$NS_A" timeout 60 "$RUN" "$PY" "$ECHO" epoll-probe "$IP_B" 7843 200 > "$T/probe.out" 2>&1
rc=$?
tail -n 3 "$T/probe.out" | sed 's/^/#   epoll-probe: /' >&2
[ $rc = 0 ] || soft "epoll-probe: $(tail -n 1 "$T/probe.out")"

if [ ${#FAILS[@]} != 0 ]; then
	app_show "$T"/shim-*.log
	tc_fail "${FAILS[*]}"
fi
echo "PASS: python asyncio and ThreadingTCPServer echo under tcpcrypt-run, session IDs agree"
