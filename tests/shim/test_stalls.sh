#!/bin/bash
# test_stalls.sh - a peer cannot stall the shim's callers (issue 13):
#  1. 300 connections parked in the key exchange (a listener whose program
#     never accepts), then one more to a server that reads: its "hello",
#     written before its keys existed and never driven by the application
#     (it sleeps), is sent by the shim's progress thread within 1 s (before:
#     the thread watched 256 connections, the parked ones, and the hello
#     left only at close, 3 s later);
#  2. shutdown(SHUT_WR) of a blocking socket whose peer reads nothing, with
#     frames still queued in the shim, returns at once as over plain TCP
#     (before: it waited for the peer forever);
#  3. close() of a connection whose peer does not read yet returns at once
#     (before: up to 2 s); the process exits right after, and the peer still
#     reads every byte and a clean end (the shim's exit finishes the end);
#     the same for a socket in an epoll set, which reports nothing for it
#     after the close;
#     close() with SO_LINGER {1, 0} resets at once, as plain TCP, after the
#     bytes written before the keys (they leave once the keys are there);
#  4. a blocking write queued for keys that never come honours SO_SNDTIMEO;
#  5. part of a frame never makes poll say readable nor a read wait.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_SRCDIR/tests/shim/stalls.py
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP

# 1. parked handshakes
tc_bg "$NS_B" "$RUN" python3 "$PROG" hold 7700 2> "$T/hold.err"
tc_bg "$NS_B" "$RUN" python3 "$PROG" recv 7701 > "$T/recv.out" 2> "$T/recv.err"
tc_wait_port "$NS_B" 7700
tc_wait_port "$NS_B" 7701
tc_run "$NS_A" bash -c 'ulimit -n 4096 && exec timeout 30 "$@"' _ "$RUN" python3 "$PROG" parked "$IP_B" 7700 7701 300 \
	> "$T/parked.out" 2> "$T/parked.err" || { rc=$?; cat "$T/parked.out" "$T/parked.err" >&2; tc_fail "parked: client failed ($rc)"; }
for _ in $(seq 1 50); do grep -q '^got' "$T/recv.out" && break; sleep 0.1; done
wrote=$(awk '/^wrote/ {print $2}' "$T/parked.out")
got=$(awk '/^got/ {print $2}' "$T/recv.out")
[ -n "$wrote" ] && [ -n "$got" ] || tc_fail "parked: no times (client: $(cat "$T/parked.out"), server: $(cat "$T/recv.out" "$T/recv.err"))"
d=$(awk -v a="$wrote" -v b="$got" 'BEGIN {printf "%.3f", b - a}')
tc_log "parked: 300 key exchanges parked; the hello arrived $d s after it was written"
awk -v d="$d" 'BEGIN {exit !(d < 1.0)}' || tc_fail "parked: the hello took $d s: the progress thread did not serve it"

# 2. shutdown(SHUT_WR) with frames queued, the peer not reading
tc_bg "$NS_B" "$RUN" python3 "$PROG" sink 7702 2> "$T/sink.err"
tc_wait_port "$NS_B" 7702
tc_run "$NS_A" timeout 20 "$RUN" python3 "$PROG" shutdown "$IP_B" 7702 > "$T/shut.out" 2> "$T/shut.err"
rc=$?
[ $rc = 124 ] && tc_fail "shutdown(SHUT_WR) hung waiting for a peer that does not read"
[ $rc = 0 ] || { cat "$T/shut.err" >&2; tc_fail "shutdown: client failed ($rc)"; }
s=$(awk '/^shutdown/ {print $2}' "$T/shut.out")
tc_log "shutdown: $(cat "$T/shut.out")"
awk -v s="$s" 'BEGIN {exit !(s < 0.1)}' || tc_fail "shutdown(SHUT_WR) took $s s"
# 3. close() with frames queued, the peer not reading yet (for 1.5 s): it
# returns at once; the process then exits, and its end (the frames, FINp)
# still reaches the peer, which reads every byte and a clean end of stream.
tc_bg "$NS_B" "$RUN" python3 "$PROG" late 7703 1.5 > "$T/late.out" 2> "$T/late.err"
srv=$TC_LAST_PID
tc_wait_port "$NS_B" 7703
tc_run "$NS_A" timeout 20 "$RUN" python3 "$PROG" closer "$IP_B" 7703 > "$T/closer.out" 2> "$T/closer.err" ||
	{ cat "$T/closer.err" >&2; tc_fail "close: client failed"; }
