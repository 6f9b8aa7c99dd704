#!/bin/bash
# test_handover.sh - encrypted connections in a seccomp sandbox and across
# exec (tests/shim/handover.c), both ends under tcpcrypt-run.
#
# Asserts:
#  1. sandbox: a client that enters an OpenSSH-like pre-auth sandbox (file
#     size, fd and process limits, then a seccomp filter allowing read,
#     write, poll & co. and trapping the rest) after connecting sends 100 KB
#     and gets the same echo back, with no trapped system call, encrypted
#     (key logs); the same with O_NONBLOCK set before the sandbox, and
#     with the limits, no_new_privs and the filter set through syscall()
#     (libseccomp's way: before, nothing prepared the data path and the
#     sandboxed write trapped);
#  2. exec handover: a server forks, puts the accepted socket on fds 0 and 1
#     and execs a new image, which reads the client's line in plaintext,
#     runs a grandchild that execs with the socket inherited, and replies:
#     the client gets "reply:LINE", and the new image's session ID equals
#     the client's (the session went across both execs);
#  3. a new environment without the shim: the connection is closed for the
#     new program (it cannot read it), and the client never gets a reply or
#     ciphertext as data;
#  4. the same for a child started with posix_spawn (file actions put the
#     socket on its fds 0 and 1);
#  5. posix_spawn of a program whose environment does not preload the shim:
#     what it writes never leaves in clear (the capture), its write fails.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

H=$TC_TOP_BUILDDIR/tests/shim/handover
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$H" ] || tc_fail "handover not built at $H"
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
KA=$T/keylog.a KB=$T/keylog.b

