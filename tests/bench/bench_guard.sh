#!/usr/bin/env bash
# bench_guard.sh - what the eBPF guard costs bulk transfers: one connection
# sends BENCH_BULK_BYTES (default 1 GiB) under tcpcrypt-run (AES-128-GCM,
# the default), client pinned to CPU 0 and server to CPU 1, with the guard
# loaded and with it refused (TCPCRYPTD_TEST_REFUSE=guard: the shim still
# makes its grant call, which then fails with ENOENT), alternating the two
# for BENCH_REPS (default 7) runs each with a fresh daemon every run. Prints
# the medians (MB/s; the sender's and the receiver's CPU seconds per GiB),
# and the median of the ratios guard/no guard of the runs taken side by
# side (robust to the load of a shared machine drifting during the run). Reports; fails only when a case cannot run. With sysctl
# kernel.bpf_stats_enabled=1 it also logs the guard programs' run counts
# and run times (bpftool prog show).
#
# Run as root from a build tree: bash tests/bench/bench_guard.sh
if [ -z "${top_builddir:-}" ] && [ -f ./Makefile ] && [ -d ./bench ]; then top_builddir=$(cd .. && pwd); fi
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export top_builddir top_srcdir
source "$top_srcdir/tests/lib/netns.sh"
tc_require_root

REPS=${BENCH_REPS:-7}
BULK=${BENCH_BULK_BYTES:-1073741824}
NET=$top_builddir/tests/bench/bench_net
RUN=$top_builddir/tcpcrypt-run
[ -x "$NET" ] || make -s -C "$top_builddir/tests" bench/bench_net >&2 || tc_fail "cannot build bench_net"
CB=1
[ "$(nproc)" -ge 2 ] || CB=0

tc_netns_setup
log() { echo "# $*" >&2; }
kv() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" "$1" | head -1; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A MB CPU RCPU
# one CASE PORT: a daemon (guard on or refused), one bulk transfer.
one() {
	local c=$1 port=$2 out=$TC_TMP/$1.out srv
	if [ "$c" = off ]; then
		TCPCRYPTD_TEST_REFUSE=sessions_iter,guard tc_daemon_start
	else
		TCPCRYPTD_TEST_REFUSE=sessions_iter tc_daemon_start
	fi
	export TCPCRYPT_CONTROL=$TC_CONTROL
	tc_bg "$NS_B" taskset -c "$CB" "$RUN" "$NET" bulk-recv "$port" 1 > "$TC_TMP/$c.srv"
	srv=$TC_LAST_PID
	for _ in $(seq 1 100); do grep -q listening "$TC_TMP/$c.srv" && break; sleep 0.1; done
	tc_run "$NS_A" taskset -c 0 "$RUN" "$NET" bulk-send "$IP_B" "$port" "$BULK" > "$out" ||
		tc_fail "bulk $c failed"
	wait "$srv"
	RCPU[$c]="${RCPU[$c]:-} $(awk -v c="$(kv "$TC_TMP/$c.srv" cpu_s)" -v b="$BULK" 'BEGIN { printf "%.3f", c * 1073741824 / b }')"
	grep -q 'prot=aes128gcm' "$out" || tc_fail "bulk $c: not encrypted: $(cat "$out")"
	MB[$c]="${MB[$c]:-} $(kv "$out" MBps)"
	CPU[$c]="${CPU[$c]:-} $(awk -v c="$(kv "$out" cpu_s)" -v b="$BULK" 'BEGIN { printf "%.3f", c * 1073741824 / b }')"
	# with sysctl kernel.bpf_stats_enabled=1: the guard programs' run time
	if [ "$c" = on ] && [ "$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null)" = 1 ]; then
		bpftool prog show 2>/dev/null | grep -E 'name tc_guard_(setso|egres)' | sed 's/^/# stats: /' >&2
	fi
	tc_daemon_stop
	TC_DAEMON_PID=
}

port=7500
PAIRS=
for ((r = 0; r < REPS; r++)); do
	if ((r % 2)); then order="off on"; else order="on off"; fi
	for c in $order; do
		port=$((port + 1))
		one "$c" "$port"
		log "run $r $c: $(kv "$TC_TMP/$c.out" MBps) MB/s"
	done
	PAIRS="$PAIRS $(awk -v a="$(kv "$TC_TMP/on.out" MBps)" -v b="$(kv "$TC_TMP/off.out" MBps)" 'BEGIN { printf "%.3f", a / b }')"
done
on=$(echo "${MB[on]}" | median) off=$(echo "${MB[off]}" | median)
printf 'bulk (1 connection, %s bytes, AES-128-GCM), medians of %s runs:\n' "$BULK" "$REPS"
printf '  guard loaded:  %8.1f MB/s  CPU s/GiB sender %s receiver %s  (runs:%s)\n' "$on" \
	"$(echo "${CPU[on]}" | median)" "$(echo "${RCPU[on]}" | median)" "${MB[on]}"
printf '  guard refused: %8.1f MB/s  CPU s/GiB sender %s receiver %s  (runs:%s)\n' "$off" \
	"$(echo "${CPU[off]}" | median)" "$(echo "${RCPU[off]}" | median)" "${MB[off]}"
pr=$(echo "$PAIRS" | median)
awk -v p="$pr" -v l="$PAIRS" 'BEGIN { printf "  ratio guard/no guard, median of side-by-side runs: %.3f (cost %.1f%%; ratios:%s)\n", p, (1 - p) * 100, l }'
