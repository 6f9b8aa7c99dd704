#!/usr/bin/env bash
# B's divert daemon loses the state of a handshake between its SYN-ACK
# (with ENO) and A's first ACK (issue 13, item 1): B's daemon is restarted
# (its table starts empty) while A's segments after the SYN are held. A
# negotiated on the SYN-ACK and sends Init1 with 45 02; B's new daemon has
# no record of the SYN-ACK, and B's retransmitted SYN-ACK, judged by the
# new daemon, has no ENO. B must abort the connection
# (TCPCRYPT_ENO_R_STATE_LOST, counter state_lost), never run it plain:
# before the fix the segment was ignored, B ran plain and its application
# read A's Init1 as data (a split).
# Asserted: never split (B's application never gets Init1 bytes, no
# marker in clear on the wire, A's application never gets B's bytes in
# clear); the connection failed at both ends; B's daemon counted
# state_lost; a new connection afterwards is encrypted at both ends.
export TCPCRYPT_TEST_BACKEND=divert
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_fail "python3 missing"
command -v iptables >/dev/null || tc_fail "iptables missing (scripts/install-deps.sh)"
command -v tcpdump >/dev/null || tc_fail "tcpdump missing (scripts/install-deps.sh)"
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PEER=$TC_TOP_SRCDIR/tests/integration/eno_split_peer.py
TABPY=$TC_TOP_SRCDIR/tests/divert/divert_tab.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"

tc_netns_setup
tc_daemon_start
TAB=$TC_TMP/ctl-$NS_B.tab
port=7980 d=$TC_TMP/lost
mkdir -p "$d"
MARK_A=client-$(head -c 8 /dev/urandom | xxd -p) MARK_B=server-$(head -c 8 /dev/urandom | xxd -p)
HEX_A=$(printf '%s\n' "$MARK_A" | xxd -p | tr -d '\n')
HEX_B=$(printf '%s\n' "$MARK_B" | xxd -p | tr -d '\n')

client_port() {
	ip netns exec "$NS_A" ss -Htn "dport = :$1" | awk '{n = split($4, a, ":"); print a[n]; exit}'
}

ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$d/cap.pcap" \
	"tcp port $port and host $IP_A" 2> "$d/tcpdump.err" &
TC_PIDS+=($!)
dump=$!
for i in $(seq 1 100); do grep -qs 'listening on' "$d/tcpdump.err" && break; sleep 0.05; done

tc_bg "$NS_B" "$RUN" python3 "$PEER" server "$port" 16 "$MARK_B" > "$d/server.out" 2> "$d/server.err"
spid=$TC_LAST_PID
tc_wait_port "$NS_B" "$port"
ip netns exec "$NS_A" iptables -A OUTPUT -p tcp -d "$IP_B" --dport "$port" ! --syn -j DROP || tc_fail "iptables"
tc_bg "$NS_A" timeout 60 "$RUN" python3 "$PEER" client "$IP_B" "$port" "$MARK_A" > "$d/client.out" 2> "$d/client.err"
cpid=$TC_LAST_PID
for i in $(seq 1 100); do
	cport=$(client_port "$port")
	[ -n "$cport" ] && break
	sleep 0.05
done
[ -n "$cport" ] || tc_fail "the client did not connect"
e=$(python3 "$TABPY" "$TAB" "$IP_B" "$port" "$IP_A" "$cport")
[[ $e == state=5\ * ]] || tc_fail "B's table has no B_WAIT_ACK entry for the connection ($e)"

# B's daemon restarts: a clean stop, a new one (an empty table)
kill -TERM "${TC_DIVERT_PIDS[1]}"
wait "${TC_DIVERT_PIDS[1]}" 2>/dev/null
ip netns exec "$NS_D" "$TCPCRYPTD" -b divert -p 7 --netns "$NS_B" -u "$TC_TMP/ctl-$NS_B" \
	2> "$TC_TMP/tcpcryptd-$NS_B.2.log" &
TC_PIDS+=($!)
for i in $(seq 1 100); do
	[ -S "$TC_TMP/ctl-$NS_B" ] && break
	[ "$i" = 100 ] && tc_fail "B's daemon did not come back"
	sleep 0.05
done
e=$(python3 "$TABPY" "$TAB" "$IP_B" "$port" "$IP_A" "$cport")
echo "# B's daemon restarted; its entry for the connection: $e"
[ "$e" = none ] || tc_fail "B's new daemon has an entry already ($e)"
ip netns exec "$NS_A" iptables -D OUTPUT -p tcp -d "$IP_B" --dport "$port" ! --syn -j DROP
wait "$cpid"; wait "$spid"
sleep 0.3
cli=$(cat "$d/client.out") srv=$(cat "$d/server.out")
echo "# client: $cli"
echo "# server: $srv"
[ -n "$cli" ] && [ -n "$srv" ] || { cat "$d"/*.err >&2; tc_fail "a peer printed nothing"; }
crecv=$(eno_field "$cli" recv) srecv=$(eno_field "$srv" recv)
[[ $srecv == 15101a0e* ]] && tc_fail "SPLIT: B's application received A's Init1 as data ($srecv)"
[ "$srecv" = - ] || [ "$srecv" = "$HEX_A" ] || tc_fail "SPLIT: B's application received bytes A's did not send: $srecv"
[ "$crecv" = - ] || [ "$crecv" = "$HEX_B" ] || tc_fail "SPLIT: A's application received bytes B's did not send: $crecv"
kill "$dump"; wait "$dump" 2>/dev/null
! grep -qaF "$MARK_B" "$d/cap.pcap" || tc_fail "SPLIT: B's data went out in clear"
! grep -qaF "$MARK_A" "$d/cap.pcap" || tc_fail "A's data went out in clear"
[ "$srecv" = - ] && [ "$crecv" = - ] || tc_fail "B negotiated without its state?"
lost=$(echo status | socat - "UNIX-CONNECT:$TC_TMP/ctl-$NS_B" | awk '$1 == "counter" && $2 == "state_lost" {print $3}')
[ "${lost:-0}" -ge 1 ] || tc_fail "B's daemon did not count state_lost (${lost:-none})"

# a new connection: encrypted at both ends
tc_bg "$NS_B" "$RUN" python3 "$PEER" server $((port + 1)) 16 "$MARK_B" > "$d/server2.out" 2> "$d/server2.err"
spid=$TC_LAST_PID
tc_wait_port "$NS_B" $((port + 1))
tc_bg "$NS_A" timeout 60 "$RUN" python3 "$PEER" client "$IP_B" $((port + 1)) "$MARK_A" > "$d/client2.out" 2> "$d/client2.err"
cpid=$TC_LAST_PID
wait "$cpid"; wait "$spid"
cli=$(cat "$d/client2.out") srv=$(cat "$d/server2.out")
[ "$(eno_field "$cli" recv)" = "$HEX_B" ] && [ "$(eno_field "$srv" recv)" = "$HEX_A" ] &&
	[ "$(eno_field "$cli" sessid)" != - ] && [ "$(eno_field "$cli" sessid)" = "$(eno_field "$srv" sessid)" ] ||
	tc_fail "the next connection is not encrypted at both ends: $cli / $srv"
echo "PASS: divert_state_lost"
