#!/bin/bash
# test_simopen.sh - TCP simultaneous open and the ENO b bit
# (TCP_CRYPT_PASSIVE; RFC 8547 4.2, 4.3, 4.6), both ends under tcpcrypt-run
# (tests/shim/simopen.c), in two namespaces joined by a veth pair
# (10.200.200.0/24).
#
# The SYNs cross for certain, not by timing: a tbf qdisc on each end's veth
# holds its egress (its bucket drained by two big datagrams, the rate 8
# bit/s) until both sockets are in SYN-SENT, then is opened. The capture
# must show both SYNs without ACK: each end got the other's SYN while in
# SYN-SENT.
#
# Asserts:
#  1. simultaneous open, both with the default b=0: plain TCP on both ends
#     (TCP_CRYPT_SESSID fails on both, the markers in clear in the
#     capture), lines intact;
#  2. the same with TCP_CRYPT_PASSIVE=1 on one end: encrypted, that end is
#     B and the other A, session IDs equal, no marker in the capture, and
#     the SYN-ACKs carry the same ENO option as the SYNs (RFC 8547 4.6);
#     also with non-blocking connect() on both ends;
#  3. both with TCP_CRYPT_PASSIVE=1: plain on both ends, lines intact;
#  4. an ordinary connect() with TCP_CRYPT_PASSIVE=1 to a listener (which
#     sends b=1): plain on both ends, lines intact; with 0, encrypted (the
#     same path works);
#  5. a simultaneous open where only one SYN crosses (A's SYN is dropped,
#     so B completes on A's SYN-ACK as an active opener and A never sees
#     B's SYN option): never split. Same b on both ends, or b=1 on B:
#     plain on both, lines intact. b=1 on A only: B negotiates on A's
#     SYN-ACK, A cannot follow and resets: the connection fails on both
#     ends, no line delivered, nothing in clear (a known limitation of the
#     eBPF backend, man tcpcrypt(7)).
# With TCPCRYPT_TEST_BACKEND=divert the same, but in case 5 with b=1 on A
# only: the divert daemon sees the SYN A's socket got in SYN-SENT, so A
# follows B's negotiation: encrypted, A is B, IDs equal.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

H=$TC_TOP_BUILDDIR/tests/shim/simopen
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$H" ] || tc_fail "simopen not built at $H"
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
command -v tcpdump > /dev/null || tc_skip "no tcpdump"
command -v tc > /dev/null || tc_skip "no tc"

tc_netns_setup
# this test's own /24, fixed (the capture filters by address)
IP_A=10.200.200.1 IP_B=10.200.200.2
ip -n "$NS_A" addr flush dev "$TC_IF_A"
ip -n "$NS_B" addr flush dev "$TC_IF_B"
ip -n "$NS_A" addr add "$IP_A/24" dev "$TC_IF_A"
ip -n "$NS_B" addr add "$IP_B/24" dev "$TC_IF_B"
# no ARP: it would queue behind the held packets
MAC_A=$(ip -n "$NS_A" -br link show "$TC_IF_A" | awk '{print $3}')
MAC_B=$(ip -n "$NS_B" -br link show "$TC_IF_B" | awk '{print $3}')
ip -n "$NS_A" neigh replace "$IP_B" lladdr "$MAC_B" dev "$TC_IF_A" nud permanent
ip -n "$NS_B" neigh replace "$IP_A" lladdr "$MAC_A" dev "$TC_IF_B" nud permanent
tc -n "$NS_A" qdisc add dev "$TC_IF_A" root tbf rate 10gbit burst 1000000 limit 200000 ||
	tc_skip "no tbf qdisc"
tc -n "$NS_B" qdisc add dev "$TC_IF_B" root tbf rate 10gbit burst 1000000 limit 200000 ||
	tc_skip "no tbf qdisc"

tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP

ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$T/all.pcap" \
	"tcp and host $IP_B" 2> "$T/dump.err" &
DUMP=$!
TC_PIDS+=($DUMP)
for _ in $(seq 1 100); do grep -qs 'listening on' "$T/dump.err" && break; sleep 0.05; done

