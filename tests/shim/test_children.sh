#!/bin/bash
# test_children.sh - nothing the shim does not hook writes in clear on an
# encrypted connection, or reads its frames as data (tests/shim/children.c;
# issue 12, items 1 and 2). Both ends under tcpcrypt-run; a capture on A's
# veth.
#
# For each way, a fresh encrypted connection carrying "first\n", then a
# random marker written by that way, then "last\n". Asserts:
#  1. children without the shim's hooks (system, popen, vfork + exec,
#     clone + exec, posix_spawn with the socket put on fd 3 by a file
#     action, fork + exec without LD_PRELOAD): the marker never appears in
#     the capture, and the server reads exactly "first\nlast\n" then EOF
#     (the child got EBADF, never the raw socket); the same for system() in
#     a child forked while the connect was in progress and negotiated by
#     its parent;
#     and the program still sees FD_CLOEXEC as it set it (F_SETFD,
#     FIOCLEX/FIONCLEX, dup, dup2, dup3, F_DUPFD_CLOEXEC) while the kernel
#     keeps the socket from system()'s shell;
#  2. stdio: a FILE from fdopen() (fgets of the server's hello, fprintf of
#     the marker) and an inetd-style program that inherits the connection
#     on fds 0 and 1 across exec (fgets(stdin), printf): the marker never
#     appears in the capture, the server reads "first\nMARKER\nlast\n",
#     and the hello was read as "server-hello";
#  3. execle() under the shim passes its environment argument on.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

C=$TC_TOP_BUILDDIR/tests/shim/children
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$C" ] || tc_fail "children not built at $C"
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
command -v tcpdump > /dev/null || tc_fail "tcpdump not installed (scripts/install-deps.sh)"

# execle() under the shim passes its environment on.
out=$("$RUN" "$C" execle 2> "$TC_TMP/execle.err")
[ "$out" = execle-env ] || tc_fail "execle under the shim lost its environment: '$out' $(cat "$TC_TMP/execle.err")"

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP

ip netns exec "$NS_A" tcpdump -i "$TC_IF_A" --immediate-mode -U -s 0 -w "$T/cap.pcap" tcp \
	2> "$T/tcpdump.err" &
TC_PIDS+=($!)
DUMP=$!
for i in $(seq 1 100); do
	grep -qs 'listening on' "$T/tcpdump.err" && break
	sleep 0.05
done
grep -q 'listening on' "$T/tcpdump.err" || tc_fail "tcpdump did not start"

fails=()
port=7900
declare -A MARK
for how in system popen vfork clone spawn noshim view forkwin fdopen stdio; do
	port=$((port + 1))
	MARK[$how]=marker-$how-$(head -c 12 /dev/urandom | xxd -p)
	tc_bg "$NS_B" timeout 20 "$RUN" "$C" sink "$IP_B" $port "$T/$how.recv" 2> "$T/$how.sink"
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" $port
	tc_run "$NS_A" timeout 20 "$RUN" "$C" client "$IP_B" $port $how "${MARK[$how]}" \
		> "$T/$how.out" 2> "$T/$how.err"
	wait "$srv" 2> /dev/null
	[ $how = forkwin ] || grep -q '^client sessid yes' "$T/$how.err" ||
		tc_fail "$how: the connection was not encrypted: $(tr '\n' ' ' < "$T/$how.err")"
	case $how in
	fdopen | stdio)
		want=$(printf 'first\n%s\nlast\n' "${MARK[$how]}")
		grep -qx 'hello: server-hello' "$T/$how.out" "$T/$how.err" ||
			fails+=("$how: the server's hello was not read as plaintext: $(grep -h hello: "$T/$how.out" "$T/$how.err" | cat -v | head -c 200)")
		;;
	view)
		want=$(printf 'first\nlast\n')
		grep -qx 'view: ok' "$T/$how.out" ||
			fails+=("view: fcntl(F_GETFD) does not report what the program set: $(grep view: "$T/$how.out" | tr '\n' ' ')")
		;;
	*)
		want=$(printf 'first\nlast\n')
		;;
	esac
	got=$(cat "$T/$how.recv" 2> /dev/null)
	[ "$got" = "$want" ] && grep -q 'EOF' "$T/$how.sink" ||
		fails+=("$how: the server read '$(printf %s "$got" | cat -v | tr '\n' '|' | head -c 200)' ($(cat "$T/$how.sink")), expected '$(printf %s "$want" | tr '\n' '|')'; client: $(tr '\n' ' ' < "$T/$how.out") $(tr '\n' ' ' < "$T/$how.err")")
	tc_log "$how: server read '$(printf %s "$got" | cat -v | tr '\n' '|' | head -c 100)' ($(cat "$T/$how.sink")); $(tr '\n' ' ' < "$T/$how.out")"
done
sleep 0.3
kill "$DUMP"
wait "$DUMP" 2> /dev/null
[ -s "$T/cap.pcap" ] || tc_fail "empty capture"
for how in "${!MARK[@]}"; do
	! grep -qaF "${MARK[$how]}" "$T/cap.pcap" || fails+=("$how: the marker is in clear on the wire")
done
grep -qaF 'first' "$T/cap.pcap" && fails+=("'first' is in clear on the wire (the shim's own path)")
if [ ${#fails[@]} -gt 0 ]; then
	printf 'FAIL: %s\n' "${fails[@]}" >&2
	exit 1
fi
echo "PASS: no clear text from children without hooks or from stdio; the peer reads only plaintext"