timeout 20 tail --pid="$srv" -f /dev/null
tc_log "close: $(cat "$T/closer.out"); the peer: $(cat "$T/late.out")"
read -r _ c _ n _ < "$T/closer.out"
awk -v c="$c" 'BEGIN {exit !(c < 0.1)}' || tc_fail "close() took $c s: it waited for the peer"
[ "$(cat "$T/late.out")" = "read $n eof" ] || tc_fail "close: the peer got '$(cat "$T/late.out")', expected 'read $n eof'"
# 3b. the same for a socket in an epoll set (event loops: nginx, redis,
# node): close() returns at once too (before: it waited up to 2 s, the
# background end being off for programs that use epoll), the set reports
# nothing for the closed socket afterwards (the peer reads, after 1.5 s,
# which would make it writable), and the peer reads every byte and an end.
tc_bg "$NS_B" "$RUN" python3 "$PROG" late 7705 1.5 > "$T/late2.out" 2> "$T/late2.err"
srv=$TC_LAST_PID
tc_wait_port "$NS_B" 7705
tc_run "$NS_A" timeout 20 "$RUN" python3 "$PROG" closer "$IP_B" 7705 epoll > "$T/closer2.out" 2> "$T/closer2.err" ||
	{ cat "$T/closer2.err" >&2; tc_fail "close (epoll): client failed"; }
timeout 20 tail --pid="$srv" -f /dev/null
tc_log "close (epoll): $(tr '\n' ' ' < "$T/closer2.out"); the peer: $(cat "$T/late2.out")"
read -r _ c _ n _ < <(head -1 "$T/closer2.out")
awk -v c="$c" 'BEGIN {exit !(c < 0.1)}' || tc_fail "close() of a socket in an epoll set took $c s: it waited for the peer"
grep -qx 'events 0' "$T/closer2.out" || tc_fail "close (epoll): the epoll set reported the closed socket: $(tail -1 "$T/closer2.out")"
[ "$(cat "$T/late2.out")" = "read $n eof" ] || tc_fail "close (epoll): the peer got '$(cat "$T/late2.out")', expected 'read $n eof'"
# 3c. close() with SO_LINGER {1, 0} resets the connection at once, as over
# plain TCP: the peer reads what came and then ECONNRESET, never a clean
# end (before: the shim sent its end, FINp, first, and the peer saw EOF).
for m in plain crypt; do
	pre=; [ $m = crypt ] && pre=$RUN
	port=7706; [ $m = crypt ] && port=7707
	tc_bg "$NS_B" $pre python3 "$PROG" rstpeer $port > "$T/rst.$m" 2> "$T/rst.$m.err"
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" $port
	tc_run "$NS_A" timeout 20 $pre python3 "$PROG" abort "$IP_B" $port > "$T/abort.$m" 2> "$T/abort.$m.err" ||
		{ cat "$T/abort.$m.err" >&2; tc_fail "abort ($m): client failed"; }
	timeout 20 tail --pid="$srv" -f /dev/null
	tc_log "abort ($m): $(cat "$T/abort.$m"); the peer: $(cat "$T/rst.$m")"
	[ "$(cat "$T/rst.$m")" = "read 5 ECONNRESET" ] ||
		tc_fail "abort ($m): the peer got '$(cat "$T/rst.$m")', expected 'read 5 ECONNRESET'"
