#!/bin/bash
# divert_rules.sh - the divert backend's netfilter rules and control socket.
#
# In a test namespace (never the host's), with unrelated rules of "the
# host" in mangle and filter (iptables and ip6tables):
#  1. tcpcryptd -b divert installs its chains and jumps; an ENO connection
#     to the other namespace negotiates; a clean stop (SIGTERM) leaves
#     iptables-save/ip6tables-save exactly as before;
#  2. SIGKILL leaves the rules; a restart replaces them (each jump once,
#     chains as fresh), connections negotiate again, and the clean stop
#     after it again restores the original ruleset;
#     ENO over loopback (IPv4, IPv6: one daemon plays both ends) works;
#  3. a second daemon on the same queue is refused and changes nothing;
#  4. the control socket refuses what is not a TCP socket of the caller
#     (UDP, unix, pipe, none: ENOTSOCK/EBADF), bad offers (EINVAL),
#     connected sockets (EISCONN), results of sockets not opted in (ENOENT),
#     an unprivileged user can opt in its own socket, and at most 32
#     distinct offers (they are never forgotten);
#  5. without -b, where eBPF cannot work, the divert backend is chosen.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
source "$TC_TOP_SRCDIR/tests/integration/eno_lib.sh"
tc_require_root
command -v iptables-save > /dev/null || tc_skip "iptables not installed"
CTL=$TC_TOP_SRCDIR/tests/divert/divert_ctl.py
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
export TCPCRYPT_TEST_BACKEND=divert
tc_netns_setup
T=$TC_TMP