# 1. sandbox.
tc_bg "$NS_B" env TCPCRYPT_KEYLOGFILE="$KB" "$RUN" "$H" echo "$IP_B" 7600
tc_wait_port "$NS_B" 7600
for mode in blocking nb sys; do
	out=$(tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$KA" timeout 20 "$RUN" "$H" sandbox "$IP_B" 7600 100000 \
		"$mode" 2> "$T/sandbox-$mode.err")
	rc=$?
	grep -q SIGSYS "$T/sandbox-$mode.err" &&
		tc_fail "sandbox ($mode): the shim made system calls the sandbox forbids: $(grep SIGSYS "$T/sandbox-$mode.err" | sort | uniq -c | tr '\n' ' ')"
	[ $rc = 0 ] && [ "$out" = "sandbox ok" ] ||
		tc_fail "sandbox ($mode): exit $rc, output '$out': $(head -3 "$T/sandbox-$mode.err" | tr '\n' ' ')"
done
n=$(grep -c '^TCPCRYPT_SS ' "$KA" 2> /dev/null)
[ "${n:-0}" = 3 ] || tc_fail "sandbox: the client's key log shows ${n:-0} sessions, expected 3"
tc_log "sandbox: 100 KB echoed under seccomp, blocking, non-blocking, and entered through syscall()"

# 2. exec handover.
tc_bg "$NS_B" env TCPCRYPT_KEYLOGFILE="$KB" timeout 20 "$RUN" "$H" serve "$IP_B" 7601 2> "$T/server.err"
SRV=$TC_LAST_PID
tc_wait_port "$NS_B" 7601
out=$(tc_run "$NS_A" timeout 20 "$RUN" "$H" client "$IP_B" 7601 hello-across-exec 2> "$T/client.err")
wait "$SRV" 2> /dev/null
rc=$?
[ "$out" = "reply:hello-across-exec" ] ||
	tc_fail "exec handover: the client got '$out' (server exit $rc): $(tr '\n' ' ' < "$T/client.err")"
cid=$(sed -n 's/^client sessid //p' "$T/client.err")
[ -n "$cid" ] && [ "$cid" != - ] || tc_fail "exec handover: the connection was not encrypted"
sid=$(sed -n 's/^child sessid //p' "$T/server.err")
[ "$sid" = "$cid" ] ||
	tc_fail "exec handover: the new image's session ID '$sid' is not the client's '$cid': $(tr '\n' ' ' < "$T/server.err")"
grep -q 'grandchild failed' "$T/server.err" && tc_fail "exec handover: the grandchild's exec failed"
[ $rc = 0 ] || tc_fail "exec handover: the server exited $rc: $(tr '\n' ' ' < "$T/server.err")"
tc_log "exec handover: reply received, session $cid in the new image"

# 3. the new environment does not preload the shim.
tc_bg "$NS_B" timeout 20 "$RUN" "$H" serve "$IP_B" 7602 noshim 2> "$T/server3.err"
SRV=$TC_LAST_PID
tc_wait_port "$NS_B" 7602
out=$(tc_run "$NS_A" timeout 20 "$RUN" "$H" client "$IP_B" 7602 secret-line 2> "$T/client3.err" | wc -c)
wait "$SRV" 2> /dev/null
[ "$out" = 0 ] || tc_fail "no shim after exec: the client received $out bytes of data"
grep -q 'child read: Bad file descriptor after 0 bytes' "$T/server3.err" ||
	tc_fail "no shim after exec: the new program could read the connection: $(tr '\n' ' ' < "$T/server3.err")"
grep -q 'child sessid -' "$T/server3.err" || tc_fail "no shim after exec: unexpected: $(tr '\n' ' ' < "$T/server3.err")"

# 4. posix_spawn (no exec hooks in glibc there): the new program must not
# be able to read the encrypted stream, on either backend. (It once could
# with divert: the parent's TCPCRYPT_SPAWNED list began with a comma, so
# the new image matched no inode, and only eBPF's getsockopt fallback
# caught the socket.)
tc_bg "$NS_B" timeout 20 "$RUN" "$H" spawn "$IP_B" 7603 2> "$T/server4.err"
SRV=$TC_LAST_PID
tc_wait_port "$NS_B" 7603
out=$(tc_run "$NS_A" timeout 20 "$RUN" "$H" client "$IP_B" 7603 secret-line 2> "$T/client4.err" | wc -c)
wait "$SRV" 2> /dev/null
[ "$out" = 0 ] || tc_fail "posix_spawn: the client received $out bytes of data"
grep -q 'child read: Bad file descriptor after 0 bytes' "$T/server4.err" ||
	tc_fail "posix_spawn: the new program could read the connection: $(tr '\n' ' ' < "$T/server4.err")"

# 5. posix_spawn of a program whose environment does not preload the shim
# (/bin/sh, env PATH only), the connection on its fds 0 and 1 by file
# actions: its printf must not put the marker in clear on the wire (it
# did: the raw socket reached it); the write fails, the client gets no data.
ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$T/spawn5.pcap" "tcp port 7604" \
	2> "$T/spawn5.dump" &
DUMP=$!
TC_PIDS+=($DUMP)
for _ in $(seq 1 100); do grep -qs 'listening on' "$T/spawn5.dump" && break; sleep 0.05; done
tc_bg "$NS_B" timeout 20 "$RUN" "$H" spawn "$IP_B" 7604 noshim 2> "$T/server5.err"
SRV=$TC_LAST_PID
tc_wait_port "$NS_B" 7604
out=$(tc_run "$NS_A" timeout 20 "$RUN" "$H" client "$IP_B" 7604 secret-line 2> "$T/client5.err" | wc -c)
wait "$SRV" 2> /dev/null
sleep 0.3
kill "$DUMP"
wait "$DUMP" 2> /dev/null
cid=$(sed -n 's/^client sessid //p' "$T/client5.err")
[ -n "$cid" ] && [ "$cid" != - ] || tc_fail "posix_spawn, no shim: the connection was not encrypted"
! grep -qaF spawn-secret-MARKER "$T/spawn5.pcap" ||
	tc_fail "posix_spawn, no shim: the new program wrote in clear on the encrypted connection"
grep -q 'spawned write failed' "$T/server5.err" ||
	tc_fail "posix_spawn, no shim: the new program's write did not fail: $(tr '\n' ' ' < "$T/server5.err")"
[ "$out" = 0 ] || tc_fail "posix_spawn, no shim: the client received $out bytes of data"
echo "PASS: sessions in a seccomp sandbox and across exec"