done
# 3d. the same when the bytes were written before the keys (the server
# program accepts 0.5 s late, so Init2 comes after the close): they go
# once the keys are there, then the reset; close() still returns at once
# (before: the reset went at once and the bytes were lost; the peer read
# 0 bytes. CPython's test_ssl preauth tests depend on this).
for m in plain crypt; do
	pre=; [ $m = crypt ] && pre=$RUN
	port=7708; [ $m = crypt ] && port=7709
	tc_bg "$NS_B" $pre python3 "$PROG" rstpeer $port 0.5 > "$T/rstl.$m" 2> "$T/rstl.$m.err"
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" $port
	tc_run "$NS_A" timeout 20 $pre python3 "$PROG" abortnow "$IP_B" $port > "$T/abortl.$m" 2> "$T/abortl.$m.err" ||
		{ cat "$T/abortl.$m.err" >&2; tc_fail "abort before the keys ($m): client failed"; }
	timeout 20 tail --pid="$srv" -f /dev/null
	tc_log "abort before the keys ($m): $(cat "$T/abortl.$m"); the peer: $(cat "$T/rstl.$m")"
	[ "$(cat "$T/rstl.$m")" = "read 5 ECONNRESET" ] ||
		tc_fail "abort before the keys ($m): the peer got '$(cat "$T/rstl.$m")', expected 'read 5 ECONNRESET'"
	read -r _ c < "$T/abortl.$m"
	awk -v c="$c" 'BEGIN {exit !(c < 0.1)}' || tc_fail "abort before the keys ($m): close() took $c s"
done
# 4. a blocking write whose data wait for keys that never come (the server
# program never accepts) honours SO_SNDTIMEO (0.5 s) as over plain TCP,
# where the write gives up once the buffers are full (before: it waited
# forever once the shim's 64 KiB queue was full). Plain first, same host.
for m in plain crypt; do
	pre=; [ $m = crypt ] && pre=$RUN
	tc_run "$NS_A" timeout 20 $pre python3 "$PROG" sndtimeo "$IP_B" 7700 > "$T/sndtimeo.$m" 2> "$T/sndtimeo.$m.err"
	rc=$?
	[ $rc = 124 ] && tc_fail "sndtimeo ($m): a blocking write ignored SO_SNDTIMEO and hung"
	[ $rc = 0 ] || { cat "$T/sndtimeo.$m.err" >&2; tc_fail "sndtimeo ($m): client failed ($rc)"; }
	tc_log "sndtimeo ($m): $(cat "$T/sndtimeo.$m")"
	read -r _ _ w _ n _ e < "$T/sndtimeo.$m"
	[ "$e" = EAGAIN ] || tc_fail "sndtimeo ($m): the write ended with $e, expected EAGAIN"
	awk -v w="$w" 'BEGIN {exit !(w >= 0.4 && w < 3)}' || tc_fail "sndtimeo ($m): the last write waited $w s (SO_SNDTIMEO 0.5 s)"
done
# 5. a frame that arrives slowly (one 60,000-byte write, A's link at
# 2 Mbit/s: about 0.25 s for the frame): the reader's poll + non-blocking
# recv loop never waits inside recv, and poll reports readable only once
# the frame is whole (before: poll woke at its first bytes and recv slept
# up to 20 ms for the rest: an event loop stalled for all its connections).
ip netns exec "$NS_A" tc qdisc add dev "$TC_IF_A" root tbf rate 2mbit burst 4kb latency 1s ||
	tc_fail "trickle: cannot shape A's link (tc qdisc tbf)"
tc_bg "$NS_B" "$RUN" python3 "$PROG" trickle 7704 60000 > "$T/trickle.out" 2> "$T/trickle.err"
srv=$TC_LAST_PID
tc_wait_port "$NS_B" 7704
tc_run "$NS_A" timeout 20 "$RUN" python3 "$PROG" bigwrite "$IP_B" 7704 60000 2> "$T/bigwrite.err" ||
	{ cat "$T/bigwrite.err" "$T/trickle.err" >&2; tc_fail "trickle: the writer failed"; }
timeout 20 tail --pid="$srv" -f /dev/null
ip netns exec "$NS_A" tc qdisc del dev "$TC_IF_A" root
tc_log "trickle: $(cat "$T/trickle.out")"
read -r _ reads _ eagain _ med _ max _ got < "$T/trickle.out"
[ "$got" = 60000 ] || tc_fail "trickle: the reader got $got of 60000 bytes"
awk -v m="$med" 'BEGIN {exit !(m < 5)}' ||
	tc_fail "trickle: recv took $med ms (median of $reads calls, $eagain EAGAIN): it waits for the rest of a frame"
[ "$eagain" = 0 ] || tc_fail "trickle: poll said readable, then recv gave EAGAIN ($eagain times in $reads)"
echo "PASS: parked key exchanges starve nobody; shutdown and close do not wait for the peer; SO_SNDTIMEO holds;" \
	"a partial frame never makes a non-blocking read wait"