# hold NS IF PEER: from now on NS's egress waits (the bucket drained).
hold() {
	tc -n "$1" qdisc change dev "$2" root tbf rate 8bit burst 1600 limit 200000 ||
		tc_fail "tbf change"
	ip netns exec "$1" bash -c 'for i in 1 2; do printf "%1400s" x > /dev/udp/$0/9; done' "$3"
}
# release NS IF PEER: the held segments leave (a datagram kicks the queue).
release() {
	tc -n "$1" qdisc change dev "$2" root tbf rate 10gbit burst 1000000 limit 200000 ||
		tc_fail "tbf change"
	ip netns exec "$1" bash -c 'printf k > /dev/udp/$0/9' "$3"
}
# wait_synsent NS PORT: until a socket of NS on PORT is in SYN-SENT.
wait_synsent() {
	for _ in $(seq 1 200); do
		ip netns exec "$1" ss -Htn state syn-sent "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	tc_fail "no socket in SYN-SENT on port $2 in $1"
}
# field FILE NAME: the value of "NAME value" in a helper's output.
field() { sed -n "s/^$2 //p" "$1"; }
# pcap_has STRING: the capture so far holds STRING in clear.
pcap_has() { sleep 0.3; grep -qaF "$1" "$T/all.pcap"; }
# bare_syns PORT: SYNs without ACK on PORT in the capture (both directions).
bare_syns() {
	sleep 0.3
	tcpdump -r "$T/all.pcap" -n "tcp port $1 and tcp[13] & 0x12 == 0x02" 2> /dev/null | wc -l
}

# simopen CASE PORT PASSIVE_A PASSIVE_B [MODE]: a simultaneous open between
# A and B on PORT (each binds it; MODE connect or connect-nb); outputs in
# $T/CASE.a, $T/CASE.b.
simopen() {
	local c=$1 port=$2 pa=$3 pb=$4 mode=${5:-connect} ra rb
	hold "$NS_A" "$TC_IF_A" "$IP_B"
	hold "$NS_B" "$TC_IF_B" "$IP_A"
	tc_bg "$NS_A" timeout 20 "$RUN" "$H" "$mode" "$IP_A" "$port" "$IP_B" "$port" "$pa" \
		"MARK-$c-from-A" > "$T/$c.a" 2> "$T/$c.a.err"
	local PA=$TC_LAST_PID
	tc_bg "$NS_B" timeout 20 "$RUN" "$H" "$mode" "$IP_B" "$port" "$IP_A" "$port" "$pb" \
		"MARK-$c-from-B" > "$T/$c.b" 2> "$T/$c.b.err"
	local PB=$TC_LAST_PID
	wait_synsent "$NS_A" "$port"
	wait_synsent "$NS_B" "$port"
	release "$NS_A" "$TC_IF_A" "$IP_B"
	release "$NS_B" "$TC_IF_B" "$IP_A"
	wait "$PA"; ra=$?
	wait "$PB"; rb=$?
	tc_log "case $c: A (b=$pa) exit $ra: $(tr '\n' ' ' < "$T/$c.a") $(tr '\n' ' ' < "$T/$c.a.err")"
	tc_log "case $c: B (b=$pb) exit $rb: $(tr '\n' ' ' < "$T/$c.b") $(tr '\n' ' ' < "$T/$c.b.err")"
	[ "$(bare_syns "$port")" = 2 ] ||
		tc_fail "case $c: the SYNs did not cross (capture: $(tcpdump -r "$T/all.pcap" -n "tcp port $port" 2> /dev/null | head -4 | tr '\n' ' '))"
	RA=$ra RB=$rb
}

# expect_plain CASE: both ends plain, lines intact and in clear on the wire.
expect_plain() {
	local c=$1 e
	[ "$RA" = 0 ] && [ "$RB" = 0 ] || tc_fail "case $c: exits A $RA, B $RB"
	[ "$(field "$T/$c.a" got)" = "MARK-$c-from-B" ] || tc_fail "case $c: A got '$(field "$T/$c.a" got)'"
	[ "$(field "$T/$c.b" got)" = "MARK-$c-from-A" ] || tc_fail "case $c: B got '$(field "$T/$c.b" got)'"
	for e in a b; do
		case "$(field "$T/$c.$e" sessid)" in
		"- "*) ;;
		*) tc_fail "case $c: end $e has a session ID ($(field "$T/$c.$e" sessid)), expected plain" ;;
		esac
	done
	pcap_has "MARK-$c-from-A" && pcap_has "MARK-$c-from-B" ||
		tc_fail "case $c: the lines are not in clear in the capture (encrypted on one end?)"
}

