#!/usr/bin/env bash
# Connection setup cost of TCP-ENO: sequential connect/accept/close over a
# veth between two namespaces, plain and opted-in interleaved in one run
# (both with tcpcryptd's programs attached to the cgroup), plus a plain
# baseline before the daemon starts. Prints figures and differences; it
# never fails on timing.
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

# baseline: no programs attached at all
tc_bg "$NS_B" "$B" server 7700 "$TOTAL" > "$TC_TMP/base-s.out"
BS=$TC_LAST_PID
tc_wait_port "$NS_B" 7700
tc_run "$NS_A" "$B" client "$IP_B" 7700 0 "$CONNS" "$REPS" > "$TC_TMP/base-c.out" || { cat "$TC_TMP/base-c.out"; tc_fail "baseline client"; }
wait "$BS"

tc_daemon_start
tc_bg "$NS_B" "$B" server 7701 "$TOTAL" > "$TC_TMP/plain-s.out"
P=$TC_LAST_PID
tc_bg "$NS_B" "$B" server 7702 "$TOTAL" --opt-in > "$TC_TMP/optin-s.out"
O=$TC_LAST_PID
tc_wait_port "$NS_B" 7701
tc_wait_port "$NS_B" 7702
tc_run "$NS_A" "$B" client "$IP_B" 7701 7702 "$CONNS" "$REPS" > "$TC_TMP/run-c.out" || tc_fail "client"
wait "$P" "$O"

f() { awk -v m="$2" -v k="$3" '$0 ~ m { for (i = 1; i <= NF; i++) if ($i ~ "^" k "=") { sub("^" k "=", "", $i); print $i } }' "$1" | head -1; }
echo "bench_connect: $CONNS connections x $REPS rounds per mode, veth between two namespaces"
echo "no programs attached (baseline, before the daemon):"
sed 's/^/  /' "$TC_TMP/base-c.out" | grep plain
echo "programs attached, interleaved:"
sed 's/^/  /' "$TC_TMP/run-c.out" "$TC_TMP/plain-s.out" "$TC_TMP/optin-s.out"
p50p=$(f "$TC_TMP/run-c.out" mode=plain p50_us) p50o=$(f "$TC_TMP/run-c.out" mode=opt-in p50_us)
cpup=$(f "$TC_TMP/run-c.out" mode=plain cpu_us_per_conn) cpuo=$(f "$TC_TMP/run-c.out" mode=opt-in cpu_us_per_conn)
scp=$(f "$TC_TMP/plain-s.out" server cpu_us_per_conn) sco=$(f "$TC_TMP/optin-s.out" server cpu_us_per_conn)
okc=$(f "$TC_TMP/run-c.out" mode=opt-in eno_ok) oks=$(f "$TC_TMP/optin-s.out" server eno_ok)
awk -v a="$p50p" -v b="$p50o" -v c="$cpup" -v d="$cpuo" -v e="$scp" -v g="$sco" -v base="$(f "$TC_TMP/base-c.out" mode=plain p50_us)" 'BEGIN {
	printf "median latency: plain %.1f us, opt-in %.1f us, difference %+.1f us (ratio %.2f); no-programs baseline %.1f us\n", a, b, b - a, b / a, base
	printf "CPU per connection (client + server): plain %.1f us, opt-in %.1f us, difference %+.1f us (ratio %.2f)\n", c + e, d + g, (d + g) - (c + e), (d + g) / (c + e)
}'
echo "latency difference per round (opt-in minus plain, medians of each round): $(grep paired_rounds "$TC_TMP/run-c.out" | sed 's/^client //')"
echo "negotiated: client $okc / $TOTAL, server $oks / $TOTAL"