inA() { ip netns exec "$NS_A" "$@"; }
save() { { inA iptables-save; inA ip6tables-save; } 2> /dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
# The host's own rules, which must survive everything.
inA iptables -t mangle -A OUTPUT -p udp --dport 9 -j ACCEPT
inA iptables -t mangle -A INPUT -p tcp --dport 9 -j ACCEPT
inA iptables -A INPUT -p tcp --dport 22 -j ACCEPT
inA ip6tables -t mangle -A OUTPUT -p udp --dport 9 -j ACCEPT
save > "$T/before"
grep -q -- '--dport 9' "$T/before" || tc_fail "setup: unrelated rules missing"

daemon() {   # daemon NAME: a divert tcpcryptd in A, control $T/ctl-$NS_A
	ip netns exec "$NS_A" "$TCPCRYPTD" -b divert -p 7 -u "$T/ctl-$NS_A" 2> "$T/$1.log" &
	DPID=$!
	TC_PIDS+=($DPID)
	for _ in $(seq 1 100); do [ -S "$T/ctl-$NS_A" ] && return 0; kill -0 $DPID 2>/dev/null || break; sleep 0.05; done
	cat "$T/$1.log" >&2; tc_fail "$1: daemon did not come up"
}
# B's daemon, for real connections (started by netns.sh for both; keep B's only)
ip netns exec "$NS_B" "$TCPCRYPTD" -b divert -p 7 -u "$T/ctl-$NS_B" 2> "$T/b.log" &
TC_PIDS+=($!)
check_rules() {   # the expected chains and exactly one jump each, both families
	local s=$(save)
	for c in TCPCRYPT-OUT TCPCRYPT-IN TCPCRYPT-SYN; do
		[ "$(echo "$s" | grep -c "^:$c ")" = 2 ] || tc_fail "$1: chain $c not in both families"
	done
	[ "$(echo "$s" | grep -c -- '-A OUTPUT .*-j TCPCRYPT-OUT')" = 2 ] || tc_fail "$1: OUTPUT jumps: $(echo "$s" | grep -- '-j TCPCRYPT-OUT')"
	[ "$(echo "$s" | grep -c -- '-A INPUT .*-j TCPCRYPT-IN')" = 2 ] || tc_fail "$1: INPUT jumps"
	[ "$(echo "$s" | grep -c -- '-A TCPCRYPT-' )" = "$(grep -c -- '-A TCPCRYPT-' "$T/fresh")" ] ||
		tc_fail "$1: our chains differ from a fresh start"
	echo "$s" | grep -q -- '--dport 22 -j ACCEPT' || tc_fail "$1: unrelated filter rule gone"
}
connect_ok() {   # an ENO connection A -> B negotiates
	eno_pair "$1" "" "$IP_B" ""
	eno_expect_ok
}

# 1. install, use, clean stop
daemon first
save | grep -- '-A TCPCRYPT-' > "$T/fresh"
[ -s "$T/fresh" ] || tc_fail "no rules installed"
check_rules "first start"
for _ in $(seq 1 100); do [ -S "$T/ctl-$NS_B" ] && break; sleep 0.05; done
connect_ok 7701
kill -TERM $DPID; wait $DPID || tc_fail "clean stop: exit status $?"
[ ! -e "$T/ctl-$NS_A" ] || tc_fail "control socket left after a clean stop"
save > "$T/after1"
diff -u "$T/before" "$T/after1" >&2 || tc_fail "rules differ after a clean stop"

# 2. SIGKILL, stale rules, restart
daemon second
kill -KILL $DPID; wait $DPID 2> /dev/null
save | grep -q -- '-j TCPCRYPT-OUT' || tc_fail "SIGKILL: rules gone (expected stale ones)"
rm -f "$T/ctl-$NS_A"
daemon third
check_rules "restart after SIGKILL"
connect_ok 7702
# over loopback (one daemon is both ends), IPv4 and IPv6
for lo in "7706 127.0.0.1 --v4" "7707 ::1 --v6"; do
	set -- $lo
	tc_bg "$NS_A" "$ENO_PEER" server "$1" ${3/--v4/} > "$T/lo-$1.out"
	tc_wait_port "$NS_A" "$1"
	cli=$(tc_run "$NS_A" "$ENO_PEER" client "$2" "$1") || tc_fail "loopback $2: client: $cli"
	wait $TC_LAST_PID || tc_fail "loopback $2: server"
	srv=$(cat "$T/lo-$1.out")
	eno_expect_ok
	eno_expect "$cli" data ok "loopback $2"
done
# 3. a second daemon on the same queue: refused, nothing changed
if inA "$TCPCRYPTD" -b divert -p 7 -u "$T/ctl2" 2> "$T/second.log"; then tc_fail "second daemon on queue 7 started"; fi
grep -q "NFQUEUE 7" "$T/second.log" || { cat "$T/second.log" >&2; tc_fail "second daemon: no queue error"; }
check_rules "after a refused second daemon"
connect_ok 7703

# 4. the control socket
ctl() { inA "$PY" "$CTL" "$T/ctl-$NS_A" "$@"; }
[ "$(ctl tcp)" = OK ] || tc_fail "opt-in of a TCP socket refused"
for k in udp unix pipe; do
	[ "$(ctl $k)" = ENOTSOCK ] || tc_fail "opt-in of a $k fd: $(ctl $k), expected ENOTSOCK"
done
[ "$(ctl nofd)" = EBADF ] || tc_fail "request without fd: $(ctl nofd)"
[ "$(ctl badoffer)" = EINVAL ] || tc_fail "bad offer: $(ctl badoffer)"
[ "$(ctl result)" = ENOENT ] || tc_fail "result of a socket not opted in: $(ctl result)"
tc_bg "$NS_B" python3 -c 'import socket,time; s=socket.create_server(("", 7704)); c=s.accept(); time.sleep(2)'
tc_wait_port "$NS_B" 7704
[ "$(ctl connected "$IP_B" 7704)" = EISCONN ] || tc_fail "opt-in of a connected socket accepted"
# an unprivileged user: its own socket yes; the daemon is still fine after
chmod 711 "$T"   # (the control socket itself is 0666)
[ "$(inA setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" "$CTL" "$T/ctl-$NS_A" tcp)" = OK ] ||
	tc_fail "unprivileged opt-in of its own socket refused"
# distinct offers are never forgotten: one user gets at most 32 of them
for i in $(seq 40 79); do
	inA setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" "$CTL" "$T/ctl-$NS_A" "offer:$i"
done > "$T/offers"
[ "$(grep -c "^OK$" "$T/offers")" = 32 ] && [ "$(grep -c "^ENOSPC$" "$T/offers")" = 8 ] ||
	tc_fail "offers per user: $(sort "$T/offers" | uniq -c | tr '\n' ' ') (expected 32 OK, then ENOSPC)"
[ "$(ctl offer:30)" = OK ] || tc_fail "root's new offer refused after another user's limit"
echo status | socat - "UNIX-CONNECT:$T/ctl-$NS_A" | grep -q '^backend divert' || tc_fail "status"
connect_ok 7705

kill -TERM $DPID; wait $DPID || tc_fail "clean stop after restart: exit status $?"
save > "$T/after2"
diff -u "$T/before" "$T/after2" >&2 || tc_fail "rules differ after restart and clean stop"
# 5. no -b: where the eBPF backend cannot work (here: `ip netns exec` hides
# the cgroup v2 mount), tcpcryptd chooses the divert backend by itself
ip netns exec "$NS_A" "$TCPCRYPTD" -u "$T/ctl-auto" -p 9 2> "$T/auto.log" &
DPID=$!
TC_PIDS+=($DPID)
for _ in $(seq 1 100); do [ -S "$T/ctl-auto" ] && break; sleep 0.05; done
echo status | socat - "UNIX-CONNECT:$T/ctl-auto" | grep -q '^backend divert' ||
	{ cat "$T/auto.log" >&2; tc_fail "auto: not the divert backend"; }
grep -q "using the divert backend" "$T/auto.log" || tc_fail "auto: no notice of the choice"
kill -TERM $DPID; wait $DPID || tc_fail "auto: clean stop: exit status $?"
save > "$T/after3"
diff -u "$T/before" "$T/after3" >&2 || tc_fail "rules differ after the auto daemon's stop"
echo "PASS: divert rules installed, replaced and removed exactly; control socket checks"
