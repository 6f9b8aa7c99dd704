#!/usr/bin/env bash
# Forged handshake segments must not decide (issue 13, item 2): the divert
# daemons decide on the SYN-ACK (A) and on A's first ACK (B), and must take
# only segments TCP itself takes, whose acknowledgment number matches the
# ISN they saw go out.
#  1. B between its SYN-ACK and A's ACK (A's segments held): a forged ACK
#     from A's 4-tuple, A's sequence number, acknowledging one less than B's
#     SYN-ACK, no ENO. B's kernel refuses it; B's daemon must too (before
#     the fix it decided "A's first ACK carried no ENO": B plain, A
#     encrypted, a split).
#  2. A between its SYN and B's SYN-ACK (B's SYN-ACKs held): a forged
#     SYN-ACK from B's 4-tuple acknowledging one less than A's SYN, no ENO.
#     A's daemon must not decide on it (before the fix: plain).
# In both, the real segments then go through and the connection must be
# encrypted at both ends, the same session ID, the data intact.
export TCPCRYPT_TEST_BACKEND=divert
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_fail "python3 missing"
command -v iptables >/dev/null || tc_fail "iptables missing (scripts/install-deps.sh)"
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PEER=$TC_TOP_SRCDIR/tests/integration/eno_split_peer.py
TABPY=$TC_TOP_SRCDIR/tests/divert/divert_tab.py
FORGE=$TC_TOP_SRCDIR/tests/divert/divert_forge.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"

tc_netns_setup
tc_daemon_start
# the forged segments are not tracked: they leave conntrack's packet
# counts (which the daemons' rules read) as they were
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" iptables -t raw -A OUTPUT -m mark --mark 0x7e57 -j NOTRACK || tc_fail "iptables raw"
done
d=$TC_TMP/forged
mkdir -p "$d"
MARK_A=client-$(head -c 8 /dev/urandom | xxd -p) MARK_B=server-$(head -c 8 /dev/urandom | xxd -p)
HEX_A=$(printf '%s\n' "$MARK_A" | xxd -p | tr -d '\n')
HEX_B=$(printf '%s\n' "$MARK_B" | xxd -p | tr -d '\n')

client_port() {
	ip netns exec "$NS_A" ss -Htan "dport = :$1" | awk '$1 != "LISTEN" {n = split($4, a, ":"); print a[n]; exit}'
}
# field NAME ENTRY: a value of divert_tab.py's line
field() { echo "$2" | tr ' ' '\n' | awk -F= -v n="$1" '$1 == n {print $2}'; }

# start NAME PORT: B's server and A's client on PORT (the hold rules set first)
start() {
	tc_bg "$NS_B" "$RUN" python3 "$PEER" server "$2" 16 "$MARK_B" > "$d/$1.server" 2> "$d/$1.server.err"
	spid=$TC_LAST_PID
	tc_wait_port "$NS_B" "$2"
}
connect() {
	tc_bg "$NS_A" timeout 60 "$RUN" python3 "$PEER" client "$IP_B" "$2" "$MARK_A" > "$d/$1.client" 2> "$d/$1.client.err"
	cpid=$TC_LAST_PID
	for i in $(seq 1 100); do
		cport=$(client_port "$2")
		[ -n "$cport" ] && break
		sleep 0.05
	done
	[ -n "$cport" ] || tc_fail "$1: the client did not connect"
}
# finish NAME: both ends encrypted, same session ID, data intact
finish() {
	wait "$cpid"; wait "$spid"
	local cli srv
	cli=$(cat "$d/$1.client") srv=$(cat "$d/$1.server")
	echo "# $1: client: $cli"
	echo "# $1: server: $srv"
	[[ $(eno_field "$srv" recv) == 15101a0e* ]] && tc_fail "$1: SPLIT: B's application received A's Init1 as data"
	[ "$(eno_field "$cli" recv)" = "$HEX_B" ] && [ "$(eno_field "$srv" recv)" = "$HEX_A" ] ||
		tc_fail "$1: the data did not go through intact"
	[ "$(eno_field "$cli" sessid)" != - ] && [ "$(eno_field "$cli" sessid)" = "$(eno_field "$srv" sessid)" ] ||
		tc_fail "$1: not encrypted at both ends (session IDs $(eno_field "$cli" sessid) / $(eno_field "$srv" sessid))"
}

# 1. a forged ACK to B
port=7990
start ack $port
ip netns exec "$NS_A" iptables -A OUTPUT -p tcp -d "$IP_B" --dport $port ! --syn -m mark ! --mark 0x7e57 -j DROP ||
	tc_fail "iptables"
connect ack $port
e=$(python3 "$TABPY" "$TC_TMP/ctl-$NS_B.tab" "$IP_B" $port "$IP_A" "$cport")
[ "$(field state "$e")" = 5 ] || tc_fail "ack: B's table has no B_WAIT_ACK entry ($e)"
ip netns exec "$NS_A" python3 "$FORGE" "$IP_A" "$cport" "$IP_B" $port ack \
	$(( $(field isn "$e") + 1 )) "$(field isn_b "$e")" || tc_fail "ack: forge"
sleep 0.3
e2=$(python3 "$TABPY" "$TC_TMP/ctl-$NS_B.tab" "$IP_B" $port "$IP_A" "$cport")
echo "# ack: B's entry before the forged ACK: $e; after: $e2"
[ "$(field state "$e2")" = 5 ] || tc_fail "ack: a forged ACK (wrong acknowledgment number) decided B's outcome ($e2)"
ip netns exec "$NS_A" iptables -D OUTPUT -p tcp -d "$IP_B" --dport $port ! --syn -m mark ! --mark 0x7e57 -j DROP
finish ack

# 2. a forged SYN-ACK to A
port=7991
start synack $port
ip netns exec "$NS_B" iptables -A OUTPUT -p tcp -s "$IP_B" --sport $port --tcp-flags SYN,ACK SYN,ACK \
	-m mark ! --mark 0x7e57 -j DROP || tc_fail "iptables"
connect synack $port
e=$(python3 "$TABPY" "$TC_TMP/ctl-$NS_A.tab" "$IP_A" "$cport" "$IP_B" $port)
[ "$(field state "$e")" = 1 ] || tc_fail "synack: A's table has no A_SYN entry ($e)"
ip netns exec "$NS_B" python3 "$FORGE" "$IP_B" $port "$IP_A" "$cport" synack 12345 "$(field isn "$e")" ||
	tc_fail "synack: forge"
sleep 0.3
e2=$(python3 "$TABPY" "$TC_TMP/ctl-$NS_A.tab" "$IP_A" "$cport" "$IP_B" $port)
echo "# synack: A's entry before the forged SYN-ACK: $e; after: $e2"
[ "$(field state "$e2")" = 1 ] || tc_fail "synack: a forged SYN-ACK (wrong acknowledgment number) decided A's outcome ($e2)"
ip netns exec "$NS_B" iptables -D OUTPUT -p tcp -s "$IP_B" --sport $port --tcp-flags SYN,ACK SYN,ACK \
	-m mark ! --mark 0x7e57 -j DROP
finish synack
echo "PASS: divert_forged"