# expect_reason CASE END REASON...: END's TCP_CRYPT_ENO_RESULT gave one of
# the REASONs.
R_OK=0 R_PEER_NO_ENO=3 R_ROLE_CLASH=8 R_SIMOPEN=14
expect_reason() {
	local c=$1 e=$2 r
	r=$(field "$T/$c.$e" reason)
	shift 2
	case " $* " in *" $r "*) ;; *) tc_fail "case $c: end $e's ENO reason is $r, expected $*" ;; esac
}
# Plain by a role clash: each end judged the other's SYN-ACK and found the
# same b bit. The divert daemon may have judged the peer's SYN-ACK before
# its own SYN-ACK left, and then sends that one without ENO (RFC 8547 4.6
# allows it): the peer then saw no ENO.
CLASH=$R_ROLE_CLASH
[ "$TCPCRYPT_TEST_BACKEND" = divert ] && CLASH="$R_ROLE_CLASH $R_PEER_NO_ENO"

# expect_crypt CASE ROLE_A ROLE_B: encrypted, equal IDs, nothing in clear.
expect_crypt() {
	local c=$1 ia ib
	[ "$RA" = 0 ] && [ "$RB" = 0 ] || tc_fail "case $c: exits A $RA, B $RB"
	[ "$(field "$T/$c.a" got)" = "MARK-$c-from-B" ] || tc_fail "case $c: A got '$(field "$T/$c.a" got)'"
	[ "$(field "$T/$c.b" got)" = "MARK-$c-from-A" ] || tc_fail "case $c: B got '$(field "$T/$c.b" got)'"
	ia=$(field "$T/$c.a" sessid) ib=$(field "$T/$c.b" sessid)
	case "$ia" in ''|-*) tc_fail "case $c: A has no session ID ($ia)" ;; esac
	[ "$ia" = "$ib" ] || tc_fail "case $c: session IDs differ: A $ia, B $ib"
	[ "$(field "$T/$c.a" role)" = "$2" ] || tc_fail "case $c: A's role is $(field "$T/$c.a" role), expected $2"
	[ "$(field "$T/$c.b" role)" = "$3" ] || tc_fail "case $c: B's role is $(field "$T/$c.b" role), expected $3"
	! pcap_has "MARK-$c-from" || tc_fail "case $c: a line is in clear in the capture"
}

# 1. both default (b=0): a role clash, plain on both ends.
simopen 1 7711 - -
expect_plain 1
expect_reason 1 a $CLASH
expect_reason 1 b $CLASH
tc_log "case 1: simultaneous open, b=0 on both ends: plain on both"

# 2. one end passive: it is B, the connection is encrypted.
simopen 2 7712 1 0
simopen 2r 7713 0 1
# non-blocking connect() on both ends (the key exchange then starts in
# the progress thread or at the first call), the passive end B
simopen 2n 7720 0 1 connect-nb
expect_crypt 2 B A
expect_crypt 2r A B
expect_crypt 2n A B
expect_reason 2 a $R_OK
expect_reason 2 b $R_OK
# every SYN and SYN-ACK of the open carries ENO, each end's SYN-ACK the same
# option as its SYN
for p in 7712 7713; do
	syn=$(tcpdump -r "$T/all.pcap" -n -v "tcp port $p and tcp[13] & 0x02 != 0" 2> /dev/null |
		grep -c 'unknown-69')
	[ "$syn" = 4 ] || tc_fail "case 2: $syn of the 4 SYN/SYN-ACK segments on port $p carry ENO"
	for h in "$IP_A" "$IP_B"; do
		n=$(tcpdump -r "$T/all.pcap" -n -v -x "src $h and tcp port $p and tcp[13] & 0x02 != 0" 2> /dev/null |
			grep -o 'unknown-69 0x[0-9a-f]*' | sort -u | wc -l)
		[ "$n" = 1 ] || tc_fail "case 2: $h's SYN and SYN-ACK on port $p carry different ENO options"
	done
done
tc_log "case 2: simultaneous open, one end b=1: encrypted, roles by b, IDs equal"

# 3. both passive: plain on both ends.
simopen 3 7714 1 1
expect_plain 3
expect_reason 3 a $CLASH
expect_reason 3 b $CLASH
tc_log "case 3: simultaneous open, b=1 on both ends: plain on both"

