#!/usr/bin/env bash
# Every manual page renders with man(1) and groff -ww without a single
# warning, and documents the options its program really has (the --help
# output of each built program mentions no long option the page lacks).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
fail=0
pages=("$top_srcdir"/man/*.[1-8])
[ ${#pages[@]} -ge 5 ] || { echo "FAIL: expected at least 5 man pages, found ${#pages[@]}"; exit 1; }
for p in "${pages[@]}"; do
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$p" 2>&1 >/dev/null)
	if [ -n "$out" ]; then echo "FAIL: man warnings in $p:"; echo "$out"; fail=1; fi
	out=$(groff -ww -man -z "$p" 2>&1)
	if [ -n "$out" ]; then echo "FAIL: groff warnings in $p:"; echo "$out"; fail=1; fi
done
# Long options printed by --help must appear in the program's page.
check_help() {
	local prog=$1 page=$2 opt
	[ -x "$prog" ] || return 0
	for opt in $("$prog" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -q -- "$(printf '%s' "$opt" | sed 's/-/\\\\-/g')" "$page" ||
			{ echo "FAIL: $opt of $(basename "$prog") --help is not in $(basename "$page")"; fail=1; }
	done
}
check_help "$top_builddir/tools/tcpcryptd/tcpcryptd" "$top_srcdir/man/tcpcryptd.8"
check_help "$top_builddir/tools/tcnetstat/tcnetstat" "$top_srcdir/man/tcnetstat.8"
check_help "$top_builddir/tcpcrypt-run" "$top_srcdir/man/tcpcrypt-run.1"
check_help "$top_builddir/tools/tcpcrypt-test/tcpcrypt-test" "$top_srcdir/man/tcpcrypt-test.1"
check_help "$top_builddir/wireshark/tcpcrypt-decrypt" "$top_srcdir/man/tcpcrypt-decrypt.1"
[ $fail = 0 ] && echo "man pages: ${#pages[@]} pages, no warnings"
exit $fail
