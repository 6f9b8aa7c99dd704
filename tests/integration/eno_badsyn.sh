#!/usr/bin/env bash
# B's side of RFC 8547 against SYNs no conforming stack sends (made by hand
# with a raw socket in A): two ENO options, an invalid length byte, a
# vacuous option, ENO with SYN data. B answers each without ENO and records
# the reason; a well-formed hand-made SYN negotiates (control).
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_skip "python3 missing"
RAW=$TC_TOP_SRCDIR/tests/integration/eno_rawsyn.py
tc_netns_setup
tc_daemon_start
R_MALFORMED=4 R_TWO_OPTIONS=5 R_VACUOUS=6 R_SYN_DATA=12
# A has no socket for these connections: keep its kernel from resetting them
ip netns exec "$NS_A" iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP || tc_fail "iptables"

# case PORT SYN_OPTS [SYN_DATA] -> $srv, $synack
case_() {
	local port=$1
	tc_bg "$NS_B" "$ENO_PEER" server "$port" > "$TC_TMP/s-$port.out"
	local spid=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	synack=$(ip netns exec "$NS_A" python3 "$RAW" "$IP_A" $((port + 30000)) "$IP_B" "$port" "$2" ${3:-}) ||
		tc_fail "$port: no SYN-ACK"
	for i in $(seq 1 50); do [ -s "$TC_TMP/s-$port.out" ] && break; sleep 0.1; done
	srv=$(cat "$TC_TMP/s-$port.out")
	echo "# $port: $synack / $srv"
	[ -n "$srv" ] || tc_fail "$port: server printed nothing"
	eno_expect "$srv" data ok "server $port"
}

case_ 7801 450323                      # control: well-formed
[ "$synack" = "synack eno=45040123" ] || tc_fail "7801: $synack"
eno_expect "$srv" ok 1 server; eno_expect "$srv" peer 450323 server

case_ 7802 450323450323                # two ENO options
[ "$synack" = "synack eno=-" ] || tc_fail "7802: $synack"
eno_expect "$srv" reason $R_TWO_OPTIONS server; eno_expect "$srv" ok 0 server

case_ 7803 45048023                    # length byte followed by a v=0 byte
[ "$synack" = "synack eno=-" ] || tc_fail "7803: $synack"
eno_expect "$srv" reason $R_MALFORMED server

case_ 7804 450300                      # global suboption only: vacuous
[ "$synack" = "synack eno=-" ] || tc_fail "7804: $synack"
eno_expect "$srv" reason $R_VACUOUS server

case_ 7805 450323 "hello"              # data in the SYN
[ "$synack" = "synack eno=-" ] || tc_fail "7805: $synack"
eno_expect "$srv" reason $R_SYN_DATA server
echo "PASS: eno_badsyn"
