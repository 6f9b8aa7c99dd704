#!/usr/bin/env bash
# check-skips.sh BUILD_TESTS_DIR... - after `make check` (and the other
# stages of run-all.sh), lists every skip: whole tests (":test-result: SKIP"
# in a .trs file, or a "SKIP: NAME" line in a file named *.skips) and parts
# of tests ("SKIP-PART: TEST: PART: reason" lines in the .log files). Prints
# them and the accepted list (tests/skip-allowed), and exits 1 if any skip
# is not on the list with its condition holding on this host.
set -u
here=$(cd "$(dirname "$0")" && pwd)
allowed=${SKIP_ALLOWED:-$here/skip-allowed}

# when_holds WHEN: 0 if the condition of an entry holds on this host.
when_holds() {
	case $1 in
	cpu-without-aes) ! { grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo; } ;;
	host-tcpcryptd) [ -S /run/tcpcrypt/control ] ;;
	test-proves-it) true ;;
	*) echo "check-skips: unknown condition '$1' in $allowed" >&2; return 1 ;;
	esac
}

# The skips: lines "ID<TAB>reason" (ID: TEST or TEST:PART).
collect() {
	local d f name
	for d in "$@"; do
		[ -d "$d" ] || continue
		while IFS= read -r f; do
			name=${f#"$d"/}; name=${name%.trs}
			[ -f "$here/$name.sh" ] && name=$name.sh     # make check's name
			printf '%s\t%s\n' "$name" "$(grep -h -m1 '^SKIP' "${f%.trs}.log" 2> /dev/null | cut -c1-200)"
		done < <(grep -rl --include='*.trs' '^:test-result: SKIP' "$d" | sort)
		grep -rh --include='*.log' '^SKIP-PART: ' "$d" |
			sed -E 's/^SKIP-PART: ([^:]+): ([^:]+): (.*)$/\1:\2\t\3/'
		grep -rh --include='*.skips' '^SKIP: ' "$d" | sed -E 's/^SKIP: ([^ ]+) ?(.*)$/\1\t\2/'
	done | sort -u
}

skips=$(collect "$@")
bad=0
echo "==== skips ===="
if [ -z "$skips" ]; then
	echo "(none)"
else
	while IFS=$'\t' read -r id reason; do
		ok= listed=
		while read -r aid when _; do
			[ "$aid" = "$id" ] || continue
			listed="$listed $when"
			when_holds "$when" && ok=$when
		done < <(grep -Ev '^[[:space:]]*(#|$)' "$allowed")
		if [ -n "$ok" ]; then
			echo "SKIP (allowed: $ok) $id: $reason"
		elif [ -n "$listed" ]; then
			echo "SKIP (NOT ALLOWED: listed, but$listed does not hold on this host) $id: $reason"
			bad=1
		else
			echo "SKIP (NOT ALLOWED: not on the list) $id: $reason"
			bad=1
		fi
	done <<< "$skips"
fi
echo "==== accepted skips (tests/skip-allowed: TEST[:PART] WHEN REASON) ===="
grep -Ev '^[[:space:]]*(#|$)' "$allowed" | while read -r aid when reason; do
	h=no; when_holds "$when" 2> /dev/null && h=yes
	printf '%-48s %-16s holds here: %-3s  %s\n' "$aid" "$when" "$h" "$reason"
done
if [ $bad != 0 ]; then
	echo "FAIL: skips not on tests/skip-allowed (or whose condition does not hold on this host): a test that did not run is not a pass"
	exit 1
fi
exit 0
