#!/bin/bash
# test_many.sh - one process holds more encrypted connections than Linux
# lets it have memory mappings (issue 13 item 5), and few mappings.
#
# Each connection's shared region used to be a memory mapping of its own,
# and a process may have vm.max_map_count of them (65,530 by default): a
# shimmed server stopped near 65,000 connections. Now a process that holds
# many connections groups their regions, 64 to a mapping.
#
# many.c, both ends under tcpcrypt-run: the client opens MANY_N (18,000)
# connections to the server over 2 ports, each one a request byte and its
# answer, and both hold them all. Asserts:
#  1. the client connected all of them, every one encrypted (session ID),
#     and the server answered all, every one encrypted;
#  2. each process has far fewer mappings than connections: at most
#     MANY_N / 4 (before: one per connection, 18,000 and more).
# MANY_N stays under the hard limit of open files, which a root without
# CAP_SYS_RESOURCE (this CI) cannot raise: 20,000 here. The mappings it
# shows extrapolate: 1,024 connections with a mapping of their own, then
# one mapping per 64 (100,000 connections: about 2,600 mappings).
# Then (churn) regions freed, handed out again and shared with a fork
# child, every region in a chunk (TCPCRYPT_OWN_MAPPINGS=0): 2,000
# connections; every other one closed and as many opened again (in the
# freed slots); a fork child makes an exchange on each it inherits; the
# parent opens 500 more after the fork, then makes an exchange on all
# 2,500: every exchange intact and encrypted, and few mappings.
# About 30 s.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_BUILDDIR/tests/shim/many
N=${MANY_N:-18000}
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$PROG" ] || tc_fail "many not built at $PROG"
tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
lim=$((N + 500))
[ "$lim" -le "$(ulimit -Hn)" ] || tc_fail "MANY_N=$N needs $lim open files, the hard limit is $(ulimit -Hn)"
ip netns exec "$NS_A" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" ||
	tc_fail "cannot widen the client's port range"

tc_bg "$NS_B" bash -c 'ulimit -n "$0" && exec "$@"' "$lim" "$RUN" "$PROG" server 7850 2 "$N" \
	> "$T/server" 2> "$T/server.err"
tc_wait_port "$NS_B" 7850
tc_wait_port "$NS_B" 7851
tc_bg "$NS_A" bash -c 'ulimit -n "$0" && exec "$@"' "$lim" "$RUN" "$PROG" client "$IP_B" 7850 2 "$N" \
	> "$T/client" 2> "$T/client.err"
for i in $(seq 1 600); do
	grep -q '^client:' "$T/client" && break
	sleep 0.5
done
for i in $(seq 1 60); do
	grep -q '^server:' "$T/server" && break
	grep -q 'failed at' "$T/client" && break
	sleep 0.5
done
sed 's/^/# /' "$T/client.err" "$T/client" "$T/server.err" "$T/server" >&2
line=$(grep '^client:' "$T/client") || tc_fail "the client did not finish in 300 s"
[ "$line" = "${line% failed at*}" ] || tc_fail "client: $line"
read -r _ _ c _ e _ cm <<< "$line"
[ "$c" = "$N" ] && [ "$e" = "$N" ] || tc_fail "client: $c connected, $e encrypted, expected $N"
line=$(grep '^server:' "$T/server") || tc_fail "the server did not answer all $N"
read -r _ _ a _ se _ sm <<< "$line"
[ "$a" = "$N" ] && [ "$se" = "$N" ] || tc_fail "server: $a answered, $se encrypted, expected $N"
max=$((N / 4))
[ "$cm" -le $max ] && [ "$sm" -le $max ] ||
	tc_fail "mappings: client $cm, server $sm for $N connections each (at most $max)"
tc_bg "$NS_B" "$RUN" "$PROG" server 7860 2 1000000 > "$T/churn.server" 2>&1
tc_wait_port "$NS_B" 7861
tc_run "$NS_A" env TCPCRYPT_OWN_MAPPINGS=0 timeout 120 "$RUN" "$PROG" churn "$IP_B" 7860 2 2000 \
	> "$T/churn" 2>&1
sed 's/^/# /' "$T/churn" >&2
line=$(grep '^churn:' "$T/churn")
[[ $line == "churn: ok live 2500 maps "* ]] || tc_fail "churn: ${line:-no result}"
[ "${line##* }" -le 625 ] || tc_fail "churn: ${line##* } mappings for 2500 connections"
echo "PASS: $N encrypted connections held by one process at each end; mappings: client $cm, server $sm; regions freed, reused and shared with a fork child"
