#!/usr/bin/env bash
# The divert backend under a flood of spoofed ENO SYNs (issue 13, item 1):
# B's daemon keeps the state of each handshake in its table
# (tools/tcpcryptd/divert/tcpcryptd_divert_tab.c). A spoofed SYN must never
# evict the entry of a live handshake: with it gone, A (negotiated on the
# SYN-ACK) encrypts while B runs plain and reads Init1 as data (a split).
#
# A's non-SYN segments to the port are held (iptables in A, after A's
# daemon has seen them) from its SYN on, so B stays between SYN-ACK and
# ACK; the test checks that B's table holds the connection (state
# B_WAIT_ACK), floods B with spoofed ENO SYNs (eno_synflood, from A,
# sources in 10.200.240.0/20, rounds of 3000 at several thousand a second,
# far above the 137/s that filled the old table), and asserts that B's
# entry survived the flood; then it lets A's segments through.
# Asserted: never split (B's application never gets Init1 bytes, A's never
# gets B's bytes in clear, each end either has the other's data and the
# same session ID, or both failed; no marker in clear on the wire); a
# plain client held the same way still works; and after the flood (the
# table full of half-open spoofed entries), a new tcpcrypt connection is
# encrypted on both ends, or plain on both ends, never split.
export TCPCRYPT_TEST_BACKEND=divert
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_fail "python3 missing"
command -v iptables >/dev/null || tc_fail "iptables missing (scripts/install-deps.sh)"
command -v tcpdump >/dev/null || tc_fail "tcpdump missing (scripts/install-deps.sh)"
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
FLOOD=$TC_TOP_BUILDDIR/tests/integration/eno_synflood
PEER=$TC_TOP_SRCDIR/tests/integration/eno_split_peer.py
TABPY=$TC_TOP_SRCDIR/tests/divert/divert_tab.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$FLOOD" ] || tc_fail "eno_synflood not built at $FLOOD"
SPOOF_NET=10.200.240.0
BOUND=${DV_FLOOD_BOUND:-45000}

tc_netns_setup
tc_daemon_start
TAB=$TC_TMP/ctl-$NS_B.tab
[ -f "$TAB" ] || tc_fail "B's daemon has no table file $TAB"
# B reaches the spoofed sources (so it answers them, through its daemon)
# but drops what it sends them
ip -n "$NS_B" route add "$SPOOF_NET/20" via "$IP_A" || tc_fail "route"
ip netns exec "$NS_B" iptables -A OUTPUT -d "$SPOOF_NET/20" -j DROP || tc_fail "iptables"
ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_syncookies=0 net.core.somaxconn=2000000 \
	net.ipv4.tcp_max_syn_backlog=2000000 || tc_fail "sysctl"

# entry LPORT RPORT: B's table entry for $IP_B:LPORT <- $IP_A:RPORT
entry() {
	python3 "$TABPY" "$TAB" "$IP_B" "$1" "$IP_A" "$2"
}

# client_port PORT: the local port of A's connection to B:PORT (when one)
client_port() {
	ip netns exec "$NS_A" ss -Htn "dport = :$1" | awk '{n = split($4, a, ":"); print a[n]; exit}'
}

# agree NAME CLI SRV HEX_A HEX_B: the two result lines never show a split;
# prints "enc", "plain" or "failed"
agree() {
	local name=$1 cli=$2 srv=$3 crecv srecv csid ssid
	crecv=$(eno_field "$cli" recv) srecv=$(eno_field "$srv" recv)
	csid=$(eno_field "$cli" sessid) ssid=$(eno_field "$srv" sessid)
	[[ $srecv == 15101a0e* ]] && tc_fail "$name: SPLIT: B's application received A's Init1 as data ($srecv)"
	[[ $crecv == 15101a0e* ]] && tc_fail "$name: SPLIT: A's application received Init bytes as data ($crecv)"
	[ "$srecv" = - ] || [ "$srecv" = "$4" ] || tc_fail "$name: B's application received bytes A's did not send: $srecv"
	[ "$crecv" = - ] || [ "$crecv" = "$5" ] || tc_fail "$name: A's application received bytes B's did not send: $crecv"
	if [ "$srecv" = - ] && [ "$crecv" = - ]; then
		echo failed
		return
	fi
	[ "$srecv" = "$4" ] && [ "$crecv" = "$5" ] || tc_fail "$name: SPLIT: one end got data, the other did not"
	[ "$csid" = "$ssid" ] || tc_fail "$name: SPLIT: session IDs $csid / $ssid"
	[ "$csid" = - ] && echo plain || echo enc
}

port=7970 d=$TC_TMP/flood
mkdir -p "$d"
MARK_A=client-$(head -c 8 /dev/urandom | xxd -p) MARK_B=server-$(head -c 8 /dev/urandom | xxd -p)
MARK_P=plain-$(head -c 8 /dev/urandom | xxd -p)
HEX_A=$(printf '%s\n' "$MARK_A" | xxd -p | tr -d '\n')
HEX_B=$(printf '%s\n' "$MARK_B" | xxd -p | tr -d '\n')
HEX_P=$(printf '%s\n' "$MARK_P" | xxd -p | tr -d '\n')

ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$d/cap.pcap" \
	"(tcp port $port or tcp port $((port + 2))) and host $IP_A" 2> "$d/tcpdump.err" &
