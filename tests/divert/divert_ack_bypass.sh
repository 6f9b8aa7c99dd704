#!/usr/bin/env bash
# A's divert daemon must report ENO's success only once A's first ACK has
# left carrying 45 02 (issue 13, item 3): RFC 8547 4.6, success is having
# both sent and received an ACK segment with ENO. Here A's first ACK
# leaves without passing A's daemon (a mangle OUTPUT rule put before the
# daemon's accepts it, as a full queue with --queue-bypass would): B sees
# no ENO in it and falls back. A must fall back too: before the fix A's
# daemon said "negotiated" from the SYN-ACK on, A sent Init1 and B's
# application read it as data (a split).
# Asserted: never split (B's application never gets Init1 bytes, each end
# gets the other's data, neither has a session ID), and a connection
# without the bypass is encrypted at both ends.
export TCPCRYPT_TEST_BACKEND=divert
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_fail "python3 missing"
command -v iptables >/dev/null || tc_fail "iptables missing (scripts/install-deps.sh)"
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PEER=$TC_TOP_SRCDIR/tests/integration/eno_split_peer.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"

tc_netns_setup
tc_daemon_start
d=$TC_TMP/bypass
mkdir -p "$d"
MARK_A=client-$(head -c 8 /dev/urandom | xxd -p) MARK_B=server-$(head -c 8 /dev/urandom | xxd -p)
HEX_A=$(printf '%s\n' "$MARK_A" | xxd -p | tr -d '\n')
HEX_B=$(printf '%s\n' "$MARK_B" | xxd -p | tr -d '\n')

# once NAME PORT: one connection; prints the two result lines
once() {
	tc_bg "$NS_B" "$RUN" python3 "$PEER" server "$2" 16 "$MARK_B" > "$d/$1.server" 2> "$d/$1.server.err"
	local spid=$TC_LAST_PID
	tc_wait_port "$NS_B" "$2"
	tc_bg "$NS_A" timeout 60 "$RUN" python3 "$PEER" client "$IP_B" "$2" "$MARK_A" > "$d/$1.client" 2> "$d/$1.client.err"
	wait "$TC_LAST_PID"; wait "$spid"
	cli=$(cat "$d/$1.client") srv=$(cat "$d/$1.server")
	echo "# $1: client: $cli"
	echo "# $1: server: $srv"
	[[ $(eno_field "$srv" recv) == 15101a0e* ]] && tc_fail "$1: SPLIT: B's application received A's Init1 as data"
	[ "$(eno_field "$cli" recv)" = "$HEX_B" ] && [ "$(eno_field "$srv" recv)" = "$HEX_A" ] ||
		tc_fail "$1: the data did not go through intact (a split, or a failure)"
	[ "$(eno_field "$cli" sessid)" = "$(eno_field "$srv" sessid)" ] ||
		tc_fail "$1: SPLIT: session IDs $(eno_field "$cli" sessid) / $(eno_field "$srv" sessid)"
}

# A's first ACK (its second packet) to port 7995 skips A's daemon
rule=(-t mangle -I OUTPUT 1 -p tcp -d "$IP_B" --dport 7995 --tcp-flags ALL ACK -m connbytes
      --connbytes 2:2 --connbytes-dir original --connbytes-mode packets -j ACCEPT)
ip netns exec "$NS_A" iptables "${rule[@]}" || tc_fail "iptables"
once bypass 7995
[ "$(eno_field "$cli" sessid)" = - ] || tc_fail "bypass: encrypted although A's first ACK carried no ENO"
n=$(ip netns exec "$NS_A" iptables -t mangle -vnL OUTPUT 1 | awk '{print $1}')
[ "${n:-0}" -ge 1 ] || tc_fail "bypass: the rule did not take A's first ACK"
once normal 7996
[ "$(eno_field "$cli" sessid)" != - ] || tc_fail "normal: not encrypted"
echo "PASS: divert_ack_bypass"
