#!/usr/bin/env bash
# ENO between two opted-in hosts over a veth: both ends negotiate, opposite
# roles, identical transcripts, and the exact option bytes on the wire:
# SYN 45 03 23, SYN-ACK 45 04 01 23 (b=1), A's first ACK 45 02, A's data
# 45 02 until B's first segment, nothing from B after the SYN-ACK.
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
tc_netns_setup
tc_daemon_start
PORT=7100

eno_capture_start "$NS_A" "$TC_IF_A"
tc_bg "$NS_B" "$ENO_PEER" server $PORT > "$TC_TMP/server.out"
SRV=$TC_LAST_PID
tc_wait_port "$NS_B" $PORT
cli=$(tc_run "$NS_A" "$ENO_PEER" client "$IP_B" $PORT) || tc_fail "client failed: $cli"
wait "$SRV" || tc_fail "server failed"
srv=$(cat "$TC_TMP/server.out")
eno_capture_stop
echo "# client: $cli"
echo "# server: $srv"

for l in "$cli" "$srv"; do
	eno_expect "$l" data ok
	eno_expect "$l" optin 0
	eno_expect "$l" get 0
	eno_expect "$l" ok 1
	eno_expect "$l" done 1
	eno_expect "$l" reason 0
	eno_expect "$l" opted 1
done
eno_expect "$cli" roleB 0 client
eno_expect "$srv" roleB 1 server
eno_expect "$cli" local 450323 client
eno_expect "$cli" peer 45040123 client
# transcript A||B is the same on both ends
[ "$(eno_field "$cli" local)$(eno_field "$cli" peer)" = \
  "$(eno_field "$srv" peer)$(eno_field "$srv" local)" ] || tc_fail "transcripts differ"

wire=$(eno_wire "$ENO_CAP_FILE")
echo "$wire" | sed 's/^/# wire: /'
# SYN and SYN-ACK carry the SYN-form options, exactly one each
[ "$(echo "$wire" | awk '$3 == "S"' | awk '{print $5}')" = 450323 ] || tc_fail "SYN option"
[ "$(echo "$wire" | awk '$3 == "SA"' | awk '{print $5}')" = 45040123 ] || tc_fail "SYN-ACK option"
# A's first non-SYN segment (the ACK of the handshake) carries 45 02
first_a=$(echo "$wire" | awk -v p=$PORT '$2 == p && $3 !~ /S/' | head -1)
[ "$(echo "$first_a" | awk '{print $5}')" = 4502 ] || tc_fail "A's first ACK: $first_a"
# B never sends ENO after its SYN-ACK
echo "$wire" | awk -v p=$PORT '$1 == p && $3 !~ /S/ && $5 != "-"' | grep -q . && tc_fail "B sent ENO after the SYN-ACK"
# A stops once it has received B's first non-SYN segment: A's FIN has none
fin_a=$(echo "$wire" | awk -v p=$PORT '$2 == p && $3 ~ /F/' | head -1)
[ -n "$fin_a" ] || tc_fail "no FIN from A captured"
[ "$(echo "$fin_a" | awk '{print $5}')" = - ] || tc_fail "A still sends ENO at its FIN: $fin_a"
echo "PASS: eno_basic"
