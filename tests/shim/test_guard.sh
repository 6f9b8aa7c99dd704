#!/bin/bash
# test_guard.sh - a write the shim cannot see never puts clear text on an
# encrypted connection (the eBPF guard).
#
# uring_raw (both ends, in two namespaces) greets through write()/read(),
# then the client sends a random marker with io_uring set up and entered by
# inline `syscall` instructions (as liburing 2.3 does on x86-64), which no
# LD_PRELOAD library sees. Runs plain, then under tcpcrypt-run, with
# tcpdump on A's veth. Asserts:
#  - plain: the send succeeds, the marker is in the capture and arrives
#    (the capture sees clear text, the bypass path works);
#  - encrypted (eBPF backend): tcpcryptd reports `feature guard loaded`;
#    ENO was on the wire; the marker is nowhere in the capture; the reader
#    got nothing; the raw send failed, or the connection was aborted (the
#    reader sees a reset) when the shim next wrote (close's FINp); the
#    shim's own traffic (the greeting, and a sendfile() emulated by the
#    shim) still flows;
#    every one of the shim's writes is declared (strace);
#  - with the guard refused (TCPCRYPTD_TEST_REFUSE=guard): tcpcryptd runs,
#    logs one line, reports `feature guard refused`, and shimmed
#    connections work; the shim stops declaring after the first refusal
#    (at most 2 declarations, an enrolment and one grant, for 100 writes).
# On the divert backend there is no guard: the test says so and skips.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
GRANT='0x54435003'          # TCPCRYPT_GUARD_GRANT, as strace prints it
PROG=$TC_TOP_BUILDDIR/tests/shim/uring_raw
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$PROG" ] || tc_fail "uring_raw not built at $PROG"
command -v tshark > /dev/null || tc_fail "tshark not installed (scripts/install-deps.sh)"
[ "$TCPCRYPT_TEST_BACKEND" = divert ] && tc_skip "the guard is an eBPF backend feature"

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL

# status: tcpcryptd's answer to "status".
status() {
	python3 - "$TC_CONTROL" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1]); s.sendall(b"status\n")
out = b""
while True:
    d = s.recv(4096)
    if not d: break
    out += d
sys.stdout.write(out.decode())
PY
}

# capture_start NAME / capture_stop: tcpdump on A's veth into $TC_TMP/NAME.pcap.
capture_start() {
	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$TC_TMP/$1.pcap" \
		"tcp portrange 7400-7419" 2> "$TC_TMP/$1.tcpdump" &
	TC_PIDS+=($!)
	DUMP=$!
	for _ in $(seq 1 100); do
		grep -qs 'listening on' "$TC_TMP/$1.tcpdump" && return
		sleep 0.05
	done
	tc_fail "$1: tcpdump did not start"
}
capture_stop() { sleep 0.3; kill "$DUMP"; wait "$DUMP" 2> /dev/null; }

# exchange NAME PORT PREFIX: one uring_raw pair; $TC_TMP/NAME.{marker,client,server}.
exchange() {
	local name=$1 port=$2 pre=$3 srv rc
	printf 'marker-uring-%s' "$(head -c 12 /dev/urandom | xxd -p)" > "$TC_TMP/$name.marker"
	capture_start "$name"
	tc_bg "$NS_B" $pre "$PROG" server "$port" > "$TC_TMP/$name.server" 2> "$TC_TMP/$name.serr"
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	tc_run "$NS_A" timeout 20 $pre "$PROG" client "$IP_B" "$port" "$(cat "$TC_TMP/$name.marker")" \
		> "$TC_TMP/$name.client" 2> "$TC_TMP/$name.cerr"
	rc=$?
	[ $rc = 0 ] || { cat "$TC_TMP/$name.client" "$TC_TMP/$name.cerr" >&2; tc_fail "$name: client failed ($rc)"; }
	timeout 20 tail --pid="$srv" -f /dev/null || tc_fail "$name: the server hangs"
	wait "$srv" || { cat "$TC_TMP/$name.serr" >&2; tc_fail "$name: the server failed"; }
	capture_stop
	tc_log "$name: $(cat "$TC_TMP/$name.client")"
}

# Plain: the bypass works and the capture sees it.
exchange plain 7400 ""
grep -q '^uring setup: -1' "$TC_TMP/plain.client" &&
	tc_skip "io_uring is not available on this kernel: $(cat "$TC_TMP/plain.client")"
m=$(cat "$TC_TMP/plain.marker")
grep -qx "uring send: ${#m}" "$TC_TMP/plain.client" || tc_fail "plain: the raw send failed: $(cat "$TC_TMP/plain.client")"
cmp -s "$TC_TMP/plain.marker" "$TC_TMP/plain.server" || tc_fail "plain: the reader did not get the marker"
grep -qaF "$m" "$TC_TMP/plain.pcap" || tc_fail "plain: the marker is not in the capture (capture broken?)"

# Encrypted.
st=$(status)
echo "$st" | grep '^feature guard' | sed 's/^/# status: /' >&2
echo "$st" | grep -q '^feature guard loaded' || tc_fail "tcpcryptd status: the guard is not loaded"
exchange crypt 7401 "$RUN"
m=$(cat "$TC_TMP/crypt.marker")
tshark -r "$TC_TMP/crypt.pcap" -Y 'tcp.option_kind == 69' 2> /dev/null | grep -q . ||
	tc_fail "crypt: no ENO option in the capture: the connection was not encrypted"
