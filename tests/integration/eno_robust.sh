#!/usr/bin/env bash
# ENO where TCP does unusual things: SYN cookies (tcp_syncookies=2) on B,
# a dropped first SYN (the retransmitted SYN carries the same option), a
# dropped first SYN-ACK (B's retransmit carries the same option), IPv6,
# and an IPv6 dual-stack listener accepting IPv4 (v4-mapped).
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
tc_netns_setup
tc_daemon_start
eno_capture_start "$NS_A" "$TC_IF_A"

# 1. SYN cookies for every SYN on B
ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_syncookies=2
eno_pair 7401 "" "$IP_B" ""
eno_expect_ok
eno_expect "$srv" cookie 1 "server (syncookie)"
eno_pair 7406 "" "$IP_B" "--no-opt-in"       # a plain SYN in cookie mode
eno_expect "$srv" ok 0 server; eno_expect "$srv" reason 3 server; eno_expect "$srv" done 1 server
ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_syncookies=1

# 2. the first SYN is dropped in A's OUTPUT: the retransmit carries ENO
syn0=$(eno_counter syn_eno)
ip netns exec "$NS_A" iptables -A OUTPUT -p tcp --dport 7402 --tcp-flags SYN,ACK SYN \
	-m statistic --mode nth --every 1000 --packet 0 -j DROP || tc_fail "iptables"
eno_pair 7402 "" "$IP_B" ""
eno_expect_ok
syn1=$(eno_counter syn_eno)
[ $((syn1 - syn0)) -ge 2 ] || tc_fail "expected >= 2 SYNs built with ENO, counted $((syn1 - syn0))"
drops=$(ip netns exec "$NS_A" iptables -L OUTPUT -v -n -x | awk '/7402/ {print $1}')
[ "$drops" = 1 ] || tc_fail "the drop rule matched $drops SYNs"

# 3. the first SYN-ACK is dropped in B's OUTPUT, and A's SYN retransmits
# too, so B's retransmit timer (no SYN at hand) sends the next SYN-ACK:
# it carries the same option, rebuilt from the tuple map
rtx0=$(eno_counter synack_rtx)
ip netns exec "$NS_B" iptables -A OUTPUT -p tcp --sport 7403 --tcp-flags SYN,ACK SYN,ACK \
	-m statistic --mode nth --every 1000 --packet 0 -j DROP || tc_fail "iptables"
ip netns exec "$NS_A" iptables -A OUTPUT -p tcp --dport 7403 --tcp-flags SYN,ACK SYN \
	-m statistic --mode nth --every 1000 --packet 0 -j ACCEPT || tc_fail "iptables"
ip netns exec "$NS_A" iptables -A OUTPUT -p tcp --dport 7403 --tcp-flags SYN,ACK SYN -j DROP ||
	tc_fail "iptables"
eno_pair 7403 "" "$IP_B" ""
eno_expect_ok
rtx1=$(eno_counter synack_rtx)
[ $((rtx1 - rtx0)) -ge 1 ] || tc_fail "no SYN-ACK was rebuilt by the retransmit timer"

# 4. IPv6
eno_pair 7404 --v6 "$IP6_B" ""
eno_expect_ok

# 5. IPv6 dual-stack listener, IPv4 client (v4-mapped on the server)
eno_pair 7405 --v6 "$IP_B" ""
eno_expect_ok

eno_capture_stop
wire=$(eno_wire "$ENO_CAP_FILE")
echo "$wire" | sed 's/^/# wire: /'
for p in 7401 7402 7403 7404 7405; do
	syns=$(echo "$wire" | awk -v p=$p '$2 == p && $3 == "S"')
	[ -n "$syns" ] || tc_fail "$p: no SYN captured"
	echo "$syns" | awk '$5 != "450323"' | grep -q . && tc_fail "$p: a SYN without the option: $syns"
	synacks=$(echo "$wire" | awk -v p=$p '$1 == p && $3 == "SA"')
	[ -n "$synacks" ] || tc_fail "$p: no SYN-ACK captured"
	echo "$synacks" | awk '$5 != "45040123"' | grep -q . && tc_fail "$p: a SYN-ACK without the option: $synacks"
	[ "$(echo "$wire" | awk -v p=$p '$2 == p && $3 !~ /S/' | head -1 | awk '{print $5}')" = 4502 ] ||
		tc_fail "$p: A's first ACK without 45 02"
done
echo "PASS: eno_robust"
