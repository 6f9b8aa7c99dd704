#!/usr/bin/env bash
# test_check_skips.sh - tests/check-skips.sh, the accounting of skips that
# run-all.sh ends with, on made-up build trees (no root, no build needed):
#  1. no skip at all: exit 0;
#  2. a whole test skipped (.trs SKIP) that the list allows, its condition
#     holding: exit 0, and the skip is printed with its reason;
#  3. the same test with a condition that does not hold here: exit 1;
#  4. a test skipped that is not on the list: exit 1;
#  5. a SKIP-PART line in a passing test's log: exit 1 unless listed as
#     TEST:PART; a SKIP line of a *.skips file (valgrind stage) likewise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
CS=$here/check-skips.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
tree() { rm -rf "$T/b"; mkdir -p "$T/b/unit" "$T/b/shim"; }
trs() { printf ':test-result: %s\n' "$2" > "$T/b/$1.trs"; echo "${3:-}" > "$T/b/$1.log"; }
list() { printf '%s\n' "# test list" "$@" > "$T/allowed"; }
run() { SKIP_ALLOWED=$T/allowed bash "$CS" "$T/b" > "$T/out" 2>&1; }

tree; trs unit/a PASS; list "unit/b test-proves-it reason b"
run || { cat "$T/out"; fail "1: no skip, exit $?"; }

trs unit/b SKIP "SKIP: cannot here"
run || { cat "$T/out"; fail "2: allowed skip refused"; }
grep -q '^SKIP (allowed: test-proves-it) unit/b: SKIP: cannot here' "$T/out" || { cat "$T/out"; fail "2: skip not printed"; }
grep -q '^unit/b .*test-proves-it' "$T/out" || { cat "$T/out"; fail "2: the list is not printed"; }

# the host's own tcpcryptd: a condition that does not hold on a test host
if [ ! -S /run/tcpcrypt/control ]; then
	list "unit/b host-tcpcryptd reason b"
	run && { cat "$T/out"; fail "3: a skip whose condition does not hold was accepted"; }
	grep -q 'NOT ALLOWED: listed, but host-tcpcryptd does not hold' "$T/out" || { cat "$T/out"; fail "3: not said"; }
fi

list "unit/c test-proves-it reason c"
run && { cat "$T/out"; fail "4: an unlisted skip was accepted"; }
grep -q 'NOT ALLOWED: not on the list' "$T/out" || { cat "$T/out"; fail "4: not said"; }

tree; trs shim/test_x PASS "SKIP-PART: shim/test_x.sh: partname: why not"
list "unit/c test-proves-it reason c"
run && { cat "$T/out"; fail "5: an unlisted part skip was accepted"; }
grep -q 'shim/test_x.sh:partname: why not' "$T/out" || { cat "$T/out"; fail "5: part skip not printed"; }
list "shim/test_x.sh:partname test-proves-it reason"
run || { cat "$T/out"; fail "5: a listed part skip was refused"; }

tree; echo "SKIP: unit/v (under valgrind)" > "$T/b/valgrind.skips"; list
run && { cat "$T/out"; fail "5: an unlisted valgrind skip was accepted"; }
list "unit/v test-proves-it reason v"
run || { cat "$T/out"; fail "5: a listed valgrind skip was refused"; }
echo "PASS: check-skips.sh accepts only listed skips whose condition holds, whole or part"
