#!/bin/bash
# test_wire.sh - what tcpcrypt puts on the wire, seen by tcpdump on the veth.
#
# socat under tcpcrypt-run at both ends exchanges a random marker each way.
# Asserts, for the encrypted connection:
#  1. the data arrives intact both ways;
#  2. neither marker appears anywhere in the capture;
#  3. SYN, SYN-ACK and A's first non-SYN segment carry TCP option kind 69;
#  4. A's stream starts with Init1's magic 15 10 1a 0e, B's with Init2's
#     09 71 05 e0.
# And, for the same exchange with plain socat (no tcpcrypt-run) under the
# same daemon: the markers do appear in clear and no kind-69 option is sent
# (proving that the capture would have seen them).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
command -v socat > /dev/null || tc_fail "socat not installed (scripts/install-deps.sh)"
command -v tshark > /dev/null || tc_fail "tshark not installed (scripts/install-deps.sh)"

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL

# exchange NAME PORT PREFIX: socat both ends, capture on A's veth.
exchange() {
	local name=$1 port=$2 pre=$3 d=$TC_TMP/$1
	mkdir -p "$d"
	MARK_A=client-marker-$(head -c 16 /dev/urandom | xxd -p)
	MARK_B=server-marker-$(head -c 16 /dev/urandom | xxd -p)
	printf '%s\n' "$MARK_A" > "$d/a.txt"
	printf '%s\n' "$MARK_B" > "$d/b.txt"

	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$d/cap.pcap" "tcp port $port" \
		2> "$d/tcpdump.err" &
	TC_PIDS+=($!)
	local dump=$! i
	for i in $(seq 1 100); do
		grep -qs 'listening on' "$d/tcpdump.err" && break
		sleep 0.05
	done
	grep -q 'listening on' "$d/tcpdump.err" || tc_fail "$name: tcpdump did not start"

	tc_bg "$NS_B" $pre socat -t 2 "TCP-LISTEN:$port,reuseaddr" "OPEN:$d/b.txt!!CREATE:$d/b.recv" \
		2> "$d/server.err"
	local srv=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	tc_run "$NS_A" timeout 20 $pre socat -t 2 - "TCP:$IP_B:$port" < "$d/a.txt" > "$d/a.recv" 2> "$d/client.err" ||
		{ cat "$d/client.err" >&2; tc_fail "$name: socat client failed"; }
	wait "$srv" || { cat "$d/server.err" >&2; tc_fail "$name: socat server failed"; }
	sleep 0.3
	kill "$dump"; wait "$dump" 2> /dev/null

	cmp -s "$d/a.recv" "$d/b.txt" || tc_fail "$name: the client did not receive the server's data"
	cmp -s "$d/b.recv" "$d/a.txt" || tc_fail "$name: the server did not receive the client's data"
	[ -s "$d/cap.pcap" ] || tc_fail "$name: empty capture"
}

# first_payload PCAP SRC: hex of the first TCP payload sent by SRC.
first_payload() {
	tshark -r "$1" -o tcp.desegment_tcp_streams:FALSE -Y "tcp.len > 0 && ip.src == $2" \
		-T fields -e tcp.payload 2> /dev/null | head -1 | tr -d ':\n'
}

# options PCAP FILTER: the TCP option kinds of the first segment matching FILTER.
options() {
	tshark -r "$1" -Y "$2" -T fields -e tcp.option_kind 2> /dev/null | head -1
}

# 1. Encrypted.
exchange crypt 7300 "$RUN"
cap=$TC_TMP/crypt/cap.pcap
! grep -qaF "$MARK_A" "$cap" || tc_fail "crypt: the client's marker is in clear on the wire"
! grep -qaF "$MARK_B" "$cap" || tc_fail "crypt: the server's marker is in clear on the wire"
for f in "tcp.flags.syn == 1 && tcp.flags.ack == 0" "tcp.flags.syn == 1 && tcp.flags.ack == 1" \
	"tcp.flags.syn == 0 && ip.src == $IP_A"; do
	o=$(options "$cap" "$f")
	[[ ,$o, == *,69,* ]] || tc_fail "crypt: no ENO option (kind 69) on the first segment with $f (kinds: $o)"
done
pa=$(first_payload "$cap" "$IP_A")
pb=$(first_payload "$cap" "$IP_B")
[[ $pa == 15101a0e* ]] || tc_fail "crypt: A's stream does not start with Init1's magic: ${pa:0:32}"
[[ $pb == 097105e0* ]] || tc_fail "crypt: B's stream does not start with Init2's magic: ${pb:0:32}"
tc_log "crypt: markers absent, ENO on SYN/SYN-ACK/ACK, Init1 and Init2 first"

# 2. Plain, for comparison.
exchange plain 7302 ""
cap=$TC_TMP/plain/cap.pcap
grep -qaF "$MARK_A" "$cap" || tc_fail "plain: the client's marker is not in the capture (capture broken?)"
grep -qaF "$MARK_B" "$cap" || tc_fail "plain: the server's marker is not in the capture (capture broken?)"
o=$(options "$cap" "tcp.flags.syn == 1 && tcp.flags.ack == 0")
[[ ,$o, != *,69,* ]] || tc_fail "plain: a plain socat's SYN carries kind 69"
echo "PASS: tcpcrypt hides the data on the wire; plain TCP does not"
