#!/usr/bin/env bash
# Connection setup cost of TCP-ENO: sequential connect/accept/close over a
# veth between two namespaces, three modes interleaved in one run (the
# client moves itself between two cgroups): "none" (no programs attached
# to the cgroup), "plain" (tcpcryptd's programs attached, socket not opted
# in), "opt-in" (setsockopt before connect, getsockopt after, both ends).
# Prints figures and differences; it never fails on timing.
# make -C tests bench runs us from the build tree's tests/ directory
if [ -z "${top_builddir:-}" ] && [ -x ./bench/bench_connect ]; then top_builddir=$(cd .. && pwd); fi
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export top_builddir top_srcdir
source "$top_srcdir/tests/lib/netns.sh"
tc_require_root
B=$TC_TOP_BUILDDIR/tests/bench/bench_connect
CONNS=${BENCH_CONNS:-200} REPS=${BENCH_REPS:-16}
TOTAL=$((CONNS * REPS))
tc_netns_setup
tc_cgroup_setup
# a sibling cgroup where no programs run (removed at exit, before the rest)
CG_NONE=$TC_CGROUP-none
mkdir "$CG_NONE" || tc_fail "mkdir $CG_NONE"
trap 'rc=$?; rmdir "$CG_NONE" 2>/dev/null; (exit $rc); tc_cleanup' EXIT
tc_daemon_start

# servers: "none" in the program-free cgroup, the others in the test cgroup
# (a cgroup is joined before `ip netns exec`: its sysfs has no cgroup mounts)
bash -c 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" "${@:2}"' "$CG_NONE" "$NS_B" \
	"$B" server 7700 "$TOTAL" > "$TC_TMP/none-s.out" &
TC_PIDS+=($!)
N=$!
tc_bg "$NS_B" "$B" server 7701 "$TOTAL" > "$TC_TMP/plain-s.out"
P=$TC_LAST_PID
tc_bg "$NS_B" "$B" server 7702 "$TOTAL" --opt-in > "$TC_TMP/optin-s.out"
O=$TC_LAST_PID
for p in 7700 7701 7702; do tc_wait_port "$NS_B" $p; done
# the client moves itself between the cgroups through fds opened here
bash -c 'exec 8> "$0/cgroup.procs" 9> "$1/cgroup.procs"; echo $$ >&9 && exec ip netns exec "${@:2}"' \
	"$CG_NONE" "$TC_CGROUP" "$NS_A" "$B" client "$IP_B" 7700 7701 7702 "$CONNS" "$REPS" fd:8 fd:9 \
	> "$TC_TMP/run-c.out" || { cat "$TC_TMP/run-c.out"; tc_fail "client"; }
wait "$N" "$P" "$O"

f() { awk -v m="$2" -v k="$3" '$0 ~ m { for (i = 1; i <= NF; i++) if ($i ~ "^" k "=") { sub("^" k "=", "", $i); print $i } }' "$1" | head -1; }
echo "bench_connect: $CONNS connections x $REPS rounds per mode, interleaved, veth between two namespaces"
sed 's/^/  /' "$TC_TMP/run-c.out" "$TC_TMP/none-s.out" "$TC_TMP/plain-s.out" "$TC_TMP/optin-s.out"
for m in none plain opt-in; do
	eval "p50_${m//-/_}=$(f "$TC_TMP/run-c.out" "mode=$m " p50_us)"
	eval "cpu_${m//-/_}=$(f "$TC_TMP/run-c.out" "mode=$m " cpu_us_per_conn)"
done
scn=$(f "$TC_TMP/none-s.out" server cpu_us_per_conn) scp=$(f "$TC_TMP/plain-s.out" server cpu_us_per_conn)
sco=$(f "$TC_TMP/optin-s.out" server cpu_us_per_conn)
awk -v n="$p50_none" -v p="$p50_plain" -v o="$p50_opt_in" -v cn="$cpu_none" -v cp="$cpu_plain" -v co="$cpu_opt_in" \
    -v sn="$scn" -v sp="$scp" -v so="$sco" 'BEGIN {
	printf "median latency: none %.1f us, plain %.1f us (%+.1f vs none), opt-in %.1f us (%+.1f vs plain, ratio %.2f)\n", n, p, p - n, o, o - p, o / p
	printf "CPU per connection, client + server: none %.1f us, plain %.1f us (%+.1f), opt-in %.1f us (%+.1f vs plain, ratio %.2f)\n", cn + sn, cp + sp, (cp + sp) - (cn + sn), co + so, (co + so) - (cp + sp), (co + so) / (cp + sp)
}'
echo "opt-in minus plain, per round: $(grep paired_rounds "$TC_TMP/run-c.out" | sed 's/^client //')"
echo "negotiated: client $(f "$TC_TMP/run-c.out" "mode=opt-in " eno_ok) / $TOTAL, server $(f "$TC_TMP/optin-s.out" server eno_ok) / $TOTAL"
