#!/usr/bin/env bash
# The shim's files form layers (shim/README.md): no two of its object files
# reach each other, directly or through others. Builds the graph "object A
# uses a symbol object B defines" from the symbol tables of the shim's core
# and fails on any cycle (tsort), naming the objects in it.
set -euo pipefail
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=$top_builddir/shim/.libs
objs=$(ar t "$dir/libtcpcrypt-shim-core.a")
[ -n "$objs" ] || { echo "FAIL: no objects in $dir/libtcpcrypt-shim-core.a"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for o in $objs; do
	nm --defined-only -g "$dir/$o" | awk -v o="${o%.o}" 'NF == 3 { print $3, o }'
done | sort > "$tmp/defs"
for o in $objs; do
	nm -u "$dir/$o" | awk -v o="${o%.o}" '{ print $2, o }'
done | sort > "$tmp/uses"
# symbol user definer -> "user definer" pairs between different objects
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3 }' | sort -u > "$tmp/edges"
n=$(wc -l < "$tmp/edges")
[ "$n" -gt 50 ] || { echo "FAIL: only $n edges between the shim's objects: the check sees nothing"; exit 1; }
if ! tsort "$tmp/edges" > /dev/null 2> "$tmp/loops"; then
	echo "FAIL: the shim's files call each other in a cycle:"
	grep -v "input contains a loop" "$tmp/loops" | sed 's/^tsort: /  /'
	exit 1
fi
echo "PASS: $(echo "$objs" | wc -w) objects, $n dependencies between them, no cycle"