# 4. an ordinary connection: b=1 from the active opener clashes with the
# listener's b=1 (plain); b=0 negotiates (the control).
for c in 4 4c; do
	port=7715; b=1
	[ "$c" = 4c ] && port=7716 b=0
	tc_bg "$NS_B" timeout 20 "$RUN" "$H" listen "$IP_B" "$port" - - - "MARK-$c-from-B" \
		> "$T/$c.b" 2> "$T/$c.b.err"
	PB=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	tc_run "$NS_A" timeout 20 "$RUN" "$H" connect "$IP_A" 0 "$IP_B" "$port" "$b" "MARK-$c-from-A" \
		> "$T/$c.a" 2> "$T/$c.a.err"
	RA=$?
	wait "$PB"; RB=$?
	tc_log "case $c: client (b=$b) exit $RA: $(tr '\n' ' ' < "$T/$c.a") $(tr '\n' ' ' < "$T/$c.a.err")"
	tc_log "case $c: listener exit $RB: $(tr '\n' ' ' < "$T/$c.b") $(tr '\n' ' ' < "$T/$c.b.err")"
done
expect_plain 4
expect_reason 4 a $R_PEER_NO_ENO     # the listener answered without ENO
expect_reason 4 b $R_ROLE_CLASH
expect_crypt 4c A B
tc_log "case 4: connect() with b=1 to a listener: plain on both"

# 5. only B's SYN crosses: A's SYNs to the port are dropped in B, so A
# gets B's SYN in SYN-SENT and answers with a SYN-ACK, on which B completes
# as an active opener; A completes on B's ACK and never sees B's option
# (the kernel runs no callback with a SYN received in SYN-SENT). With the
# same b on both ends both are plain; otherwise B negotiates on A's
# SYN-ACK and A, unable to follow, resets: the connection fails on both
# ends, and nothing goes in clear.
command -v iptables > /dev/null || tc_fail "iptables missing (scripts/install-deps.sh)"
one_syn() {
	local c=$1 port=$2 pa=$3 pb=$4
	ip netns exec "$NS_B" iptables -A INPUT -p tcp -s "$IP_A" --dport "$port" --tcp-flags SYN,ACK SYN \
		-j DROP || tc_fail "iptables"
	tc_bg "$NS_A" timeout 20 "$RUN" "$H" connect "$IP_A" "$port" "$IP_B" "$port" "$pa" \
		"MARK-$c-from-A" > "$T/$c.a" 2> "$T/$c.a.err"
	local PA=$TC_LAST_PID
	wait_synsent "$NS_A" "$port"
	tc_run "$NS_B" timeout 20 "$RUN" "$H" connect "$IP_B" "$port" "$IP_A" "$port" "$pb" \
		"MARK-$c-from-B" > "$T/$c.b" 2> "$T/$c.b.err"
	RB=$?
	wait "$PA"; RA=$?
	tc_log "case $c: A (b=$pa) exit $RA: $(tr '\n' ' ' < "$T/$c.a") $(tr '\n' ' ' < "$T/$c.a.err")"
	tc_log "case $c: B (b=$pb) exit $RB: $(tr '\n' ' ' < "$T/$c.b") $(tr '\n' ' ' < "$T/$c.b.err")"
	# the scenario itself: B's SYN, A's SYN-ACK, no SYN of A's in the capture
	# other than those B dropped (the capture is on A's side: they are there)
	[ "$(tcpdump -r "$T/all.pcap" -n "src $IP_A and tcp port $port and tcp[13] & 0x12 == 0x12" 2> /dev/null |
		wc -l)" -ge 1 ] || tc_fail "case $c: A sent no SYN-ACK"
}
one_syn 5 7717 - -
expect_plain 5
# B passive (b=1) completes on A's SYN-ACK with b=0, which no listener
# sends: B declines, both plain
one_syn 5c 7719 0 1
expect_plain 5c
expect_reason 5c b $R_SIMOPEN
# B (b=0) completes on A's SYN-ACK with b=1, as it would on a listener's:
# B negotiates, A cannot follow and resets (eBPF); the divert backend saw
# B's SYN and follows: encrypted, A is B
one_syn 5b 7718 1 0
if [ "$TCPCRYPT_TEST_BACKEND" = divert ]; then
	expect_crypt 5b B A
else
	[ "$RA" != 0 ] && [ "$RB" != 0 ] ||
		tc_fail "case 5b: a split outcome: A exit $RA, B exit $RB (expected the connection to fail on both ends)"
	[ -z "$(field "$T/5b.a" got)" ] && [ -z "$(field "$T/5b.b" got)" ] ||
		tc_fail "case 5b: a line went through a connection one end could not encrypt"
	! pcap_has "MARK-5b-from" || tc_fail "case 5b: a line is in clear in the capture"
fi
tc_log "case 5: one SYN crossing: plain on both, or reset on both when the passive end's SYN was lost"

echo "PASS: simultaneous open and TCP_CRYPT_PASSIVE"
