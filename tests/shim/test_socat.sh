#!/bin/bash
# test_socat.sh - socat and nc, unmodified, under tcpcrypt-run at both ends.
#
# Asserts (sha256 of every transfer, and each connection really encrypted:
# one TCPCRYPT_SS key log line per connection at each end):
#  1. socat -u client -> server, 1 MB;
#  2. socat -u server -> client, 1 MB;
#  3. socat half-close: the client sends 1 MB and shuts down its write side;
#     the server sees EOF, answers with the sha256 of what it got and 700 KB
#     more, which the client still receives after its own half-close;
#  4. nc (OpenBSD) both ways at once; the server (-N) half-closes when its
#     input ends and still receives the rest of the client's data.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
command -v socat > /dev/null || tc_fail "socat not installed (scripts/install-deps.sh)"
command -v nc > /dev/null || tc_fail "nc not installed (scripts/install-deps.sh: netcat-openbsd)"

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
KA=$T/keylog.a KB=$T/keylog.b
head -c 1000000 /dev/urandom > "$T/up.bin"
head -c 1000000 /dev/urandom > "$T/down.bin"
head -c 700000 /dev/urandom > "$T/reply.bin"
sum() { sha256sum < "$1" | cut -d' ' -f1; }

# server PORT CMD...: shimmed, in B, in the background (standard input from
# $SRV_IN: a background job's own would be /dev/null); waits for the port.
server() {
	local port=$1; shift
	tc_bg "$NS_B" bash -c 'exec "$@" < "$0"' "${SRV_IN:-/dev/null}" env TCPCRYPT_KEYLOGFILE="$KB" timeout 30 "$RUN" "$@" 2> "$T/server.err"
	SRV=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
}
client() {
	tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$KA" timeout 30 "$RUN" "$@" 2> "$T/client.err"
}
server_done() {
	wait "$SRV" || { cat "$T/server.err" >&2; tc_fail "$1: server failed"; }
}
# keylogs N: N sessions logged at each end.
keylogs() {
	local a b
	a=$(grep -c '^TCPCRYPT_SS ' "$KA" 2> /dev/null)
	b=$(grep -c '^TCPCRYPT_SS ' "$KB" 2> /dev/null)
	[ "${a:-0}" = "$1" ] && [ "${b:-0}" = "$1" ] ||
		tc_fail "$2: expected $1 encrypted sessions, key logs show ${a:-0} (client) and ${b:-0} (server)"
}

# 1. client -> server.
server 7400 socat -u TCP-LISTEN:7400,reuseaddr "CREATE:$T/up.recv"
client socat -u "OPEN:$T/up.bin" TCP:"$IP_B":7400 || { cat "$T/client.err" >&2; tc_fail "socat upload: client failed"; }
server_done "socat upload"
[ "$(sum "$T/up.recv")" = "$(sum "$T/up.bin")" ] || tc_fail "socat upload: sha256 differs"
keylogs 1 "socat upload"

# 2. server -> client.
server 7402 socat -u "OPEN:$T/down.bin" TCP-LISTEN:7402,reuseaddr
client socat -u TCP:"$IP_B":7402 "CREATE:$T/down.recv" || { cat "$T/client.err" >&2; tc_fail "socat download: client failed"; }
server_done "socat download"
[ "$(sum "$T/down.recv")" = "$(sum "$T/down.bin")" ] || tc_fail "socat download: sha256 differs"
keylogs 2 "socat download"

# 3. Half-close: the reply comes after the client's shutdown(SHUT_WR).
server 7404 socat TCP-LISTEN:7404,reuseaddr "SYSTEM:sha256sum | cut -c1-64; cat $T/reply.bin"
client socat -t 20 - TCP:"$IP_B":7404 < "$T/up.bin" > "$T/half.recv" ||
	{ cat "$T/client.err" >&2; tc_fail "socat half-close: client failed"; }
server_done "socat half-close"
[ "$(head -c 64 "$T/half.recv")" = "$(sum "$T/up.bin")" ] ||
	tc_fail "socat half-close: the server did not read exactly the client's data up to EOF"
tail -c +66 "$T/half.recv" > "$T/half.reply"
[ "$(sum "$T/half.reply")" = "$(sum "$T/reply.bin")" ] ||
	tc_fail "socat half-close: the reply after the client's half-close differs ($(stat -c %s "$T/half.reply") bytes)"
keylogs 3 "socat half-close"

# 4. nc both ways.
SRV_IN=$T/down.bin server 7406 nc -N -l "$IP_B" 7406 > "$T/nc.up"
client nc "$IP_B" 7406 < "$T/up.bin" > "$T/nc.down" || { cat "$T/client.err" >&2; tc_fail "nc: client failed"; }
server_done nc
[ "$(sum "$T/nc.up")" = "$(sum "$T/up.bin")" ] || tc_fail "nc: client -> server data differs"
[ "$(sum "$T/nc.down")" = "$(sum "$T/down.bin")" ] || tc_fail "nc: server -> client data differs"
keylogs 4 nc
echo "PASS: socat and nc, both ways and half-closed, encrypted"
