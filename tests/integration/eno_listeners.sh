#!/usr/bin/env bash
# Opted-in listeners on one port and different local addresses keep their
# own offers (issue 13: tc_listen was keyed by netns and port only, so the
# last listener's offer went into every one's SYN-ACKs). Each listener
# here offers a different global suboption: 01 (b) or 03 (a and b), and
# its SYN-ACK must carry its own: 45 04 01 23 or 45 04 03 23, as A's result
# (peer=, B's SYN-ACK option verbatim) shows.
#  1. two IPv4 addresses of B, one listener each;
#  2. a wildcard listener (0.0.0.0) and one on B's second address
#     (SO_REUSEPORT): the exact address wins, the rest go to the wildcard;
#  3. IPv4 (0.0.0.0) and IPv6 (B's address) on one port;
#  4. a dual-stack listener ([::]) answers IPv4 with its own offer;
#  5. a listener's offer goes with it: after the one on B's second address
#     closes, a wildcard listener's offer answers that address;
#  6. listeners of an SO_REUSEPORT group share their offer: one of them
#     closing leaves it to the others.
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
tc_netns_setup
tc_daemon_start
IP_B2=${IP_B%.*}.3
ip -n "$NS_B" addr add "$IP_B2/24" dev "$TC_IF_B" || tc_fail "second address"
for i in $(seq 1 50); do ip netns exec "$NS_A" ping -c1 -W1 "$IP6_B" >/dev/null 2>&1 && break; sleep 0.1; done
SA_B=45040123 SA_AB=45040323      # SYN-ACK options: offer 01 23, offer 03 23

# listen NAME PORT ARGS...: an eno_peer server in B serving COUNT (--count) connections
listen() {
	local name=$1 port=$2 n
	shift 2
	n=$(ip netns exec "$NS_B" ss -Hltn "sport = :$port" | wc -l)
	tc_bg "$NS_B" "$ENO_PEER" server "$port" "$@" > "$TC_TMP/srv-$name.out"
	eval "PID_$name=$TC_LAST_PID"
	for i in $(seq 1 100); do
		[ "$(ip netns exec "$NS_B" ss -Hltn "sport = :$port" | wc -l)" -gt "$n" ] && return 0
		sleep 0.05
	done
	tc_fail "$name: no listener on $port"
}

# expect ADDR PORT SYNACK WHAT: a client to ADDR:PORT gets a SYN-ACK with
# that ENO option and negotiates
expect() {
	local out
	out=$(tc_run "$NS_A" "$ENO_PEER" client "$1" "$2") || tc_fail "$4: client failed: $out"
	echo "# $4: $out"
	eno_expect "$out" peer "$3" "$4"
	eno_expect "$out" ok 1 "$4"
	eno_expect "$out" data ok "$4"
}

# 1. two addresses
listen one 7970 --bind "$IP_B" --content 0123
listen two 7970 --bind "$IP_B2" --content 0323
expect "$IP_B" 7970 $SA_B "1: $IP_B"
expect "$IP_B2" 7970 $SA_AB "1: $IP_B2"
wait "$PID_one" "$PID_two" || tc_fail "1: a server failed"

# 2. wildcard and exact address
listen any 7971 --reuseport --content 0123
listen exact 7971 --reuseport --bind "$IP_B2" --content 0323
expect "$IP_B2" 7971 $SA_AB "2: $IP_B2 (exact)"
expect "$IP_B" 7971 $SA_B "2: $IP_B (wildcard)"
wait "$PID_any" "$PID_exact" || tc_fail "2: a server failed"

# 3. IPv4 and IPv6
listen v4 7972 --content 0123
listen v6 7972 --bind "$IP6_B" --content 0323
expect "$IP_B" 7972 $SA_B "3: IPv4"
expect "$IP6_B" 7972 $SA_AB "3: IPv6"
wait "$PID_v4" "$PID_v6" || tc_fail "3: a server failed"

# 4. dual stack
listen dual 7973 --v6 --content 0323
expect "$IP_B" 7973 $SA_AB "4: IPv4 to [::]"
wait "$PID_dual" || tc_fail "4: the server failed"

# 5. the offer of a closed listener is gone
listen gone 7974 --bind "$IP_B2" --content 0323
expect "$IP_B2" 7974 $SA_AB "5: $IP_B2 (exact, before)"
wait "$PID_gone" || tc_fail "5: the server failed"
listen after 7974 --content 0123
expect "$IP_B2" 7974 $SA_B "5: $IP_B2 (wildcard, after the exact one closed)"
wait "$PID_after" || tc_fail "5: the server failed"
# 6. an SO_REUSEPORT group shares one entry: the last listener to join
#    closing leaves the offer to the others
# pids_on PORT: the processes listening on PORT in B
pids_on() { ip netns exec "$NS_B" ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | sort -u; }
listen first 7975 --reuseport --bind "$IP_B2" --content 0323 --count 2
p1=$(pids_on 7975)
listen second 7975 --reuseport --bind "$IP_B2" --content 0323 --count 2
p2=$(pids_on 7975 | grep -vx "$p1")
[ -n "$p2" ] || tc_fail "6: no pid for the second listener"
kill "${p2#pid=}"
for i in $(seq 1 50); do
	[ "$(ip netns exec "$NS_B" ss -Hltn "sport = :7975" | wc -l)" = 1 ] && break
	[ "$i" = 50 ] && tc_fail "6: the second listener did not close"
	sleep 0.05
done
expect "$IP_B2" 7975 $SA_AB "6: $IP_B2 (group, after one left)"
expect "$IP_B2" 7975 $SA_AB "6: $IP_B2 (group, again)"
wait "$PID_first" || tc_fail "6: the server failed"
echo "PASS: eno_listeners"
