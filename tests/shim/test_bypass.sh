#!/bin/bash
# test_bypass.sh - calls that go around the usual socket functions never
# put clear text on an encrypted connection, and never hand frames to a
# reader as data.
#
# bypass (both ends, in two namespaces) writes a random marker through one
# write path and reads the connection through one read path: pwritev2 and
# preadv2 (offset -1), pwrite/pwritev with an offset, the C library's
# syscall() with the socket system call numbers (data, dup, accept,
# connect), and io_uring set up through syscall(). Everything runs twice:
# plain, then under tcpcrypt-run, with tcpdump on A's veth. Asserts:
#  - plain: every marker that was written is in the capture (the capture
#    sees clear text) and arrives;
#  - encrypted: no marker is anywhere in the capture; the reader gets
#    exactly the marker, or nothing when the write failed; the writer's
#    results are the plain ones (pwrite/pwritev: ESPIPE, as the kernel
#    answers on any socket; pwritev2 with RWF_DONTCACHE: EOPNOTSUPP),
#    except io_uring, refused (ENOSYS) under the shim so that the program
#    falls back to write().
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PROG=$TC_TOP_BUILDDIR/tests/shim/bypass
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$PROG" ] || tc_fail "bypass not built at $PROG"

WRITES="pwritev2 pwritev2-nowait pwritev2-dontcache pwrite pwritev syscall-write syscall-writev syscall-sendto
	syscall-sendmsg syscall-pwritev2 syscall-dup syscall-connect io_uring"
READS=(read preadv2 syscall-read syscall-readv syscall-recvfrom syscall-recvmsg syscall-preadv2
	syscall-accept)

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL

# capture_start NAME / capture_stop: tcpdump on A's veth into $TC_TMP/NAME.pcap.
capture_start() {
	ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$TC_TMP/$1.pcap" \
		"tcp portrange 7320-7399" 2> "$TC_TMP/$1.tcpdump" &
	TC_PIDS+=($!)
	DUMP=$!
	for _ in $(seq 1 100); do
		grep -qs 'listening on' "$TC_TMP/$1.tcpdump" && return
		sleep 0.05
	done
	tc_fail "$1: tcpdump did not start"
}
capture_stop() { sleep 0.3; kill "$DUMP"; wait "$DUMP" 2> /dev/null; }

# phase NAME PREFIX BASEPORT: every write mode once, read modes in turn.
# Writes $TC_TMP/NAME/<mode>.{marker,client,server}.
phase() {
	local name=$1 pre=$2 port=$3 i=0 w r srv d=$TC_TMP/$1
	mkdir -p "$d"
	capture_start "$name"
	for w in $WRITES; do
		r=${READS[i % ${#READS[@]}]}
		i=$((i + 1))
		port=$((port + 1))
		printf 'marker-%s-%s' "$w" "$(head -c 12 /dev/urandom | xxd -p)" > "$d/$w.marker"
		tc_bg "$NS_B" $pre "$PROG" server "$port" "$r" > "$d/$w.server" 2> "$d/$w.serr"
		srv=$TC_LAST_PID
		tc_wait_port "$NS_B" "$port"
		tc_run "$NS_A" timeout 20 $pre "$PROG" client "$IP_B" "$port" "$w" "$(cat "$d/$w.marker")" \
			> "$d/$w.client" 2> "$d/$w.cerr"
		rc=$?
		[ $rc = 0 ] || { cat "$d/$w.client" "$d/$w.cerr" >&2; tc_fail "$name $w: client failed (status $rc)"; }
		timeout 20 tail --pid="$srv" -f /dev/null || tc_fail "$name $w: the server (reading with $r) hangs"
		wait "$srv" || { cat "$d/$w.serr" >&2; tc_fail "$name $w: the server (reading with $r) failed"; }
		echo "$w $r" >> "$d/pairs"
	done
	capture_stop
}

phase plain "" 7320
phase crypt "$RUN" 7360

# Plain: the capture sees what was written, the reader gets it.
for w in $WRITES; do
	d=$TC_TMP/plain
	if grep -q -- ' -1 ' "$d/$w.client"; then
		[ ! -s "$d/$w.server" ] || tc_fail "plain $w: failed but the reader got data"
		continue
	fi
	cmp -s "$d/$w.marker" "$d/$w.server" || tc_fail "plain $w: the reader did not get the marker"
	grep -qaF "$(cat "$d/$w.marker")" "$TC_TMP/plain.pcap" ||
		tc_fail "plain $w: the marker is not in the capture (capture broken?)"
done
grep -qx 'pwrite: -1 ESPIPE' "$TC_TMP/plain/pwrite.client" || tc_fail "plain: pwrite on a socket did not give ESPIPE"
grep -qx 'pwritev: -1 ESPIPE' "$TC_TMP/plain/pwritev.client" || tc_fail "plain: pwritev on a socket did not give ESPIPE"
grep -qx 'io_uring setup: 0' "$TC_TMP/plain/io_uring.client" ||
	tc_skip "io_uring is not available on this kernel ($(cat "$TC_TMP/plain/io_uring.client"))"

# Encrypted: no marker in clear, the reader gets the marker or nothing.
d=$TC_TMP/crypt
tshark -r "$TC_TMP/crypt.pcap" -Y 'tcp.option_kind == 69' 2> /dev/null | grep -q . ||
	tc_fail "crypt: no ENO option in the capture: the connections were not encrypted"
while read -r w r; do
	! grep -qaF "$(cat "$d/$w.marker")" "$TC_TMP/crypt.pcap" || tc_fail "crypt $w: the marker is in clear on the wire"
	if grep -q -- ' -1 ' <(grep -v '^io_uring setup' "$d/$w.client"); then
		[ ! -s "$d/$w.server" ] || tc_fail "crypt $w: the write failed but the reader ($r) got data"
	else
		cmp -s "$d/$w.marker" "$d/$w.server" ||
			tc_fail "crypt $w: the reader ($r) did not get exactly the marker: $(head -c 64 "$d/$w.server" | xxd -p | head -2)"
	fi
	if [ "$w" = io_uring ]; then
		grep -qx 'io_uring setup: -1 ENOSYS' "$d/$w.client" ||
			tc_fail "crypt: io_uring was not refused: $(cat "$d/$w.client")"
	else
		cmp -s "$TC_TMP/plain/$w.client" "$d/$w.client" ||
			tc_fail "crypt $w: the writer's result differs from plain TCP: $(cat "$d/$w.client") vs $(cat "$TC_TMP/plain/$w.client")"
	fi
	tc_log "crypt $w (read with $r): $(cat "$d/$w.client" | tr '\n' ' ')"
done < "$d/pairs"
echo "PASS: no bypass path puts clear text on an encrypted connection"
