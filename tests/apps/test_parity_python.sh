#!/bin/bash
# test_parity_python.sh - semantics parity (issue 13): CPython's own network
# test suite (Debian package libpython3.11-testsuite, written by the CPython
# developers, not here) run plain and then under tcpcrypt-run, in one
# network namespace over loopback, where the shim is on both ends of every
# connection, so that every connection is encrypted. The same tests must
# pass.
#
# The modules (MODULES, SOCKET_CLASSES, SOCKETSERVER, OS_CLASSES) are run with
# regrtest (python3 -m test -j2, per-test-file timeout) once plain and once
# under tcpcrypt-run, each with a capture on lo. Asserts:
#  1. the plain run passed at least MIN_COMPARED tests (a broken or empty
#     run is not a comparison); the tests that skip or fail plain (missing
#     resources, Bluetooth...) are dropped from the comparison and counted;
#  2. every test that passed plain passed under tcpcrypt-run, except those
#     in KNOWN_DIFF (still run and printed, each with its reason);
#  3. the tcpcrypt run's connections were encrypted: every SYN and every
#     SYN-ACK on lo carried TCP-ENO (option kind 69), no shim log line says
#     "plain TCP", the key log holds at least MIN_SESSIONS distinct session
#     IDs and at least 90% as many as there were SYN-ACKs; and no known
#     plaintext of the tests (test_socket's message, an FTP welcome and
#     ABOR, an XML-RPC call, an HTTP request line) is in the capture, while
#     the plain run's capture has each of them (so the check can see them)
#     and neither has ENO on its SYNs;
#  4. urgent data went through: the tcpcrypt capture has URG segments
#     (test_ftplib's abort() sends ABOR with MSG_OOB) as the plain one has.
# Prints: tests compared, passed, differing (with names), sessions, times.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
HELPER=$TC_TOP_SRCDIR/tests/apps/parity_python.py
PYTEST=/usr/lib/python3.11/test
PY=/usr/bin/python3.11
[ -x "$PY" ] || tc_fail "python3.11 not installed: Debian package python3.11 (scripts/install-deps.sh)"
[ -f "$PYTEST/test_socket.py" ] && [ -f "$PYTEST/test_ftplib.py" ] && [ -d "$PYTEST/libregrtest" ] ||
	tc_fail "CPython's test suite is missing: install the Debian package libpython3.11-testsuite (scripts/install-deps.sh)"
app_need tcpdump
app_setup

# Whole modules, run with regrtest -j2 and no extra resources (-u: none, so
# nothing reaches for the Internet). All run offline over loopback.
MODULES=(
	test_selectors test_poll test_select test_epoll
	test_httplib test_httpservers test_urllib2_localnet test_wsgiref
	test_ftplib test_telnetlib test_smtplib test_poplib test_imaplib
	test_nntplib test_xmlrpc test_docxmlrpc test_logging
	test_asyncore test_asynchat test_ssl
	test_asyncio.test_sock_lowlevel test_asyncio.test_streams
	test_asyncio.test_sendfile test_asyncio.test_server
	test_asyncio.test_events test_asyncio.test_base_events
	test_asyncio.test_buffered_proto test_asyncio.test_ssl
	test_asyncio.test_sslproto test_asyncio.test_unix_events
	test_robotparser test_smtpd
)
# test_socket: its TCP classes (regrtest -m). The whole module also holds
# VSOCK, CAN, RDS... tests that hang or skip in a namespace.
SOCKET_CLASSES=(
	BasicTCPTest BasicTCPTest2 TCPCloserTest NonBlockingTCPTests
	FileObjectClassTestCase UnbufferedFileObjectClassTestCase
	LineBufferedFileObjectClassTestCase SmallBufferedFileObjectClassTestCase
	UnicodeReadFileObjectClassTestCase UnicodeWriteFileObjectClassTestCase
	UnicodeReadWriteFileObjectClassTestCase NetworkConnectionNoServer
	NetworkConnectionAttributesTest NetworkConnectionBehaviourTest
	TCPTimeoutTest BufferIOTest ContextManagersTest SendfileUsingSendTest
	SendfileUsingSendfileTest SendmsgTCPTest RecvmsgTCPTest RecvmsgIntoTCPTest
	InterruptedSendTimeoutTest CreateServerTest CreateServerFunctionalTest
	GeneralModuleTests InheritanceTest NonblockConstantTest
)
# test_socketserver asks for the "network" resource though it stays on
# localhost: run alone with -u network.
SOCKETSERVER=test_socketserver
# test_os: os.sendfile() to a TCP socket (regrtest -m TestSendfile).
OS_CLASSES=(TestSendfile)

