#!/usr/bin/env bash
# Every manual page renders with man(1) and groff -ww without a single
# warning, and the pages and the code agree:
#  1. every program the build installs has a page, and was built;
#  2. its page's OPTIONS are exactly the options its code parses, and the
#     environment variables the code reads are documented, those the pages
#     document exist (tests/man_vs_code.py, from the sources);
#  3. the --help output of each program mentions no long option its page
#     lacks. A page whose program this configuration does not build (e.g.
#     configure --disable-bpf) cannot be checked against --help: that part
#     says SKIP-PART (tests/run-all.sh fails on it).
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

# The programs this configuration installs (bin/sbin PROGRAMS and SCRIPTS of
# every Makefile of the build), each with the path it is built at.
declare -A built
# (every depth: tools/ has one folder per program)
while IFS= read -r mk; do
	dir=$(dirname "$mk")
	case ${dir#"$top_builddir"} in /tests | /tests/*) continue ;; esac
	for prog in $(printf 'tc-print-var:\n\t@echo $(bin_PROGRAMS) $(sbin_PROGRAMS) $(bin_SCRIPTS) $(sbin_SCRIPTS)\n' |
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$dir" -f Makefile -f - tc-print-var 2> /dev/null); do
		built[$prog]=$dir/$prog
	done
done < <(find "$top_builddir" -name Makefile -not -path '*/.*' | sort)
[ ${#built[@]} -ge 1 ] || { echo "FAIL: no installed program found in the Makefiles of $top_builddir"; exit 1; }
for prog in "${!built[@]}"; do
	[ -x "${built[$prog]}" ] || { echo "FAIL: $prog is not built at ${built[$prog]}"; fail=1; }
done
python3 "$top_srcdir/tests/man_vs_code.py" "$top_srcdir" "${!built[@]}" || fail=1

# Long options printed by --help must appear in the program's page.
check_help() {
	local prog=$1 page=$2 opt
	for opt in $("$prog" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -q -- "$(printf '%s' "$opt" | sed 's/-/\\\\-/g')" "$page" ||
			{ echo "FAIL: $opt of $(basename "$prog") --help is not in $(basename "$page")"; fail=1; }
	done
}
helped=0
for p in "${pages[@]}"; do
	case $p in *.[18]) ;; *) continue ;; esac   # programs: sections 1 and 8
	prog=$(basename "${p%.*}")
	if [ -z "${built[$prog]:-}" ]; then
		echo "SKIP-PART: test_man.sh: help-$prog: $prog is not built in this configuration: its page is not compared with --help"
		continue
	fi
	check_help "${built[$prog]}" "$p"
	helped=$((helped + 1))
done
[ $fail = 0 ] && echo "man pages: ${#pages[@]} pages, no warnings; ${#built[@]} installed programs, each with its page; $helped compared with --help"
exit $fail
