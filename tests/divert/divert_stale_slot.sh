#!/bin/bash
# divert_stale_slot.sh - when B's divert daemon does not answer, B's shim
# decides from the daemon's shared table, and takes a slot only when it is
# this connection's (the SYN the kernel saved matches the slot's).
#  1. B's daemon stopped (SIGSTOP): its watchdog judges the handshake; a
#     shimmed client connects; B's shim finds the slot of this very
#     connection: both ends encrypted (key logs), the data echoed intact.
#  2. A shimmed client connects from source port P (encrypted, slot
#     written) and ends with a reset (no TIME_WAIT on either side); B's
#     daemon is killed (SIGKILL: its queue is bypassed, its table stays);
#     an unshimmed client connects again from port P: same 4-tuple, plain
#     on the wire. B's shim must not take the earlier connection's slot:
#     the connection is plain and the data echoed intact. (Before the fix,
#     B expected an Init message, aborted with "Protocol error", and the
#     client saw a reset: the flake of divert_kill.sh's part 3.)
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
export TCPCRYPT_TEST_BACKEND=divert
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
ECHO=$TC_TOP_SRCDIR/tests/divert/divert_echo.py
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
tc_netns_setup
tc_daemon_start
T=$TC_TMP
DAEMON_B=${TC_DIVERT_PIDS[1]}

tc_bg "$NS_B" env TCPCRYPT_KEYLOGFILE="$T/keylog.b" TCPCRYPT_LOG=3 "$RUN" "$PY" "$ECHO" server 7800 2> "$T/server.err"
tc_wait_port "$NS_B" 7800

# client NAME PORT [prefix...]: one connection from source port PORT, 4 KB
# echoed, closed with a reset (SO_LINGER 0). Prints ok, bad or the error.
client() {
	local name=$1 port=$2; shift 2
	tc_run "$NS_A" timeout 20 "$@" "$PY" -c '
import os, socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[2])))
try:
    s.settimeout(10)
    s.connect((sys.argv[1], 7800))
    data = os.urandom(4096)
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("ok" if got == data else "bad")
except OSError as e:
    print("err:%s" % (e.strerror or e))' "$IP_B" "$port" > "$T/$name.out" 2> "$T/$name.err"
}
# sessions FILE: session lines in a key log
sessions() { grep -c '^TCPCRYPT_SS ' "$1" 2> /dev/null || true; }
show() { sed 's/^/# server: /' "$T/server.err" | tail -15 >&2; sed 's/^/# daemon B: /' "$T/tcpcryptd-$NS_B.log" | tail -10 >&2; }

# 1. B's daemon stopped: the table, checked against the saved SYN, says encrypted.
kill -STOP "$DAEMON_B"
client stopped 40001 env TCPCRYPT_KEYLOGFILE="$T/keylog.a1" "$RUN"
kill -CONT "$DAEMON_B"
[ "$(cat "$T/stopped.out")" = ok ] || { show; tc_fail "stopped daemon: $(cat "$T/stopped.out" "$T/stopped.err")"; }
[ "$(sessions "$T/keylog.a1")" = 1 ] || { show; tc_fail "stopped daemon: the client's connection was not encrypted"; }
[ "$(sessions "$T/keylog.b")" = 1 ] || { show; tc_fail "stopped daemon: B did not take its own connection's slot"; }
tc_log "stopped daemon: encrypted at both ends, decided by B from the table"

# 2. An encrypted connection from port 40002, then B's daemon dies, then a
# plain one from the same port.
client first 40002 env TCPCRYPT_KEYLOGFILE="$T/keylog.a2" "$RUN"
[ "$(cat "$T/first.out")" = ok ] && [ "$(sessions "$T/keylog.a2")" = 1 ] ||
	{ show; tc_fail "first connection: $(cat "$T/first.out") (expected ok, encrypted)"; }
kill -KILL "$DAEMON_B"
wait "$DAEMON_B" 2> /dev/null
client again 40002
[ "$(cat "$T/again.out")" = ok ] || { show; tc_fail "same 4-tuple after B's daemon died: $(cat "$T/again.out" "$T/again.err")"; }
[ "$(sessions "$T/keylog.b")" = 2 ] || { show; tc_fail "B counted $(sessions "$T/keylog.b") sessions, expected 2 (the plain one is not)"; }
grep -q 'protocol violation' "$T/server.err" && { show; tc_fail "B aborted a connection"; }
echo "PASS: B's shim takes from the stale table only its own connection's slot"
