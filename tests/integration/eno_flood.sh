#!/usr/bin/env bash
# B loses its ENO state for a connection between its SYN-ACK and A's ACK
# (issue 13: a flood of spoofed ENO SYNs evicts the connection's entry in
# the LRU map tc_syn). A has negotiated on the SYN-ACK; B must then abort
# the connection, never run it plain (a split: A encrypts, B reads Init1 as
# data and answers in clear).
#
# Deterministic: A's non-SYN segments to the port are held (iptables in A)
# from its SYN on, so B stays between SYN-ACK and ACK; the test checks that
# B's tc_syn holds the connection's entry, floods B with spoofed ENO SYNs
# (eno_synflood, from A, sources in 10.200.240.0/20) until the entry is
# gone, then lets A's segments through. The bound, 280,000 SYNs (35,000 a
# round), is above the map's 65,536 entries because its LRU gives an entry
# that was looked up (the SYN-ACK's write, retransmits) a second chance:
# here 140,000 to 175,000 SYNs evict it.
# Cases: B answers the flood with SYN cookies (tcp_syncookies=2 from the
# flood on: A's SYN has a request sock; or from the start: A's SYN-ACK is
# a cookie too), and in normal mode (tcp_syncookies=0, a backlog that
# holds the whole flood: a request sock each). In each, a plain client (no tcpcrypt-run) held the same way
# must still get a plain, working connection (its entry is evicted too).
# Asserted: never split. B's application never receives Init1 bytes, and
# A's never receives B's bytes in clear; each end either has the same
# session ID and the other's data, or the connection failed at both ends;
# with the entry gone it must fail (counter state_lost), and B's data
# never appears on the wire.
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_fail "python3 missing"
command -v bpftool >/dev/null || tc_fail "bpftool missing (scripts/install-deps.sh)"
command -v iptables >/dev/null || tc_fail "iptables missing (scripts/install-deps.sh)"
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
FLOOD=$TC_TOP_BUILDDIR/tests/integration/eno_synflood
PEER=$TC_TOP_SRCDIR/tests/integration/eno_split_peer.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$FLOOD" ] || tc_fail "eno_synflood not built at $FLOOD"
SPOOF_NET=10.200.240.0

tc_netns_setup
tc_daemon_start
# B has a route to the spoofed sources (so it builds its SYN-ACKs, ENO
# entries and all), but drops what it sends them: less load on both hosts
# (2 cores), and a request sock whose SYN-ACK retransmit fails is dropped
# at once, so that the flood's request socks do not pile up in normal mode
ip -n "$NS_B" route add "$SPOOF_NET/20" via "$IP_A" || tc_fail "route"
ip netns exec "$NS_B" iptables -A OUTPUT -d "$SPOOF_NET/20" -j DROP || tc_fail "iptables"

