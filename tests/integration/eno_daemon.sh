#!/usr/bin/env bash
# tcpcryptd's lifecycle: a clean stop leaves no program, map, pin or cgroup
# attachment; a connection made while no daemon runs is plain
# (setsockopt -> ENOPROTOOPT) and works; SIGKILL leaves the programs
# working; a new daemon takes over the pinned state (a connection made
# before the crash is still listed) and replaces the programs; a second
# daemon on the same pin dir or cgroup, or below it, refuses; command-line
# errors.
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v bpftool >/dev/null || tc_skip "bpftool missing"
tc_netns_setup
ENOPROTOOPT=92

attached_ids() { bpftool cgroup show "$TC_CGROUP" 2>/dev/null | awk 'NR>1 && $1 ~ /^[0-9]+$/ {print $1}' | sort; }
map_ids() { local id; for id in "$@"; do bpftool prog show id "$id" 2>/dev/null | sed -n 's/.*map_ids \([0-9,]*\).*/\1/p' | tr , '\n'; done | sort -u; }

# everything the daemon made is gone (programs and maps are freed lazily)
expect_clean() {
	local progs=$1 maps=$2 i id left
	[ -z "$(attached_ids)" ] || tc_fail "still attached to the cgroup: $(bpftool cgroup show "$TC_CGROUP")"
	[ ! -e "$TC_PIN_DIR" ] || tc_fail "pin dir left: $(ls "$TC_PIN_DIR")"
	[ ! -e "$TC_CONTROL" ] || tc_fail "control socket left"
	for i in $(seq 1 50); do
		left=
		# the sessions iterator link (bpf_sk_storage_map over our map)
		for id in $maps; do
			bpftool link show 2>/dev/null | grep -qE "map_id $id( |$)" && left="$left link-on-map:$id"
		done
		for id in $progs; do bpftool prog show id "$id" >/dev/null 2>&1 && left="$left prog:$id"; done
		for id in $maps; do bpftool map show id "$id" >/dev/null 2>&1 && left="$left map:$id"; done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	tc_fail "left behind:$left"
}

# command line
"$TCPCRYPTD" --help | grep -q -- --pin-dir || tc_fail "--help does not list --pin-dir"
for o in --cgroup --control --verbose --syslog --version; do
	"$TCPCRYPTD" --help | grep -q -- "$o" || tc_fail "--help does not list $o"
done
"$TCPCRYPTD" -V | grep -q tcpcryptd || tc_fail "-V"
"$TCPCRYPTD" --bogus 2>/dev/null && tc_fail "unknown option accepted"
out=$("$TCPCRYPTD" --cgroup "$TC_TMP" --pin-dir "$TC_PIN_DIR" --control "$TC_CONTROL" 2>&1) &&
	tc_fail "a non-cgroup directory was accepted"
echo "$out" | grep -q "not a cgroup v2" || tc_fail "unclear message: $out"
command -v setpriv >/dev/null || tc_fail "setpriv (util-linux) missing"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TCPCRYPTD" 2>&1) && tc_fail "ran as non-root"
echo "$out" | grep -q "root" || tc_fail "unclear message: $out"

# 1. start, then a clean stop
tc_daemon_start
# the three ENO programs, and the guard's two (setsockopt, egress)
NPROGS=5
grep -q "optional feature guard .* refused" "$TC_TMP/tcpcryptd.log" && NPROGS=3
progs=$(attached_ids)
[ "$(echo "$progs" | wc -l)" = $NPROGS ] ||
	tc_fail "expected $NPROGS attached programs: $(bpftool cgroup show "$TC_CGROUP")"
maps=$(map_ids $progs)
[ -n "$maps" ] || tc_fail "no maps found"
# the listing: the iterator link, or where the kernel (or the test switch
# TCPCRYPTD_TEST_REFUSE, see eno_optional.sh) refused it, the sessions table
if grep -q "optional feature sessions_iter .* refused" "$TC_TMP/tcpcryptd.log"; then
	[ -e "$TC_PIN_DIR/tc_sessions_tab" ] || tc_fail "iterator refused and no sessions table pinned"
	echo "# listing from the sessions table (iterator refused)"
else
	bpftool link show | grep -qE "map_id ($(echo $maps | tr ' ' '|'))( |$)" || tc_fail "no sessions iterator link"
fi
ls "$TC_PIN_DIR" | grep -q tc_sockops || tc_fail "programs not pinned"
tc_daemon_stop || tc_fail "daemon exit status"
expect_clean "$progs" "$maps"