# Known differences, each still run and printed but not failing the test;
# to be emptied as the shim is fixed. One test id, then the reason.
# TC_PARITY_STRICT=1 fails on these too.
KNOWN_DIFF=(
	# Edge-triggered epoll: after the EPOLLOUT edge that follows connect(),
	# a second epoll_wait must report nothing. Under the shim, when its
	# progress thread takes Init2 before epoll_wait looks, the wake-up
	# Init2 caused is reported as EPOLLOUT alone, which the shim cannot
	# tell from a real edge (the case where EPOLLIN shows is dropped now:
	# shim/epoll.c filter()). Documented in tcpcrypt(7). Fails in some runs.
	test.test_epoll.TestEPoll.test_control_and_wait
	# test_ssl's pre-handshake close: a peer sends plain bytes (not TLS) and
	# closes with SO_LINGER {1, 0}; the TLS side must find the connection
	# reset with those bytes queued. Sent before the keys, the bytes now
	# leave once the keys are there, then the reset (shim/close.c,
	# test_stalls.sh 3d; before, they were lost: 7 failing runs of 12 of
	# these two tests under CPU load). Left: the reset comes a key exchange
	# after close() returned, and the test looks right after close(): 3
	# failing runs of 57 (the one seen in detail:
	# WRONG_VERSION_NUMBER, not reset yet).
	test.test_ssl.TestPreHandshakeClose.test_preauth_data_to_tls_server
	test.test_ssl.TestPreHandshakeClose.test_preauth_data_to_tls_client
)
# Fixed since this list was made, and now compared like any other test:
# test_asynchat test_line_terminator3 (the
# EPROTO: the "sealed" mark set before the state, shim/sock_start.c; the
# SIGSEGV of test_nbsend.sh: the progress thread read a socket whose region
# was not made yet), test_ftplib test_abort (SO_OOBINLINE set while the
# connection negotiates: shim/sock_urg.c, tests/apps/test_oobinline.sh).

MIN_COMPARED=1500
MIN_SESSIONS=1000
# the run plain is about 2.5 min on 2 cores; per test file at most:
FILE_TIMEOUT=240

