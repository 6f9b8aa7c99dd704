#!/usr/bin/env bash
# A listener whose offer the kernel programs lost (tc_listen emptied: what
# a daemon upgraded across a change of the map's layout starts with, or
# the map's LRU dropping it) is opted in again by the shim: the lost
# offer makes the listener's getsockopt answer ENOENT, and the shim's
# renewal (at the next plain accept, or once a second) sets it again.
# Until then connections are plain at both ends (no split).
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v bpftool >/dev/null || tc_fail "bpftool missing (scripts/install-deps.sh)"
command -v curl >/dev/null || tc_fail "curl missing (scripts/install-deps.sh)"
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
TCT=$TC_TOP_BUILDDIR/tools/tcpcrypt-test/tcpcrypt-test
[ -x "$RUN" ] && [ -x "$TCT" ] || tc_fail "tcpcrypt-run or tcpcrypt-test not built"
tc_netns_setup
tc_daemon_start
MAP=$TC_PIN_DIR/tc_listen

# the test page under the shim: one line per request, encrypted=yes|no
tc_bg "$NS_B" "$TCT" --serve 7996
tc_wait_port "$NS_B" 7996
get() { tc_run "$NS_A" timeout 10 "$RUN" curl -s "http://$IP_B:7996/?plain"; }

r=$(get); echo "# before: $r"
[[ $r == *" encrypted=yes "* ]] || tc_fail "not encrypted before: $r"

# empty tc_listen (the listener stays a listener, with its opt-in in tc_sk)
n=0
for k in $(bpftool -j map dump pinned "$MAP" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print(",".join(e["key"]))'); do
	bpftool map delete pinned "$MAP" key ${k//,/ } || tc_fail "bpftool map delete"
	n=$((n + 1))
done
[ "$n" -ge 1 ] || tc_fail "no entry in tc_listen for the listener"
[ "$(bpftool -j map dump pinned "$MAP")" = "[]" ] || tc_fail "tc_listen not empty"

# at most one plain connection, then encrypted again (renewal within 2 s)
plain=0 ok=
for i in $(seq 1 8); do
	r=$(get); echo "# after $i: $r"
	case $r in
	*" encrypted=yes "*) ok=1; break ;;
	*" encrypted=no "*) plain=$((plain + 1)) ;;
	*) tc_fail "no answer: $r" ;;
	esac
	sleep 0.5
done
[ -n "$ok" ] || tc_fail "the listener was not opted in again"
[ "$plain" -le 4 ] || tc_fail "$plain plain connections before the renewal"
[ "$(bpftool -j map dump pinned "$MAP")" != "[]" ] || tc_fail "tc_listen still empty"
echo "PASS: eno_listen_lost"