TC_PIDS+=($!)
dump=$!
for i in $(seq 1 100); do grep -qs 'listening on' "$d/tcpdump.err" && break; sleep 0.05; done

tc_bg "$NS_B" "$RUN" python3 "$PEER" server "$port" 2000000 "$MARK_B" > "$d/server.out" 2> "$d/server.err"
spid=$TC_LAST_PID
tc_bg "$NS_B" "$RUN" python3 "$PEER" server $((port + 1)) 2000000 "$MARK_B" > "$d/pserver.out" 2> "$d/pserver.err"
ppid=$TC_LAST_PID
tc_wait_port "$NS_B" "$port"; tc_wait_port "$NS_B" $((port + 1))

# hold A's segments after the SYN (the first ACK, Init1 and all)
for p in "$port" $((port + 1)); do
	ip netns exec "$NS_A" iptables -A OUTPUT -p tcp -d "$IP_B" --dport "$p" ! --syn -j DROP ||
		tc_fail "iptables"
done
tc_bg "$NS_A" timeout 90 "$RUN" python3 "$PEER" client "$IP_B" "$port" "$MARK_A" > "$d/client.out" 2> "$d/client.err"
cpid=$TC_LAST_PID
tc_bg "$NS_A" timeout 90 python3 "$PEER" client "$IP_B" $((port + 1)) "$MARK_P" > "$d/plain.out" 2> "$d/plain.err"
plpid=$TC_LAST_PID
for i in $(seq 1 100); do
	cport=$(client_port "$port"); pport=$(client_port $((port + 1)))
	[ -n "$cport" ] && [ -n "$pport" ] && break
	sleep 0.05
done
[ -n "$cport" ] && [ -n "$pport" ] || tc_fail "the clients did not connect"
e=$(entry "$port" "$cport")
[[ $e == state=5\ * ]] || tc_fail "B's table has no B_WAIT_ACK entry for the connection before the flood ($e)"

# the flood; the entry must survive it
sent=0 evicted= t0=$(date +%s.%N)
while [ "$sent" -lt "$BOUND" ]; do
	n=$(ip netns exec "$NS_A" "$FLOOD" "$IP_B" "$port" "$SPOOF_NET" "$sent" 3000) ||
		tc_fail "eno_synflood failed ($n)"
	sent=$((sent + n))
	e=$(entry "$port" "$cport")
	[[ $e == state=5\ * ]] || break
done
t1=$(date +%s.%N)
hs=$(echo status | socat - "UNIX-CONNECT:$TC_TMP/ctl-$NS_B" | awk '$1 == "handshakes" {print $2}')
echo "# $sent spoofed SYNs in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s; B's table: $hs live entries; the connection's: $e"
[[ $e == state=5\ * ]] || evicted=1

for p in "$port" $((port + 1)); do
	ip netns exec "$NS_A" iptables -D OUTPUT -p tcp -d "$IP_B" --dport "$p" ! --syn -j DROP
done
wait "$cpid"; wait "$spid"; wait "$plpid"; wait "$ppid"
cli=$(cat "$d/client.out") srv=$(cat "$d/server.out") pcli=$(cat "$d/plain.out") psrv=$(cat "$d/pserver.out")
echo "# client: $cli"
echo "# server: $srv"
echo "# plain client: $pcli / server: $psrv"
[ -n "$cli" ] && [ -n "$srv" ] || { cat "$d"/*.err >&2; tc_fail "a peer printed nothing"; }
out=$(agree held "$cli" "$srv" "$HEX_A" "$HEX_B") || exit 1
echo "# held connection: $out"
[ "$out" != plain ] || tc_fail "held connection: plain on both ends, but A offered and B answered ENO"
[ -z "$evicted" ] || tc_fail "a spoofed SYN flood evicted the live entry of the connection ($e after $sent SYNs)"
[ "$(eno_field "$pcli" recv)" = "$HEX_B" ] && [ "$(eno_field "$psrv" recv)" = "$HEX_P" ] ||
	tc_fail "the plain connection failed"
[ "$(eno_field "$psrv" sessid)" = - ] || tc_fail "the plain connection has a session ID"

# a new connection after the flood (the spoofed half-open entries are
# still there): encrypted or plain, on both ends alike
tc_bg "$NS_B" "$RUN" python3 "$PEER" server $((port + 2)) 16 "$MARK_B" > "$d/server2.out" 2> "$d/server2.err"
spid=$TC_LAST_PID
tc_wait_port "$NS_B" $((port + 2))
tc_bg "$NS_A" timeout 60 "$RUN" python3 "$PEER" client "$IP_B" $((port + 2)) "$MARK_A" > "$d/client2.out" 2> "$d/client2.err"
cpid=$TC_LAST_PID
wait "$cpid"; wait "$spid"
cli=$(cat "$d/client2.out") srv=$(cat "$d/server2.out")
echo "# after the flood: client: $cli"
echo "# after the flood: server: $srv"
out=$(agree after "$cli" "$srv" "$HEX_A" "$HEX_B") || exit 1
echo "# connection after the flood: $out"
[ "$out" != failed ] || tc_fail "the connection after the flood failed"

sleep 0.3
kill "$dump"; wait "$dump" 2>/dev/null
! grep -qaF "$MARK_B" "$d/cap.pcap" || [ "$out" = plain ] || tc_fail "B's data went out in clear"
echo "PASS: divert_flood"