# key_hex LPORT RPORT: B's tc_syn key (struct tc_tuple) for $IP_B:LPORT <- $IP_A:RPORT
key_hex() {
	local ip
	printf '02 00 %02x %02x %02x %02x 00 00' $(($1 & 255)) $(($1 >> 8)) $(($2 & 255)) $(($2 >> 8))
	for ip in "$IP_B" "$IP_A"; do
		printf ' %02x' ${ip//./ }
		printf ' 00%.0s' $(seq 12)
	done
}

# has_entry LPORT RPORT: does B's tc_syn hold that connection?
has_entry() {
	bpftool map lookup pinned "$TC_PIN_DIR/tc_syn" key hex $(key_hex "$1" "$2") >/dev/null 2>&1
}

# client_port PORT: the local port of A's connection to B:PORT (when one)
client_port() {
	ip netns exec "$NS_A" ss -Htn state established "dport = :$1" | awk '{split($3, a, ":"); print a[2]; exit}'
}

# case_ NAME PORT SYNCOOKIES_AT_SYN SYNCOOKIES_AT_FLOOD BACKLOG
case_() {
	local name=$1 port=$2 d=$TC_TMP/$1 i cport pport sent=0 n lost0 lost1
	mkdir -p "$d"
	ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_syncookies="$3" net.core.somaxconn=2000000 \
		net.ipv4.tcp_max_syn_backlog=2000000 || tc_fail "$name: sysctl"
	MARK_A=client-$(head -c 8 /dev/urandom | xxd -p) MARK_B=server-$(head -c 8 /dev/urandom | xxd -p)
	MARK_P=plain-$(head -c 8 /dev/urandom | xxd -p)
	HEX_A=$(printf '%s\n' "$MARK_A" | xxd -p | tr -d '\n')
	HEX_B=$(printf '%s\n' "$MARK_B" | xxd -p | tr -d '\n')
	HEX_P=$(printf '%s\n' "$MARK_P" | xxd -p | tr -d '\n')
	lost0=$(eno_counter state_lost); lost0=${lost0:-0}

	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$d/cap.pcap" \
		"tcp port $port and host $IP_A" 2> "$d/tcpdump.err" &
	TC_PIDS+=($!)
	local dump=$!
	for i in $(seq 1 100); do grep -qs 'listening on' "$d/tcpdump.err" && break; sleep 0.05; done

	# B: the tcpcrypt server, and a second one, plain's partner, on port+1
	tc_bg "$NS_B" "$RUN" python3 "$PEER" server "$port" "$5" "$MARK_B" > "$d/server.out" 2> "$d/server.err"
	local spid=$TC_LAST_PID
	tc_bg "$NS_B" "$RUN" python3 "$PEER" server $((port + 1)) "$5" "$MARK_B" > "$d/pserver.out" 2> "$d/pserver.err"
	local ppid=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"; tc_wait_port "$NS_B" $((port + 1))

	# hold A's segments after the SYN (the first ACK, Init1 and all)
	for p in "$port" $((port + 1)); do
		ip netns exec "$NS_A" iptables -A OUTPUT -p tcp -d "$IP_B" --dport "$p" ! --syn -j DROP ||
			tc_fail "$name: iptables"
	done
	tc_bg "$NS_A" timeout 90 "$RUN" python3 "$PEER" client "$IP_B" "$port" "$MARK_A" > "$d/client.out" 2> "$d/client.err"
	local cpid=$TC_LAST_PID
	tc_bg "$NS_A" timeout 90 python3 "$PEER" client "$IP_B" $((port + 1)) "$MARK_P" > "$d/plain.out" 2> "$d/plain.err"
	local plpid=$TC_LAST_PID
	for i in $(seq 1 100); do
		cport=$(client_port "$port"); pport=$(client_port $((port + 1)))
		[ -n "$cport" ] && [ -n "$pport" ] && break
		sleep 0.05
	done
	[ -n "$cport" ] && [ -n "$pport" ] || tc_fail "$name: the clients did not connect"
	has_entry "$port" "$cport" || tc_fail "$name: B has no tc_syn entry for the connection before the flood"
	# (a plain SYN answered by a cookie leaves no entry, by design)
	[ "$3" = 2 ] || has_entry $((port + 1)) "$pport" ||
		tc_fail "$name: B has no tc_syn entry for the plain connection before the flood"
	ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_syncookies="$4" || tc_fail "$name: sysctl"

	# the flood, until B's entry for the connection is gone (bounded)
	while has_entry "$port" "$cport"; do
		[ "$sent" -lt 280000 ] || tc_fail "$name: $sent spoofed SYNs did not evict the connection's entry"
		n=$(ip netns exec "$NS_A" "$FLOOD" "$IP_B" "$port" "$SPOOF_NET" "$sent" 35000) ||
			tc_fail "$name: eno_synflood failed ($n)"
		sent=$((sent + n))
	done
	echo "# $name: entry evicted after $sent spoofed SYNs (synack_eno=$(eno_counter synack_eno))"

	# let A's segments through: A retransmits its ACK / Init1 / data
	for p in "$port" $((port + 1)); do
		ip netns exec "$NS_A" iptables -D OUTPUT -p tcp -d "$IP_B" --dport "$p" ! --syn -j DROP
	done
	wait "$cpid"; wait "$spid"; wait "$plpid"; wait "$ppid"
	sleep 0.3
	kill "$dump"; wait "$dump" 2>/dev/null
	cli=$(cat "$d/client.out") srv=$(cat "$d/server.out") pcli=$(cat "$d/plain.out") psrv=$(cat "$d/pserver.out")
	echo "# $name client: $cli"
	echo "# $name server: $srv"
	echo "# $name plain client: $pcli / server: $psrv"
	[ -n "$cli" ] && [ -n "$srv" ] || { cat "$d"/*.err >&2; tc_fail "$name: a peer printed nothing"; }

	# never split
	local crecv srecv csid ssid
	crecv=$(eno_field "$cli" recv) srecv=$(eno_field "$srv" recv)
	csid=$(eno_field "$cli" sessid) ssid=$(eno_field "$srv" sessid)
	[[ $srecv == 15101a0e* ]] &&
		tc_fail "$name: SPLIT: B's application received A's Init1 as data ($srecv)"
	[ "$srecv" = - ] || [ "$srecv" = "$HEX_A" ] ||
		tc_fail "$name: B's application received bytes A's did not send: $srecv"
	[ "$crecv" = - ] || [ "$crecv" = "$HEX_B" ] ||
		tc_fail "$name: A's application received bytes B's did not send: $crecv"
	if [ "$srecv" = "$HEX_A" ] || [ "$crecv" = "$HEX_B" ]; then
		[ "$srecv" = "$HEX_A" ] && [ "$crecv" = "$HEX_B" ] && [ "$csid" != - ] && [ "$csid" = "$ssid" ] ||
			tc_fail "$name: SPLIT: data flowed but the ends disagree (session IDs $csid / $ssid)"
	fi
	! grep -qaF "$MARK_B" "$d/cap.pcap" || tc_fail "$name: SPLIT: B's data went out in clear"
	! grep -qaF "$MARK_A" "$d/cap.pcap" || tc_fail "$name: A's data went out in clear"
	# with the entry gone, B cannot have negotiated: the connection failed
	[ "$srecv" = - ] && [ "$crecv" = - ] ||
		tc_fail "$name: B negotiated without its state?"
	[ "$(eno_field "$cli" err)" != - ] || tc_fail "$name: A's application saw no error"
	lost1=$(eno_counter state_lost)
	[ "${lost1:-0}" -gt "$lost0" ] || tc_fail "$name: counter state_lost did not move (${lost1:-none})"

	# the plain client, whose entry was lost too, stays plain and works
	[ "$(eno_field "$pcli" recv)" = "$HEX_B" ] && [ "$(eno_field "$psrv" recv)" = "$HEX_P" ] ||
		tc_fail "$name: the plain connection failed"
	[ "$(eno_field "$psrv" sessid)" = - ] || tc_fail "$name: the plain connection has a session ID"
}

case_ cookies 7950 1 2 16          # A's SYN: a request sock; the flood: cookies
case_ allcookies 7955 2 2 16       # A's SYN answered by a cookie too
case_ normal 7960 0 0 2000000      # no cookies: every SYN a request sock
echo "PASS: eno_flood"
