#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c harness with libFuzzer + ASan + UBSan
# against the engine sources (libtcpcrypt/*.c except api.c), plus what its
# "fuzz-extra:" comment line names (sources, -Idir and -l flags, paths from
# the top of the source tree), and runs each for FUZZ_SECONDS (default 5;
# `make check` asks for 30, `make fuzz-long` for 3600), seeded from
# tests/fuzz/corpus/<name>/ (copied to a temporary directory: the source
# tree is never written). Fails on any crash, leak or sanitizer report.
#
# Environment: FUZZ_CC (clang), FUZZ_SECONDS, FUZZ_ONLY (names, e.g.
# "inherit settings": only these harnesses), top_srcdir, top_builddir
# (set by `make check`; defaults: this script's tree, the current dir).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
FUZZ_CC=${FUZZ_CC:-clang}
FUZZ_SECONDS=${FUZZ_SECONDS:-5}
out="$top_builddir/tests/fuzz"

if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
	echo "run-fuzz: $FUZZ_CC not found; skipping"
	exit 77
fi
mkdir -p "$out"

srcs=()
for f in "$top_srcdir"/libtcpcrypt/*.c; do
	[ "$(basename "$f")" = api.c ] || srcs+=("$f")
done
# shellcheck disable=SC2207
sodium=($(pkg-config --cflags --libs libsodium libcrypto))

work=$(mktemp -d "${TMPDIR:-/tmp}/tcpcrypt-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

status=0
for h in "$top_srcdir"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	short=${name#fuzz_}
	bin="$out/$name"
	if [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $short "* ]]; then
		continue
	fi
	extra=()
	for w in $(sed -n 's|^/\* fuzz-extra: \(.*\) \*/$|\1|p' "$h"); do
		case $w in
		-I*) extra+=("-I$top_srcdir/${w#-I}") ;;
		-l*) extra+=("$w") ;;
		*) extra+=("$top_srcdir/$w") ;;
		esac
	done
	echo "run-fuzz: building $name"
	if ! "$FUZZ_CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I"$top_srcdir/include" -I"$top_srcdir/libtcpcrypt" -I"$top_builddir" \
		-o "$bin" "$h" "${srcs[@]}" "${extra[@]}" "${sodium[@]}"; then
		echo "run-fuzz: FAIL: $name does not build"
		status=1
		continue
	fi
	corpus="$work/$short"
	mkdir -p "$corpus"
	if [ -d "$top_srcdir/tests/fuzz/corpus/$short" ]; then
		cp -r "$top_srcdir/tests/fuzz/corpus/$short/." "$corpus/"
	fi
	echo "run-fuzz: running $name for ${FUZZ_SECONDS}s"
	if ! ( cd "$work" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=2048 \
		-print_final_stats=1 "$corpus" ) >"$work/$name.log" 2>&1; then
		echo "run-fuzz: FAIL: $name crashed:"
		tail -60 "$work/$name.log"
		# keep the reproducer next to the binary
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$out/" 2>/dev/null || true
		status=1
	else
		grep -E '^stat::number_of_executed_units|^Done' "$work/$name.log" | sed "s/^/run-fuzz: $name: /"
	fi
done
exit $status