! grep -qaF "$m" "$TC_TMP/crypt.pcap" || tc_fail "crypt: the marker is in clear on the wire"
[ ! -s "$TC_TMP/crypt.server" ] ||
	tc_fail "crypt: the reader got data from the raw send: $(head -c 64 "$TC_TMP/crypt.server" | xxd -p | head -2)"
# The raw send either fails, or its bytes stay on the host and the shim's
# next write (here the close's FINp) aborts the connection: the reader
# sees a reset, not an orderly end.
if ! grep -q '^uring send: -1 ' "$TC_TMP/crypt.client"; then
	grep -q 'read: Connection reset by peer' "$TC_TMP/crypt.serr" ||
		tc_fail "crypt: the raw send went through and the connection was not aborted: $(cat "$TC_TMP/crypt.serr")"
fi

# The shim's own sends on a guarded connection: sendfile() (emulated by
# the shim) of a 1 MiB file arrives intact, under the same daemon.
head -c 1048576 /dev/urandom > "$TC_TMP/file.bin"
tc_bg "$NS_B" "$RUN" socat -u TCP-LISTEN:7410,reuseaddr "CREATE:$TC_TMP/file.recv" 2> "$TC_TMP/sf.serr"
srv=$TC_LAST_PID
tc_wait_port "$NS_B" 7410
tc_run "$NS_A" timeout 20 strace -f -qq -e trace=setsockopt -o "$TC_TMP/sf.strace" "$RUN" python3 -c '
import os, socket, sys
s = socket.create_connection((sys.argv[1], 7410))
f = open(sys.argv[2], "rb")
n, off = os.fstat(f.fileno()).st_size, 0
while off < n:
    off += os.sendfile(s.fileno(), f.fileno(), off, n - off)
s.close()' "$IP_B" "$TC_TMP/file.bin" 2> "$TC_TMP/sf.cerr" || { cat "$TC_TMP/sf.cerr" >&2; tc_fail "sendfile client failed"; }
timeout 20 tail --pid="$srv" -f /dev/null || tc_fail "sendfile: the server hangs"
wait "$srv" || { cat "$TC_TMP/sf.serr" >&2; tc_fail "sendfile: socat failed"; }
cmp -s "$TC_TMP/file.bin" "$TC_TMP/file.recv" || tc_fail "sendfile through the shim: the file did not arrive intact"
# Each of the shim's writes was declared (a grant per write, at least the
# Init and the file's frames).
grants=$(grep -c "$GRANT" "$TC_TMP/sf.strace")
[ "$grants" -ge 10 ] || tc_fail "guarded: $grants declarations for a 1 MiB sendfile"
tc_log "guarded: $grants declarations for a 1 MiB sendfile"

# The guard refused (the test switch takes the path of a kernel's EPERM):
# tcpcryptd runs, says so in one line and in status, and the shim's
# declarations, now unanswered, cost encrypted connections nothing.
tc_daemon_stop || tc_fail "daemon exit status"
rm -f "$TC_CONTROL"
TCPCRYPTD_TEST_REFUSE=sessions_iter,guard tc_daemon_start
[ "$(grep -c 'optional feature guard' "$TC_TMP/tcpcryptd.log")" = 1 ] ||
	tc_fail "not one log line about the refused guard: $(cat "$TC_TMP/tcpcryptd.log")"
status | grep -q '^feature guard refused' || tc_fail "status does not say the guard is refused"
# 100 separate writes (TCP_NODELAY, one frame each): the first refused
# declaration is remembered, not repeated on every write.
tc_bg "$NS_B" "$RUN" socat -u TCP-LISTEN:7411,reuseaddr "CREATE:$TC_TMP/ug.recv" 2> "$TC_TMP/ug.serr"
srv=$TC_LAST_PID
tc_wait_port "$NS_B" 7411
tc_run "$NS_A" timeout 20 strace -f -qq -e trace=setsockopt -o "$TC_TMP/ug.strace" "$RUN" python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7411))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(100):
    s.sendall(b"hello-unguarded %03d\n" % i)
    time.sleep(0.001)
s.close()' "$IP_B" 2> "$TC_TMP/ug.cerr" || { cat "$TC_TMP/ug.cerr" >&2; tc_fail "unguarded: client failed"; }
wait "$srv" || { cat "$TC_TMP/ug.serr" >&2; tc_fail "unguarded: socat server failed"; }
python3 -c 'import sys; sys.stdout.write("".join("hello-unguarded %03d\n" % i for i in range(100)))' > "$TC_TMP/ug.txt"
cmp -s "$TC_TMP/ug.txt" "$TC_TMP/ug.recv" || tc_fail "unguarded: the data did not arrive"
grants=$(grep -c "$GRANT" "$TC_TMP/ug.strace")
[ "$grants" -le 2 ] || tc_fail "unguarded: $grants declarations for 100 writes (the refusal is not remembered)"
tc_log "unguarded: $grants declarations for 100 writes"
n=$(status | sed -n 's/^counter ok_a //p')
[ "${n:-0}" -ge 1 ] || tc_fail "unguarded: the connection did not negotiate (ok_a ${n:-none})"
echo "PASS: a send the shim cannot see is refused on an encrypted connection, never in clear"
