#!/usr/bin/env bash
# A's side of RFC 8547 against SYN-ACKs no conforming stack sends (a fake B
# made with a raw socket): b=0, two ENO options, a vacuous option, a TEP A
# did not offer, an invalid length byte, no global suboption, B's only TEP
# asking for resumption (RFC 8548 3.5: A ignores it). A records the reason
# and sends no 45 02 in its ACK; a well-formed SYN-ACK negotiates and A's
# ACK carries 45 02 (control). An active opener that sent b=1 and gets
# b=0 back declines (R_SIMOPEN, tcpcrypt(7) LIMITS: such a SYN-ACK comes
# from a simultaneous opener that did not see A's option).
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_skip "python3 missing"
RAW=$TC_TOP_SRCDIR/tests/integration/eno_rawsyn.py
tc_netns_setup
tc_daemon_start
R_MALFORMED=4 R_TWO_OPTIONS=5 R_VACUOUS=6 R_NO_COMMON_TEP=7 R_ROLE_CLASH=8 R_SIMOPEN=14
# B has no socket for these connections: keep its kernel from resetting them
ip netns exec "$NS_B" iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP || tc_fail "iptables"

# case PORT SYNACK_OPTS [A's offer content, default 23] -> $cli, $fake
case_() {
	local port=$1 content=${3:-23} i
	ip netns exec "$NS_B" python3 "$RAW" fake-b "$IP_B" "$port" "$2" > "$TC_TMP/fake-$port.out" 2>&1 &
	TC_PIDS+=($!)
	local fpid=$!
	for i in $(seq 1 50); do grep -q ready "$TC_TMP/fake-$port.out" && break; sleep 0.1; done
	cli=$(tc_run "$NS_A" "$ENO_PEER" client "$IP_B" "$port" --content "$content") ||
		tc_fail "$port: client failed: $cli"
	wait "$fpid" || tc_fail "$port: fake B: $(cat "$TC_TMP/fake-$port.out")"
	fake=$(grep -v ready "$TC_TMP/fake-$port.out" | tr '\n' ' ')
	echo "# $port: B saw: $fake/ A: $cli"
	eno_expect "$cli" data ok "client $port"
	echo "$fake" | grep -q "syn eno=45$(printf %02x $((${#content} / 2 + 2)))$content " ||
		tc_fail "$port: A's SYN: $fake"
}

expect_fallback() {   # PORT-case done; A fell back with reason $1 and sent no ENO in its ACK
	eno_expect "$cli" ok 0 client; eno_expect "$cli" done 1 client
	eno_expect "$cli" reason "$1" client
	echo "$fake" | grep -q "ack eno=- " || tc_fail "A sent ENO in its ACK after a fallback: $fake"
}

case_ 7901 45040123                    # control
eno_expect "$cli" ok 1 client; eno_expect "$cli" peer 45040123 client
echo "$fake" | grep -q "ack eno=4502 " || tc_fail "A's ACK without 45 02: $fake"

case_ 7902 45040023                    # b=0 from the passive side
expect_fallback $R_ROLE_CLASH
case_ 7903 4504012345040123            # two ENO options
expect_fallback $R_TWO_OPTIONS
case_ 7904 450301                      # global suboption only
expect_fallback $R_VACUOUS
case_ 7905 45040124                    # a TEP A did not offer
expect_fallback $R_NO_COMMON_TEP
case_ 7906 4505018023                  # length byte not followed by a v=1 TEP
expect_fallback $R_MALFORMED
case_ 7907 450323                      # no global suboption: implicit b=0
expect_fallback $R_ROLE_CLASH
eno_expect "$cli" peer 450323 client
case_ 7908 450e01a30102030405060708090a  # B's only TEP asks for resumption
expect_fallback $R_NO_COMMON_TEP
case_ 7909 450e0123a3010203040506070809  # a fresh 23 before it: negotiated
eno_expect "$cli" ok 1 client; eno_expect "$cli" roleB 0 client
echo "$fake" | grep -q "ack eno=4502 " || tc_fail "A's ACK without 45 02: $fake"
# A sent b=1, B b=0: by the b bits A would be B, but no passive opener
# sends b=0: this SYN-ACK comes from a simultaneous opener that got A's
# SYN in SYN-SENT before A's got its SYN, and which (on the eBPF backend)
# never saw A's option. A declines (R_SIMOPEN), no 45 02: both ends plain
case_ 7910 450323 0123
expect_fallback $R_SIMOPEN
eno_expect "$cli" roleB 0 client
eno_expect "$cli" peer 450323 client
echo "PASS: eno_badsynack"
