#!/bin/bash
# test_wireshark.sh - seeing tcpcrypt in Wireshark (tcpcrypt-wireshark(7)),
# on a real capture: curl fetches GET /tcpcrypt-marker-N from python's
# http.server, both under tcpcrypt-run, with tcpdump on A's veth (whole
# packets, and snap length 200) and the client's key log.
#
# Asserts:
#  1. the constants of wireshark/tcpcrypt.lua are libtcpcrypt's;
#  2. without the key log, tshark finds no HTTP request (nor the marker in
#     the capture's bytes): the connection is encrypted;
#  3. the Lua dissector names the ENO option on SYN (TEP 0x23) and SYN-ACK
#     (TEP 0x23, b=1), its non-SYN form, Init1 (AEADs, N_A), Init2 (the
#     chosen AEAD) and frame headers;
#  4. tcpcrypt-decrypt CAPTURE KEYLOG OUT writes a capture in which tshark
#     (with or without the Lua dissector) shows the request line the client
#     sent, and the server's 404 answer;
#  5. a key log of another session: no plaintext, exit status 2, no crash,
#     the capture copied as it was;
#  6. the capture cut at 200 bytes: the request is still decrypted, the
#     frames not captured whole are reported, and tshark with the Lua
#     dissector reads it without an error.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
DEC=$TC_TOP_BUILDDIR/wireshark/tcpcrypt-decrypt
LUA=$TC_TOP_SRCDIR/wireshark/tcpcrypt.lua
for c in tshark tcpdump curl python3; do
	command -v $c > /dev/null || tc_fail "$c not installed (scripts/install-deps.sh)"
done
[ -x "$DEC" ] || tc_skip "tcpcrypt-decrypt not built (configure found no libpcap: install libpcap-dev)"
T=$TC_TMP
ts() { tshark -n "$@" 2> "$T/tshark.err"; }
tsl() { tshark -n -X lua_script:"$LUA" "$@" 2> "$T/tshark.err"; }

