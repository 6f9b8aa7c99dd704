#!/usr/bin/env bash
# A middlebox that strips ENO from non-SYN segments (nfq_mangle -m
# strip-eno in the router's FORWARD chain): A thinks ENO succeeded, B sees
# A's first ACK without ENO and falls back with reason ACK_NO_ENO; data
# still flows. A control connection on another port through the same
# router negotiates, so the router itself is not what breaks ENO.
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
[ -x "$NFQ_MANGLE" ] || tc_skip "nfq_mangle not built (libnetfilter-queue-dev missing)"
tc_netns_setup routed
tc_daemon_start
PORT=7300 CTRL=7301 Q=3
R_ACK_NO_ENO=10

ip netns exec "$NS_R" iptables -A FORWARD -p tcp --dport $PORT -j NFQUEUE --queue-num $Q --queue-bypass ||
	tc_fail "iptables NFQUEUE rule"
tc_bg "$NS_R" "$NFQ_MANGLE" -q $Q -m strip-eno > "$TC_TMP/nfq.out" 2> "$TC_TMP/nfq.err"
for i in $(seq 1 50); do grep -q '^ready$' "$TC_TMP/nfq.out" && break; sleep 0.1; done
grep -q '^ready$' "$TC_TMP/nfq.out" || tc_fail "nfq_mangle did not start: $(cat "$TC_TMP/nfq.err")"

eno_capture_start "$NS_B" "$TC_IF_B"
for p in $PORT $CTRL; do
	tc_bg "$NS_B" "$ENO_PEER" server $p > "$TC_TMP/server-$p.out"
	eval "spid_$p=$TC_LAST_PID"
	tc_wait_port "$NS_B" $p
	tc_run "$NS_A" "$ENO_PEER" client "$IP_B" $p > "$TC_TMP/client-$p.out" || tc_fail "client $p failed"
	eval "wait \$spid_$p" || tc_fail "server $p failed"
done
eno_capture_stop
cli=$(cat "$TC_TMP/client-$PORT.out") srv=$(cat "$TC_TMP/server-$PORT.out")
echo "# client: $cli"
echo "# server: $srv"
eno_expect "$cli" data ok client
eno_expect "$srv" data ok server
eno_expect "$srv" ok 0 server
eno_expect "$srv" done 1 server
eno_expect "$srv" reason $R_ACK_NO_ENO server
eno_expect "$srv" local 45040123 server
eno_expect "$srv" peer 450323 server
grep -q "stripped" "$TC_TMP/nfq.err" || tc_fail "nfq_mangle stripped nothing"
# B received A's ACK without ENO (it became NOPs)
wire=$(eno_wire "$ENO_CAP_FILE")
echo "$wire" | sed 's/^/# wire at B: /'
[ "$(echo "$wire" | awk -v p=$PORT '$2 == p && $3 == "S" {print $5}')" = 450323 ] || tc_fail "SYN lost its option"
echo "$wire" | awk -v p=$PORT '$2 == p && $3 !~ /S/ && $5 != "-"' | grep -q . && tc_fail "ENO reached B in a non-SYN segment"
# the control connection through the same router negotiates
ctl_c=$(cat "$TC_TMP/client-$CTRL.out") ctl_s=$(cat "$TC_TMP/server-$CTRL.out")
eno_expect "$ctl_c" ok 1 "control client"
eno_expect "$ctl_s" ok 1 "control server"
echo "PASS: eno_middlebox"
