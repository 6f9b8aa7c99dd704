#!/usr/bin/env bash
# Fallback to plain TCP: server not opted in, client not opted in, neither,
# mandatory app-aware server with a=0 client and the reverse, no common TEP,
# role clash, an offer too big for the SYN, TFO data in the SYN. No ENO on the
# wire where there must be none, the right reason on both ends, data flows.
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
tc_netns_setup
tc_daemon_start

ENOENT=2
R_PEER_NO_ENO=3 R_NO_COMMON_TEP=7 R_ROLE_CLASH=8 R_APP_AWARE=9 R_ACK_NO_ENO=10
R_NO_SPACE=11 R_SYN_DATA=12

# run_case PORT "server args" "client args": sets $cli and $srv
run_case() {
	local port=$1
	tc_bg "$NS_B" "$ENO_PEER" server "$port" $2 > "$TC_TMP/server-$port.out"
	local spid=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	cli=$(tc_run "$NS_A" "$ENO_PEER" client "$IP_B" "$port" $3) || tc_fail "client failed ($port): $cli"
	wait "$spid" || tc_fail "server failed ($port)"
	srv=$(cat "$TC_TMP/server-$port.out")
	echo "# $port client: $cli"
	echo "# $port server: $srv"
	eno_expect "$cli" data ok "client $port"
	eno_expect "$srv" data ok "server $port"
	eno_expect "$cli" ok 0 "client $port"
	eno_expect "$srv" ok 0 "server $port"
}

eno_capture_start "$NS_A" "$TC_IF_A"

# 1. server not opted in
run_case 7201 --no-opt-in ""
eno_expect "$cli" get 0 client; eno_expect "$cli" done 1 client
eno_expect "$cli" reason $R_PEER_NO_ENO client
eno_expect "$cli" local 450323 client; eno_expect "$cli" peer - client
eno_expect "$srv" get $ENOENT server

# 2. client not opted in
run_case 7202 "" --no-opt-in
eno_expect "$cli" get $ENOENT client
eno_expect "$srv" get 0 server; eno_expect "$srv" done 1 server; eno_expect "$srv" roleB 1 server
eno_expect "$srv" reason $R_PEER_NO_ENO server
eno_expect "$srv" local - server; eno_expect "$srv" peer - server

# 3. neither
run_case 7203 --no-opt-in --no-opt-in
eno_expect "$cli" get $ENOENT client; eno_expect "$srv" get $ENOENT server

# 4. mandatory app-aware server (a=1), client a=0
run_case 7204 "--mandatory --content 0323" ""
eno_expect "$srv" reason $R_APP_AWARE server; eno_expect "$srv" local - server
eno_expect "$srv" peer 450323 server
eno_expect "$cli" reason $R_PEER_NO_ENO client

# 5. no TEP in common
run_case 7205 "" "--content 24"
eno_expect "$srv" reason $R_NO_COMMON_TEP server; eno_expect "$srv" peer 450324 server
eno_expect "$cli" reason $R_PEER_NO_ENO client

# 6. mandatory app-aware client (a=1) and a server with a=0: B answers
# ENO, A refuses it and sends no 45 02, so B falls back too
run_case 7206 "" "--mandatory --content 0223"
eno_expect "$cli" reason $R_APP_AWARE client; eno_expect "$cli" peer 45040123 client
eno_expect "$srv" reason $R_ACK_NO_ENO server; eno_expect "$srv" local 45040123 server

# 7. a client that claims b=1 (role clash)
run_case 7207 "" "--content 0123"
eno_expect "$srv" reason $R_ROLE_CLASH server; eno_expect "$srv" local - server

# 8. an offer too big for the SYN's option space: no ENO at all, no malformed SYN
big=23$(printf '%02x' $(seq 33 67))
run_case 7208 "" "--content $big"
eno_expect "$cli" reason $R_NO_SPACE client; eno_expect "$cli" local - client
eno_expect "$srv" reason $R_PEER_NO_ENO server

# 9. TCP Fast Open data in the SYN: tcpcrypt defines no SYN data, so no ENO
ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_fastopen=5
run_case 7209 "" "--tfo"
eno_expect "$cli" reason $R_SYN_DATA client
eno_expect "$srv" reason $R_PEER_NO_ENO server

eno_capture_stop
wire=$(eno_wire "$ENO_CAP_FILE")
echo "$wire" | sed 's/^/# wire: /'
w() { echo "$wire" | awk -v p="$1" '$1 == p || $2 == p'; }
# ENO appears only in the SYNs of opted-in clients; never in a SYN-ACK or later
for p in 7201 7204 7205; do
	[ "$(w $p | awk '$3 == "S" {print $5}')" != - ] || tc_fail "$p: SYN without ENO"
done
[ "$(w 7205 | awk '$3 == "S" {print $5}')" = 450324 ] || tc_fail "7205: SYN option"
for p in 7202 7203 7208 7209; do
	[ "$(w $p | awk '$3 == "S" {print $5}')" = - ] || tc_fail "$p: ENO in the SYN of a plain client"
done
[ "$(w 7209 | awk '$3 == "S" {print $4}')" = 5 ] || tc_fail "7209: the SYN had no data"
[ "$(w 7206 | awk '$3 == "SA" {print $5}')" = 45040123 ] || tc_fail "7206: SYN-ACK option"
for p in 7201 7202 7203 7204 7205 7206 7207 7208 7209; do
	[ "$(w $p | wc -l)" -ge 6 ] || tc_fail "$p: too few segments captured"
	w $p | awk '$3 != "S" && $3 != "SA" && $5 != "-"' | grep -q . && tc_fail "$p: ENO outside the SYN: $(w $p)"
	if [ $p != 7206 ] && w $p | awk '$3 == "SA" && $5 != "-"' | grep -q .; then
		tc_fail "$p: ENO in the SYN-ACK"
	fi
done
echo "PASS: eno_fallback"
