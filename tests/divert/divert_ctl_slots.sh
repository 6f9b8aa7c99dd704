#!/usr/bin/env bash
# One local user must not be able to turn other users' connections plain
# by holding the divert daemon's control slots (issue 13, item 4). A
# process of uid 65534 keeps 200 connections open to A's control socket,
# sending nothing and reopening each one the daemon closes; meanwhile a
# process of uid 65533 makes tcpcrypt connections from A to B. Its opt-in
# requests must still be served within the shim's 200 ms: every one of
# its connections encrypted at both ends. Before the fix the holder took
# all 64 slots, the opt-ins timed out, and the connections ran plain.
export TCPCRYPT_TEST_BACKEND=divert
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_fail "python3 missing"
command -v setpriv >/dev/null || tc_fail "setpriv missing (util-linux)"
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PEER=$TC_TOP_SRCDIR/tests/integration/eno_split_peer.py
HOLD=$TC_TOP_SRCDIR/tests/divert/divert_ctl_hold.py
N=${DV_SLOTS_N:-5}
PY=/usr/bin/python3     # one the two unprivileged users can run
[ -x "$PY" ] || PY=$(command -v python3)
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"

tc_netns_setup
tc_daemon_start
chmod 755 "$TC_TMP"     # the two users reach A's control socket and table
d=$TC_TMP/slots
mkdir -p "$d" && chmod 777 "$d"
AS_HOLDER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
AS_USER=(setpriv --reuid=65533 --regid=65533 --clear-groups)
MARK_A=client-$(head -c 8 /dev/urandom | xxd -p) MARK_B=server-$(head -c 8 /dev/urandom | xxd -p)
HEX_A=$(printf '%s\n' "$MARK_A" | xxd -p | tr -d '\n')
HEX_B=$(printf '%s\n' "$MARK_B" | xxd -p | tr -d '\n')

tc_bg "$NS_A" "${AS_HOLDER[@]}" "$PY" "$HOLD" "$TC_TMP/ctl-$NS_A" 200 $((N * 3 + 20)) > "$d/hold.out" 2> "$d/hold.err"
for i in $(seq 1 100); do grep -qs held "$d/hold.out" && break; sleep 0.05; done
held=$(awk '$1 == "held" {print $2}' "$d/hold.out")
echo "# uid 65534 holds ${held:-no} connections to A's control socket"
[ "${held:-0}" -ge 64 ] || { cat "$d/hold.err" >&2; tc_fail "the holder did not get its connections open"; }
sleep 1.5       # past the daemon's 1 s idle timeout: the holder reopens

enc=0
for i in $(seq 1 "$N"); do
	port=$((7800 + i))
	tc_bg "$NS_B" "$RUN" python3 "$PEER" server "$port" 16 "$MARK_B" > "$d/s$i.out" 2> "$d/s$i.err"
	spid=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	tc_bg "$NS_A" "${AS_USER[@]}" timeout 30 "$RUN" "$PY" "$PEER" client "$IP_B" "$port" "$MARK_A" > "$d/c$i.out" 2> "$d/c$i.err"
	wait "$TC_LAST_PID"; wait "$spid"
	cli=$(cat "$d/c$i.out") srv=$(cat "$d/s$i.out")
	echo "# $i: client: $cli"
	echo "# $i: server: $srv"
	[ "$(eno_field "$cli" recv)" = "$HEX_B" ] && [ "$(eno_field "$srv" recv)" = "$HEX_A" ] ||
		{ cat "$d/c$i.err" >&2; tc_fail "connection $i: the data did not go through"; }
	[ "$(eno_field "$cli" sessid)" = "$(eno_field "$srv" sessid)" ] ||
		tc_fail "connection $i: SPLIT: session IDs differ"
	[ "$(eno_field "$cli" sessid)" != - ] && enc=$((enc + 1))
done
echo "# $enc of $N connections of uid 65533 encrypted while uid 65534 held the control socket"
[ "$enc" = "$N" ] || tc_fail "uid 65534 holding the control slots turned uid 65533's connections plain ($enc of $N encrypted)"
echo "PASS: divert_ctl_slots"
