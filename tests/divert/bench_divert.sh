#!/usr/bin/env bash
# Handshake cost of the divert backend next to the eBPF backend and plain
# TCP, in one run over a veth between two namespaces: sequential
# connections (socket .. connect .. result known), medians per mode.
#  phase 1, no divert daemon: plain, bpf (opted in via the eBPF sockopt);
#  phase 2, a divert daemon in each namespace (its rules and conntrack
#  active): plain, bpf, divert (opted in over the control socket; the
#  processes run outside the cgroup where the eBPF programs are attached).
# Rounds of the modes are interleaved. Prints figures; never fails on timing.
if [ -z "${top_builddir:-}" ] && [ -x ./divert/bench_divert ]; then top_builddir=$(cd .. && pwd); fi
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export top_builddir top_srcdir
source "$top_srcdir/tests/lib/netns.sh"
tc_require_root
B=$TC_TOP_BUILDDIR/tests/divert/bench_divert
[ -x "$B" ] || tc_fail "bench_divert not built at $B"
CONNS=${BENCH_CONNS:-200} REPS=${BENCH_REPS:-10}
tc_netns_setup
tc_daemon_start            # the eBPF backend, on $TC_CGROUP
T=$TC_TMP
PORT=7900

# one MODE: CONNS connections; latencies appended to $T/lat.PHASE.MODE
one() {
	local phase=$1 mode=$2 flag= srv
	[ "$mode" = plain ] || flag=--opt-in
	if [ "$mode" = divert ]; then
		ip netns exec "$NS_B" env TCPCRYPT_CONTROL="$T/ctl-$NS_B" "$B" server $PORT "$CONNS" $flag 2>> "$T/eno.$phase.$mode.s" &
	else
		tc_run "$NS_B" "$B" server $PORT "$CONNS" $flag 2>> "$T/eno.$phase.$mode.s" &
	fi
	srv=$!
	tc_wait_port "$NS_B" $PORT
	if [ "$mode" = divert ]; then
		ip netns exec "$NS_A" env TCPCRYPT_CONTROL="$T/ctl-$NS_A" "$B" client "$IP_B" $PORT "$CONNS" $flag
	else
		tc_run "$NS_A" "$B" client "$IP_B" $PORT "$CONNS" $flag
	fi >> "$T/lat.$phase.$mode" 2>> "$T/eno.$phase.$mode.c" || tc_fail "$phase $mode: client"
	wait $srv || tc_fail "$phase $mode: server"
	PORT=$((PORT + 1))
}
med() { sort -n "$1" | awk '{a[NR] = $1} END {printf "%.1f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
p90() { sort -n "$1" | awk '{a[NR] = $1} END {printf "%.1f", a[int(NR * 0.9)]}'; }
okc() { awk -F'[=/]' '{s += $2; n += $3} END {printf "%d/%d", s, n}' "$1"; }

for r in $(seq 1 "$REPS"); do one 1 plain; one 1 bpf; done
TCPCRYPT_TEST_BACKEND=divert tc_divert_start
for r in $(seq 1 "$REPS"); do one 2 plain; one 2 bpf; one 2 divert; done

echo "bench_divert: $CONNS connections x $REPS rounds per mode, interleaved, veth between two namespaces"
echo "  latency socket()..result known, microseconds: median (p90), ENO negotiated client / server"
for pm in 1.plain 1.bpf 2.plain 2.bpf 2.divert; do
	case $pm in 1.*) ph="no divert daemon  ";; *) ph="divert daemons up ";; esac
	e=
	[ -f "$T/eno.$pm.c" ] && grep -q eno_ok "$T/eno.$pm.c" && [ "${pm#*.}" != plain ] &&
		e="  negotiated $(okc "$T/eno.$pm.c") / $(okc "$T/eno.$pm.s")"
	printf "  %s %-7s %8s us (%s)%s\n" "$ph" "${pm#*.}" "$(med "$T/lat.$pm")" "$(p90 "$T/lat.$pm")" "$e"
done
awk -v p="$(med "$T/lat.2.plain")" -v b="$(med "$T/lat.2.bpf")" -v d="$(med "$T/lat.2.divert")" \
    -v p1="$(med "$T/lat.1.plain")" 'BEGIN {
	printf "  divert vs plain: %+.1f us (x%.2f); divert vs bpf: %+.1f us (x%.2f); divert rules cost plain TCP %+.1f us\n", d - p, d / p, d - b, d / b, p - p1
}'
