#!/usr/bin/env bash
# tcnetstat lists the test's live tcpcrypt connections, and nothing else:
# negotiated ones by default (both ends, roles, addresses, pid, command,
# the session ID given with TCPCRYPT_ENO_REPORT), opted-in fallbacks only
# with -a, never plain connections; the daemon's raw list has byte counts;
# closed connections disappear; another user sees none of root's sessions.
# eBPF backend: also checks the -P (pinned map) path gives the same list.
# Divert backend (divert/dv_eno_tcnetstat.sh): each namespace has its own
# daemon, so the client's end is listed by A's and the server's by B's;
# a connection of another user is listed for that user too.
source "$top_srcdir/tests/lib/netns.sh"
source "$top_srcdir/tests/integration/eno_lib.sh"
tc_require_root
command -v python3 >/dev/null || tc_skip "python3 missing"
tc_netns_setup
tc_daemon_start
SID_C=23aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899
SID_S=23ffeeddccbbaa00112233445566778899aabbccddeeff00112233445566778899

# negotiated, both ends report a session ID, held open for a while
tc_bg "$NS_B" "$ENO_PEER" server 7501 --report $SID_S --hold 4 > "$TC_TMP/s1.out"
S1=$TC_LAST_PID
# opted-in client, no common TEP: a fallback (shown with -a only)
tc_bg "$NS_B" "$ENO_PEER" server 7502 --hold 4 > "$TC_TMP/s2.out"
# plain connection: never shown
tc_bg "$NS_B" "$ENO_PEER" server 7503 --no-opt-in --hold 4 > "$TC_TMP/s3.out"
for p in 7501 7502 7503; do tc_wait_port "$NS_B" $p; done
tc_bg "$NS_A" "$ENO_PEER" client "$IP_B" 7501 --report $SID_C --hold 4 > "$TC_TMP/c1.out"
tc_bg "$NS_A" "$ENO_PEER" client "$IP_B" 7502 --content 24 --hold 4 > "$TC_TMP/c2.out"
tc_bg "$NS_A" "$ENO_PEER" client "$IP_B" 7503 --no-opt-in --hold 4 > "$TC_TMP/c3.out"
for f in c1 c2 c3 s1 s2 s3; do
	for i in $(seq 1 50); do [ -s "$TC_TMP/$f.out" ] && break; sleep 0.1; done
	[ -s "$TC_TMP/$f.out" ] || tc_fail "$f produced no result"
done
cat "$TC_TMP"/c1.out "$TC_TMP"/s1.out | sed 's/^/# /'
eno_expect "$(cat "$TC_TMP/c1.out")" report 0 "client report"
eno_expect "$(cat "$TC_TMP/s1.out")" report 0 "server report"
# pids of the eno_peer processes inside this test's namespaces
pid_in() { ip netns pids "$1" | xargs -r ps -o pid=,args= -p | awk -v w="$2" 'index($0, w) {print $1}'; }
CPID=$(pid_in "$NS_A" "eno_peer client $IP_B 7501 ")
SPID=$(pid_in "$NS_B" "eno_peer server 7501 ")
[ -n "$CPID" ] && [ -n "$SPID" ] || tc_fail "eno_peer pids not found"

# the control sockets that list the test's sessions (divert: one per namespace)
CTLS=("$TC_CONTROL")
[ "$TCPCRYPT_TEST_BACKEND" = divert ] && CTLS=("$TC_TMP/ctl-$NS_A" "$TC_TMP/ctl-$NS_B")
# tcn [ARGS]: tcnetstat -j ARGS on every control socket, one JSON list
tcn() {
	local c
	for c in "${CTLS[@]}"; do
		"$TCNETSTAT" -u "$c" -j "$@" || return 1
	done | python3 -c 'import json,sys; d=json.JSONDecoder(); s=sys.stdin.read().strip(); out=[]
while s:
    v, i = d.raw_decode(s); out += v; s = s[i:].strip()
print(json.dumps(out))'
}
for c in "${CTLS[@]}"; do
	"$TCNETSTAT" -u "$c" | sed 's/^/# tcnetstat: /'
	"$TCNETSTAT" -u "$c" -a | sed 's/^/# tcnetstat -a: /'
done
tcn > "$TC_TMP/default.json" || tc_fail "tcnetstat -j"
tcn -a > "$TC_TMP/all.json" || tc_fail "tcnetstat -a -j"
if [ "$TCPCRYPT_TEST_BACKEND" = divert ]; then
	cp "$TC_TMP/all.json" "$TC_TMP/map.json"     # no pinned map
else
	"$TCNETSTAT" -P "$TC_PIN_DIR" -a -j > "$TC_TMP/map.json" || tc_fail "tcnetstat -P"
fi
# the daemons' raw lists: byte counts of the negotiated connection
for c in "${CTLS[@]}"; do echo list | socat - "UNIX-CONNECT:$c"; done > "$TC_TMP/raw.txt"
sed 's/^/# raw: /' "$TC_TMP/raw.txt"
python3 - "$TC_TMP/raw.txt" "$TCPCRYPT_TEST_BACKEND" <<'PY' || tc_fail "byte counts of the sessions on 7501 are wrong"
import sys
n = 0
divert = sys.argv[2] == "divert"
for line in open(sys.argv[1]):
    f = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
    if "7501" not in (f.get("lport"), f.get("rport")): continue
    n += 1
    # "ping\n" one way, "pong\n" the other; the kernel counts A's SYN as
    # acked (the eBPF list may not count yet)
    if (divert or f["bytes_out"] != "-1") and (f["bytes_out"] not in ("5", "6") or f["bytes_in"] != "5"):
        sys.exit("bytes: " + line)
    if divert and f["est"] == "0": sys.exit("no establishment time: " + line)