# 1. The Lua constants name their definitions in libtcpcrypt.
h() { grep -hE "^#define $1 " "$TC_TOP_SRCDIR"/libtcpcrypt/*.h "$TC_TOP_SRCDIR"/include/tcpcrypt/*.h |
	awk '{print $3}' | sed 's/u$//; s/ *\/\*.*//' | head -1; }
while read -r var cname; do
	lv=$(sed -nE "s/^local $var = ([0-9a-fx]+) .*$/\1/p" "$LUA")
	cv=$(h "$cname")
	[ -n "$lv" ] && [ -n "$cv" ] || tc_fail "constant $var/$cname not found (lua '$lv', C '$cv')"
	[ $((lv)) = $((cv)) ] || tc_fail "tcpcrypt.lua: $var = $lv, but libtcpcrypt's $cname = $cv"
done <<'LIST'
ENO_KIND TCPCRYPT_ENO_KIND
ENO_GLOBAL_B TC_ENO_GLOBAL_B
ENO_GLOBAL_A TC_ENO_GLOBAL_A
INIT1_MAGIC TC_INIT1_MAGIC
INIT2_MAGIC TC_INIT2_MAGIC
INIT_NONCELEN TC_INIT_NONCELEN
INIT_PUBLEN TC_INIT_PUBLEN
INIT_MAX TC_INIT_MAX
FRAME_HDR TC_FRAME_HDR
TAG_LEN TC_TAG_LEN
FRAME_CTL_REKEY TC_FRAME_CTL_REKEY
LIST
tc_log "tcpcrypt.lua's constants are libtcpcrypt's"

# The capture.
tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
PORT=7702 MARK=/tcpcrypt-marker-$$
mkdir "$T/www"
tc_bg "$NS_B" "$RUN" python3 -m http.server "$PORT" --bind "$IP_B" --directory "$T/www"
tc_wait_port "$NS_B" $PORT
cap() {   # cap SNAPLEN FILE
	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" -nn -U --immediate-mode -s "$1" -w "$2" \
		"tcp port $PORT" 2> "$2.err" &
	TC_PIDS+=($!)
	for _ in $(seq 1 50); do grep -qs "listening on" "$2.err" && return; sleep 0.1; done
	tc_fail "tcpdump did not start"
}
cap 0 "$T/full.pcap"; PID_FULL=${TC_PIDS[-1]}
cap 200 "$T/snap.pcap"; PID_SNAP=${TC_PIDS[-1]}
tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$T/keylog" timeout 20 "$RUN" curl -sS -o "$T/page" \
	"http://$IP_B:$PORT$MARK" || tc_fail "curl failed"
sleep 0.5
kill "$PID_FULL" "$PID_SNAP"; wait "$PID_FULL" "$PID_SNAP" 2> /dev/null
grep -q '^TCPCRYPT_SS ' "$T/keylog" || tc_fail "the client wrote no key log (not encrypted?)"
# a second session, not captured: its key log is a wrong one for the capture
tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$T/keylog.other" timeout 20 "$RUN" curl -sS -o /dev/null \
	"http://$IP_B:$PORT/other" || tc_fail "second curl failed"
grep -q '^TCPCRYPT_SS ' "$T/keylog.other" || tc_fail "the second curl wrote no key log"
tc_log "captured $(ts -r "$T/full.pcap" | wc -l) packets; key log $(awk '/SS/ {print $2}' "$T/keylog")"

# 2. Encrypted: no request line without the key log.
[ -z "$(ts -r "$T/full.pcap" -Y http.request)" ] || tc_fail "tshark sees an HTTP request in the raw capture"
! grep -qa "$MARK" "$T/full.pcap" || tc_fail "the marker $MARK is in the capture in clear"
tc_log "raw capture: no HTTP request, no marker"

# 3. The Lua dissector names what tcpcrypt puts on the wire.
eno=$(tsl -r "$T/full.pcap" -Y 'tcpcrypt.eno && tcp.flags.syn == 1' -T fields \
	-e tcp.flags.ack -e tcpcrypt.eno.tep -e tcpcrypt.eno.global.b) || tc_fail "tshark -X lua_script failed: $(cat "$T/tshark.err")"
grep -qi "lua" "$T/tshark.err" && tc_fail "Lua errors: $(cat "$T/tshark.err")"
[ "$(printf '%s\n' "$eno" | sed -n 1p)" = "$(printf '0\t0x23\t')" ] ||
	tc_fail "SYN: expected ENO with TEP 0x23, got: $eno"
[ "$(printf '%s\n' "$eno" | sed -n 2p)" = "$(printf '1\t0x23\t1')" ] ||
	tc_fail "SYN-ACK: expected ENO with TEP 0x23 and b=1, got: $eno"
[ -n "$(tsl -r "$T/full.pcap" -Y 'tcpcrypt.eno.form == "non-SYN form (ENO acknowledged)"')" ] ||
	tc_fail "the non-SYN form of ENO in A's ACK is not named"
i1=$(tsl -r "$T/full.pcap" -Y tcpcrypt.init1 -T fields -e tcpcrypt.init.len -e tcpcrypt.init1.aead)
i2=$(tsl -r "$T/full.pcap" -Y tcpcrypt.init2 -T fields -e tcpcrypt.init.len -e tcpcrypt.init2.aead)
[ "$(wc -l <<< "$i1")" = 1 ] && [ -n "$i1" ] || tc_fail "Init1 not named once: '$i1'"
[ "$(wc -l <<< "$i2")" = 1 ] && [ -n "$i2" ] || tc_fail "Init2 not named once: '$i2'"
chosen=$(cut -f2 <<< "$i2")
grep -q "$chosen" <<< "$(cut -f2 <<< "$i1")" || tc_fail "Init2's AEAD $chosen not among Init1's: $i1"
nfr=$(tsl -r "$T/full.pcap" -Y tcpcrypt.frame -T fields -e tcpcrypt.frame.clen | wc -l)
[ "$nfr" -ge 2 ] || tc_fail "expected frames in both directions, tshark names $nfr packets with frames"
tc_log "Lua dissector: ENO $(tr '\t\n' ' /' <<< "$eno"); Init1 '$(tr '\t' ' ' <<< "$i1")'; Init2 '$(tr '\t' ' ' <<< "$i2")'; $nfr packets with frames"

# 4. Decrypted: the request line the client sent, and the answer.
"$DEC" "$T/full.pcap" "$T/keylog" "$T/plain.pcap" 2> "$T/dec.err" ||
	tc_fail "tcpcrypt-decrypt failed ($?): $(cat "$T/dec.err")"
sed 's/^/#   /' "$T/dec.err" >&2
uri=$(ts -r "$T/plain.pcap" -Y http.request -T fields -e http.request.uri)
[ "$uri" = "$MARK" ] || tc_fail "decrypted capture: expected request $MARK, tshark shows '$uri'"
code=$(ts -r "$T/plain.pcap" -Y http.response -T fields -e http.response.code)
[ "$code" = 404 ] || tc_fail "decrypted capture: expected the 404 answer, tshark shows '$code'"
uri=$(tsl -r "$T/plain.pcap" -Y http.request -T fields -e http.request.method -e http.request.uri)
[ "$uri" = "$(printf 'GET\t%s' "$MARK")" ] || tc_fail "with the Lua dissector loaded: '$uri'"
[ -n "$(tsl -r "$T/plain.pcap" -Y 'tcpcrypt.eno.tep == 0x23')" ] ||
	tc_fail "the decrypted capture lost its ENO options"
tc_log "decrypted: tshark shows GET $MARK and the 404"

# 5. A wrong key log.
"$DEC" "$T/full.pcap" "$T/keylog.other" "$T/wrong.pcap" 2> "$T/wrong.err"
rc=$?
[ $rc = 2 ] || tc_fail "wrong key log: exit status $rc, expected 2: $(cat "$T/wrong.err")"
grep -q "no key in the key log" "$T/wrong.err" || tc_fail "wrong key log not reported: $(cat "$T/wrong.err")"
[ -z "$(ts -r "$T/wrong.pcap" -Y http.request)" ] || tc_fail "wrong key log: an HTTP request appeared"
cmp -s <(ts -r "$T/wrong.pcap" -x) <(ts -r "$T/full.pcap" -x) || tc_fail "wrong key log: the packets changed"
tc_log "wrong key log: nothing decrypted, capture copied"

# 6. Snap length 200.
"$DEC" "$T/snap.pcap" "$T/keylog" "$T/snap-plain.pcap" 2> "$T/snap.err"
rc=$?
[ $rc = 0 ] || tc_fail "snaplen 200: exit status $rc: $(cat "$T/snap.err")"
sed 's/^/#   /' "$T/snap.err" >&2
grep -qE "not captured whole|framing lost" "$T/snap.err" || tc_fail "snaplen 200: truncated frames not reported"
uri=$(ts -r "$T/snap-plain.pcap" -Y http.request -T fields -e http.request.uri)
[ "$uri" = "$MARK" ] || tc_fail "snaplen 200: expected request $MARK, tshark shows '$uri'"
tsl -r "$T/snap.pcap" -V > /dev/null || tc_fail "tshark with the Lua dissector failed on the cut capture"
grep -qi "lua" "$T/tshark.err" && tc_fail "Lua errors on the cut capture: $(cat "$T/tshark.err")"
[ -n "$(tsl -r "$T/snap.pcap" -Y tcpcrypt.init1)" ] || tc_fail "snaplen 200: Init1 not named"
tc_log "snaplen 200: request decrypted, truncated frames reported"
echo "PASS: tshark names tcpcrypt's wire format; tcpcrypt-decrypt shows GET $MARK; wrong key log and snaplen 200 handled"