# run_suite NAME [tcpcrypt-run options...]: the three regrtest runs, results
# in $T/NAME.res, a capture of lo in $T/NAME.pcap, seconds in $T/NAME.time.
run_suite() {
	local name=$1 pre=() m=() c; shift
	[ $# -gt 0 ] && pre=("$RUN" "$@")
	for c in "${SOCKET_CLASSES[@]}"; do m+=(-m "$c"); done
	# headers and the first 150 bytes of each segment's data
	tc_bg "$NS_A" sh -c 'echo $$ > "$0.pid"; exec tcpdump -Z root -i lo -s 200 -U -w "$0" tcp' \
		"$T/$name.pcap" 2> "$T/$name.tcpdump.log"
	local dump i
	for i in $(seq 1 50); do grep -q listening "$T/$name.tcpdump.log" 2> /dev/null && break; sleep 0.1; done
	local t0=$SECONDS rc
	mkdir -p "$T/$name"
	# HOME and the temp dir: the tests write scratch files, keep them in $T
	tc_run "$NS_A" env HOME="$T" TMPDIR="$T/$name" "${pre[@]}" "$PY" -m test -j1 -v \
		--timeout "$FILE_TIMEOUT" --junit-xml "$T/$name-socket.xml" "${m[@]}" test_socket \
		> "$T/$name-socket.out" 2>&1
	rc=$?
	tc_log "$name: test_socket (TCP classes) exited $rc"
	tc_run "$NS_A" env HOME="$T" TMPDIR="$T/$name" "${pre[@]}" "$PY" -m test -j1 -v -u network \
		--timeout "$FILE_TIMEOUT" --junit-xml "$T/$name-socketserver.xml" "$SOCKETSERVER" \
		> "$T/$name-socketserver.out" 2>&1
	rc=$?
	tc_log "$name: $SOCKETSERVER exited $rc"
	m=()
	for c in "${OS_CLASSES[@]}"; do m+=(-m "$c"); done
	tc_run "$NS_A" env HOME="$T" TMPDIR="$T/$name" "${pre[@]}" "$PY" -m test -j1 -v \
		--timeout "$FILE_TIMEOUT" --junit-xml "$T/$name-os.xml" "${m[@]}" test_os \
		> "$T/$name-os.out" 2>&1
	rc=$?
	tc_log "$name: test_os (${OS_CLASSES[*]}) exited $rc"
	tc_run "$NS_A" env HOME="$T" TMPDIR="$T/$name" "${pre[@]}" "$PY" -m test -j2 -v \
		--timeout "$FILE_TIMEOUT" --junit-xml "$T/$name-modules.xml" "${MODULES[@]}" \
		> "$T/$name-modules.out" 2>&1
	rc=$?
	tc_log "$name: ${#MODULES[@]} modules exited $rc"
	echo $((SECONDS - t0)) > "$T/$name.time"
	sleep 0.5
	dump=$(cat "$T/$name.pcap.pid")
	kill -INT "$dump" 2> /dev/null
	for i in $(seq 1 50); do kill -0 "$dump" 2> /dev/null || break; sleep 0.1; done
	local x xs=()
	for x in socket socketserver os modules; do
		[ -s "$T/$name-$x.xml" ] && xs+=("$T/$name-$x.xml") ||
			tc_log "$name: no results from the $x run: $(tail -n 3 "$T/$name-$x.out" | tr '\n' ' ')"
	done
	[ ${#xs[@]} -gt 0 ] || tc_fail "$name: regrtest wrote no results (see above)"
	"$PY" "$HELPER" results "${xs[@]}" > "$T/$name.res" || tc_fail "$name: cannot read regrtest's results"
	tc_log "$name: $(wc -l < "$T/$name.res") tests in $(cat "$T/$name.time") s: $(awk '{print $2}' "$T/$name.res" | sort | uniq -c | tr '\n' ' ')"
}

MARKERS=("Michael Gilfix was here" "220 welcome" $'ABOR\r\n' "<methodCall>" "GET / HTTP/1.")

run_suite plain
run_suite tcpcrypt --log=info --log-file="$T/shim.log" --keylog="$T/keylog"

FAILS=()
soft() { echo "# FAIL: $*" >&2; FAILS+=("$*"); }

# 1 + 2. the comparison
known=$T/known
: > "$known"
[ "${TC_PARITY_STRICT:-0}" = 1 ] ||
	for k in "${KNOWN_DIFF[@]}"; do echo "$k" >> "$known"; done
"$PY" "$HELPER" compare "$T/plain.res" "$T/tcpcrypt.res" "$known" > "$T/compare.out"
crc=$?
sed 's/^/# /' "$T/compare.out" >&2
compared=$(awk '$2 == "pass"' "$T/plain.res" | wc -l)
[ "$compared" -ge $MIN_COMPARED ] ||
	soft "only $compared tests passed plain (at least $MIN_COMPARED expected): the plain run is broken"
ndiff=$(grep -c '^DIFF' "$T/compare.out")
[ $crc = 0 ] || soft "$(grep -c '^DIFF [^(]' "$T/compare.out") tests passed plain and not under tcpcrypt-run (not in KNOWN_DIFF): $(grep '^DIFF [^(]' "$T/compare.out" | awk '{print $2}' | tr '\n' ' ')"

# 3. encrypted, every connection
"$PY" "$HELPER" pcap "$T/plain.pcap" "${MARKERS[@]}" > "$T/plain.cap" || soft "cannot read the plain capture"
"$PY" "$HELPER" pcap "$T/tcpcrypt.pcap" "${MARKERS[@]}" > "$T/tcpcrypt.cap" || soft "cannot read the tcpcrypt capture"
cap() { awk -v k="$2" '$1 == k {print $2; exit}' "$T/$1.cap"; }
tc_log "plain capture: $(grep -v '^marker' "$T/plain.cap" | tr '\n' ' ')"
tc_log "tcpcrypt capture: $(grep -v '^marker' "$T/tcpcrypt.cap" | tr '\n' ' ')"
syn=$(cap tcpcrypt syn) syn_eno=$(cap tcpcrypt syn_eno)
synack=$(cap tcpcrypt synack) synack_eno=$(cap tcpcrypt synack_eno)
[ "${syn:-0}" -ge $MIN_SESSIONS ] || soft "only ${syn:-0} SYNs captured under tcpcrypt"
[ "${syn:-0}" = "${syn_eno:-x}" ] || soft "$((syn - syn_eno)) of $syn SYNs under tcpcrypt-run carried no ENO option"
[ "${synack:-0}" = "${synack_eno:-x}" ] || soft "$((synack - synack_eno)) of $synack SYN-ACKs under tcpcrypt-run carried no ENO option"
[ "$(cap plain syn_eno)" = 0 ] || soft "the plain run's SYNs carried ENO ($(cap plain syn_eno))"
app_keylog_sessions "$T/keylog"
sessions=$APP_SESSIONS
[ "$sessions" -ge $MIN_SESSIONS ] || soft "only $sessions tcpcrypt sessions in the key log (at least $MIN_SESSIONS expected)"
[ $((sessions * 10)) -ge $((${synack:-0} * 9)) ] ||
	soft "$sessions tcpcrypt sessions for $synack connections (SYN-ACKs): under 90%"
logged=$(grep -c 'tcpcrypt session' "$T/shim.log" 2> /dev/null)
nplain=$(grep -c 'plain TCP\|listener plain' "$T/shim.log" 2> /dev/null)
[ "${nplain:-0}" = 0 ] || soft "$nplain shim log lines say a connection or listener stayed plain: $(grep -m2 'plain TCP\|listener plain' "$T/shim.log" | tr '\n' ' ')"
while IFS=$'\t' read -r _ p _ cnt text; do
	[ "${p:-0}" -gt 0 ] || soft "plaintext '$text' not seen in the plain capture: the check cannot see it"
	[ "$cnt" = 0 ] || soft "plaintext '$text' seen $cnt times in the capture under tcpcrypt-run"
	tc_log "plaintext '$text': $p times in the plain capture, $cnt under tcpcrypt-run"
done < <(paste <(grep '^marker' "$T/plain.cap" | cut -f1,2) <(grep '^marker' "$T/tcpcrypt.cap"))

# 4. urgent data
[ "$(cap plain urg)" -gt 0 ] || soft "no URG segment in the plain capture (test_ftplib's abort)"
[ "$(cap tcpcrypt urg)" -gt 0 ] || soft "no URG segment in the capture under tcpcrypt-run (test_ftplib's abort)"

echo "# summary: $compared tests compared, $((compared - ndiff)) passed under tcpcrypt-run, $ndiff differ" \
	"($(grep -c "^DIFF (known)" "$T/compare.out") of them known); $sessions tcpcrypt sessions (key log), $logged session lines," \
	"$synack connections (SYN-ACKs), $syn_eno/$syn SYNs with ENO; plain $(cat "$T/plain.time") s," \
	"tcpcrypt $(cat "$T/tcpcrypt.time") s" >&2
if [ ${#FAILS[@]} != 0 ]; then
	for f in "$T"/tcpcrypt-*.out; do
		grep -E -A12 '^(FAIL|ERROR): ' "$f" | head -n 80 >&2
	done
	app_show "$T/tcpcryptd.log"
	tc_fail "${FAILS[*]}"
fi
echo "PASS: CPython's network tests: of the $compared that pass plain, $((compared - ndiff)) pass under tcpcrypt-run and $ndiff differ, all in KNOWN_DIFF ($sessions sessions, every SYN with ENO, no plaintext on lo)"