if n != 2: sys.exit("%d raw lines for 7501" % n)
PY

python3 - "$TC_TMP" "$IP_A" "$IP_B" "$CPID" "$SPID" "$SID_C" "$SID_S" <<'PY' || tc_fail "tcnetstat output is wrong"
import json, sys
tmp, ip_a, ip_b, cpid, spid, sid_c, sid_s = sys.argv[1:]
d = json.load(open(tmp + "/default.json"))
a = json.load(open(tmp + "/all.json"))
m = json.load(open(tmp + "/map.json"))
def fail(msg):
    print("FAIL:", msg, file=sys.stderr); sys.exit(1)
key = lambda s: (s["local_port"], s["remote_port"], s["local_address"])
# default: exactly the two ends of the negotiated connection
if len(d) != 2: fail("default list has %d entries: %s" % (len(d), d))
cl = [s for s in d if s["remote_port"] == 7501]
sv = [s for s in d if s["local_port"] == 7501]
if len(cl) != 1 or len(sv) != 1: fail("both ends of 7501 expected: %s" % d)
cl, sv = cl[0], sv[0]
for s, role, la, ra, pid, sid in ((cl, "A", ip_a, ip_b, cpid, sid_c), (sv, "B", ip_b, ip_a, spid, sid_s)):
    if not s["negotiated"]: fail("not negotiated: %s" % s)
    if s["role"] != role: fail("role %s, expected %s" % (s["role"], role))
    if s["local_address"] != la or s["remote_address"] != ra: fail("addresses: %s" % s)
    if s["state"] != "ESTABLISHED": fail("state: %s" % s)
    if str(s["pid"]) != pid: fail("pid %s, expected %s" % (s["pid"], pid))
    if s["command"] != "eno_peer": fail("command: %s" % s["command"])
    if s["session_id"] != sid: fail("session id %s, expected %s" % (s["session_id"], sid))
    if s["aead"] != "CHACHA20-POLY1305": fail("aead: %s" % s["aead"])
if cl["local_port"] != sv["remote_port"]: fail("ports do not match")
# -a: also both ends of the fallback on 7502, never the plain 7503
ports = sorted([s["local_port"] if s["local_port"] < 10000 else s["remote_port"] for s in a])
if ports != [7501, 7501, 7502, 7502]: fail("-a lists ports %s" % ports)
for s in a:
    if 7502 in (s["local_port"], s["remote_port"]):
        if s["negotiated"]: fail("7502 should not be negotiated")
        if s["session_id"] != "": fail("7502 has a session id")
srv2 = [s for s in a if s["local_port"] == 7502][0]
if srv2["reason"] != 7: fail("server 7502 reason %s, expected NO_COMMON_TEP (7)" % srv2["reason"])
# the pinned map gives the same sessions
if sorted(map(key, m)) != sorted(map(key, a)): fail("-P differs from the daemon's list")
PY

# the control socket answers other users with their own sessions only
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
count() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
command -v setpriv >/dev/null || tc_fail "setpriv (util-linux) missing"
[ "$TCPCRYPT_TEST_BACKEND" = divert ] && chmod 0711 "$TC_TMP"   # nobody reaches the sockets
for c in "${CTLS[@]}"; do
	n=$("${NOBODY[@]}" "$TCNETSTAT" -u "$c" -a -j | count) || tc_fail "tcnetstat as nobody"
	[ "$n" = 0 ] || tc_fail "uid 65534 sees $n sessions of root ($c)"
done
if [ "$TCPCRYPT_TEST_BACKEND" = divert ]; then
	# and nobody's own connection, to the server on 7501's neighbour
	tc_bg "$NS_B" "$ENO_PEER" server 7504 --report $SID_S --hold 3 > "$TC_TMP/s4.out"
	tc_wait_port "$NS_B" 7504
	tc_bg "$NS_A" "${NOBODY[@]}" "$ENO_PEER" client "$IP_B" 7504 --report $SID_C --hold 3 \
		> "$TC_TMP/c4.out"
	for i in $(seq 1 50); do [ -s "$TC_TMP/c4.out" ] && break; sleep 0.1; done
	sed 's/^/# nobody: /' "$TC_TMP/c4.out"
	eno_expect "$(cat "$TC_TMP/c4.out")" report 0 "nobody's report"
	"${NOBODY[@]}" "$TCNETSTAT" -u "$TC_TMP/ctl-$NS_A" -j > "$TC_TMP/nobody.json" ||
		tc_fail "tcnetstat as nobody"
	python3 - "$TC_TMP/nobody.json" "$SID_C" <<'PY' || tc_fail "nobody's own session is not listed right"
import json, sys
d = json.load(open(sys.argv[1]))
if len(d) != 1 or d[0]["remote_port"] != 7504 or d[0]["uid"] != 65534 or d[0]["session_id"] != sys.argv[2]:
    sys.exit("nobody sees: %s" % d)
PY
fi

# closed connections disappear
wait "$S1"
for i in $(seq 1 50); do
	n=$(tcn -a | python3 -c 'import json,sys; print(len([s for s in json.load(sys.stdin) if 7504 not in (s["local_port"], s["remote_port"])]))')
	[ "$n" = 0 ] && break
	sleep 0.2
done
[ "$n" = 0 ] || tc_fail "closed connections still listed: $(tcn -a)"
echo "PASS: eno_tcnetstat"