# 2. no daemon: opting in fails with ENOPROTOOPT, the connection is plain
eno_capture_start "$NS_A" "$TC_IF_A"
eno_pair 7601 "" "$IP_B" ""
eno_capture_stop
eno_expect "$cli" optin $ENOPROTOOPT client; eno_expect "$srv" optin $ENOPROTOOPT server
eno_expect "$cli" get $ENOPROTOOPT client
eno_wire "$ENO_CAP_FILE" | awk '$5 != "-"' | grep -q . && tc_fail "ENO on the wire without a daemon"

# 3. a daemon that is SIGKILLed leaves everything working
tc_daemon_start
old_progs=$(attached_ids)
tc_bg "$NS_B" "$ENO_PEER" server 7602 --hold 8 > "$TC_TMP/held-s.out"
tc_wait_port "$NS_B" 7602
tc_bg "$NS_A" "$ENO_PEER" client "$IP_B" 7602 --hold 8 > "$TC_TMP/held-c.out"
for i in $(seq 1 50); do [ -s "$TC_TMP/held-c.out" ] && break; sleep 0.1; done
eno_expect "$(cat "$TC_TMP/held-c.out")" ok 1 "held client"
kill -9 "$TC_DAEMON_PID"; wait "$TC_DAEMON_PID" 2>/dev/null; TC_DAEMON_PID=
[ "$(attached_ids)" = "$old_progs" ] || tc_fail "programs detached by the crash"
eno_pair 7603 "" "$IP_B" ""
eno_expect_ok
"$TCNETSTAT" -P "$TC_PIN_DIR" -j | grep -q '"remote_port": 7602' || tc_fail "held connection not in the pinned map"

# 4. a new daemon recovers: replaces the programs, keeps the maps
rm -f "$TC_CONTROL"   # the killed daemon could not remove it
tc_daemon_start
grep -q "replaced" "$TC_TMP/tcpcryptd.log" || tc_fail "no replacement logged: $(cat "$TC_TMP/tcpcryptd.log")"
new_progs=$(attached_ids)
[ "$(echo "$new_progs" | wc -l)" = $NPROGS ] ||
	tc_fail "expected $NPROGS programs after recovery: $(bpftool cgroup show "$TC_CGROUP")"
for id in $old_progs; do echo "$new_progs" | grep -qx "$id" && tc_fail "old program $id still attached"; done
"$TCNETSTAT" -u "$TC_CONTROL" -j | grep -q '"remote_port": 7602' || tc_fail "connection from before the crash lost"
eno_pair 7604 "" "$IP_B" ""
eno_expect_ok

# 5. a second daemon on the same pin dir, or on the same cgroup, refuses
out=$("$TCPCRYPTD" --cgroup "$TC_CGROUP" --pin-dir "$TC_PIN_DIR" --control "$TC_TMP/second.sock" 2>&1) &&
	tc_fail "second daemon on the same pin dir started"
echo "# second daemon: $out"
echo "$out" | grep -q "another tcpcryptd (pid $TC_DAEMON_PID) already uses" || tc_fail "unclear refusal: $out"
[ ! -e "$TC_TMP/second.sock" ] || tc_fail "second daemon made a control socket"
out=$("$TCPCRYPTD" --cgroup "$TC_CGROUP" --pin-dir "$TC_PIN_DIR-2" --control "$TC_TMP/second.sock" 2>&1) &&
	tc_fail "second daemon on the same cgroup started"
echo "$out" | grep -q "already uses cgroup" || tc_fail "unclear refusal: $out"
[ ! -e "$TC_PIN_DIR-2" ] || { rmdir "$TC_PIN_DIR-2"; tc_fail "refused daemon left its pin dir"; }
mkdir "$TC_CGROUP/child"
out=$("$TCPCRYPTD" --cgroup "$TC_CGROUP/child" --pin-dir "$TC_PIN_DIR-3" --control "$TC_TMP/third.sock" 2>&1) &&
	tc_fail "a daemon below an attached cgroup started"
rmdir "$TC_CGROUP/child"
echo "$out" | grep -q "from an ancestor" || tc_fail "unclear refusal: $out"
[ ! -e "$TC_PIN_DIR-3" ] || { rmdir "$TC_PIN_DIR-3"; tc_fail "refused daemon left its pin dir"; }
eno_pair 7605 "" "$IP_B" ""
eno_expect_ok

# 6. clean stop after recovery
maps=$(map_ids $new_progs)
tc_daemon_stop || tc_fail "daemon exit status"
expect_clean "$new_progs $old_progs" "$maps"
echo "PASS: eno_daemon"
