#!/usr/bin/env bash
# What the sessions table (tcpcryptd's fallback listing on kernels that
# refuse the BPF iterator) costs a connection: bench_connect.sh run with
# the table kept and with it refused (TCPCRYPTD_TEST_REFUSE, test-only),
# alternated ROUNDS times in one run; prints the medians of the opt-in
# mode's latency and CPU per connection (client + server) and their ratio.
# Where the kernel allows the iterator, a third mode runs it instead of the
# table. Prints figures; it never fails on timing.
if [ -z "${top_builddir:-}" ] && [ -x ./bench/bench_connect ]; then top_builddir=$(cd .. && pwd); fi
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export top_builddir top_srcdir
ROUNDS=${BENCH_ROUNDS:-5}
export BENCH_CONNS=${BENCH_CONNS:-200} BENCH_REPS=${BENCH_REPS:-8}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
modes="table none"
# does the kernel allow the iterator? tcpcrypt-test's own probe says
"$top_builddir/tools/tcpcrypt-test/tcpcrypt-test" -f -v -u /nonexistent > "$tmp/probe" 2>&1
run() {
	case $1 in
	table) TCPCRYPTD_TEST_REFUSE=sessions_iter bash "$top_srcdir/tests/bench/bench_connect.sh" ;;
	none)  TCPCRYPTD_TEST_REFUSE=sessions_iter,sessions_table bash "$top_srcdir/tests/bench/bench_connect.sh" ;;
	iter)  TCPCRYPTD_TEST_REFUSE= bash "$top_srcdir/tests/bench/bench_connect.sh" ;;
	esac
}
# the iterator only where the kernel allows it
if grep "BPF iterators" "$tmp/probe" | grep -q "ok \]"; then modes="$modes iter"; fi
for r in $(seq 1 "$ROUNDS"); do
	for m in $modes; do
		run "$m" > "$tmp/$m.$r" 2>&1 || { cat "$tmp/$m.$r"; echo "bench_listing: run failed"; exit 1; }
		# opt-in median latency and CPU per connection (client + server)
		sed -n 's/^median latency: .*opt-in \([0-9.]*\) us.*/\1/p' "$tmp/$m.$r" >> "$tmp/$m.lat"
		sed -n 's/^CPU per connection.*opt-in \([0-9.]*\) us.*/\1/p' "$tmp/$m.$r" >> "$tmp/$m.cpu"
	done
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "bench_listing: $ROUNDS alternated runs of bench_connect ($BENCH_CONNS x $BENCH_REPS connections per mode and run)"
echo "kernel allows the iterator: $(case " $modes " in *" iter "*) echo yes ;; *) echo no ;; esac)"
for m in $modes; do
	printf '  %-6s opt-in median latency %6.1f us, CPU per connection %6.1f us\n' "$m" "$(med "$tmp/$m.lat")" "$(med "$tmp/$m.cpu")"
done
awk -v tl="$(med "$tmp/table.lat")" -v nl="$(med "$tmp/none.lat")" -v tc="$(med "$tmp/table.cpu")" -v nc="$(med "$tmp/none.cpu")" 'BEGIN {
	printf "sessions table vs no listing: latency %+.1f us (ratio %.3f), CPU %+.1f us per connection (ratio %.3f)\n", tl - nl, tl / nl, tc - nc, tc / nc }'
