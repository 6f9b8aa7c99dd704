#!/bin/bash
# test_tct_features.sh - tcpcrypt-test names each kernel feature and what
# tcpcryptd reports about it, with the consequence for the user. No real
# daemon: a fake one (socat on a Unix socket) answers "status" with the
# lines the daemon prints ("feature NAME STATE DETAIL...").
#  1. eno loaded, sessions_iter refused, sessions_table loaded, a feature
#     this tcpcrypt-test does not know: -f exits 0; the refused feature is
#     a [ warn ] line with the kernel's reason and "(no loss)", shown even
#     without -v; the unknown line is shown verbatim;
#  2. the iterator and the table both refused: a warning that tcnetstat
#     shows no sessions, exit still 0;
#  3. eno refused: [ FAIL ] with the reason and "nothing is encrypted",
#     exit 1;
#  4. without -f (the full host check) the same feature lines are printed;
#  5. backend divert without feature lines: no eBPF feature is a failure.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"

TT=$TC_TOP_BUILDDIR/tools/tcpcrypt-test/tcpcrypt-test
[ -x "$TT" ] || tc_fail "tcpcrypt-test not built at $TT"
command -v socat > /dev/null || tc_fail "socat not installed (scripts/install-deps.sh)"
T=$TC_TMP
S=$T/control.sock
FAKE_PID=
FAKE_N=0

# fake_daemon FEATURE-LINES...: a control socket that answers any request
# with a status naming these feature lines.
fake_daemon() {
	[ -z "$FAKE_PID" ] || { kill "$FAKE_PID"; wait "$FAKE_PID" 2> /dev/null; }
	# a new socket path each time: nothing of the previous socat's can
	# remove or shadow it
	FAKE_N=$((FAKE_N + 1))
	S=$T/control.$FAKE_N.sock
	{
		printf 'backend %s\ncgroup %s\npin_dir %s\ncontrol %s\npid 4242\nsessions 0\n' \
			"${BACKEND:-ebpf}" "$T/cg" "$T/pins" "$S"
		for l in "$@"; do printf 'feature %s\n' "$l"; done
		printf 'ok\n'
	} > "$T/reply.$FAKE_N"
	socat UNIX-LISTEN:"$S",fork SYSTEM:"read -r req; cat '$T/reply.$FAKE_N'" 2> /dev/null &
	FAKE_PID=$!
	TC_PIDS+=("$FAKE_PID")
	# ready when it accepts (the file exists from bind(), before listen())
	for _ in $(seq 1 50); do
		socat -u OPEN:/dev/null UNIX-CONNECT:"$S" 2> /dev/null && return
		sleep 0.1
	done
	tc_fail "fake daemon did not start"
}
# out FILE: shown on failure
show() { echo "---- $1:" >&2; cat "$1" >&2; }

# 1. An optional feature refused, with the fallback loaded.
fake_daemon "eno loaded sock_ops, setsockopt and getsockopt attached" \
	"sessions_iter refused Operation not permitted (tcnetstat lists from the sessions table instead)" \
	"sessions_table loaded" "frobnicate maybe a feature from the future"
"$TT" -f -u "$S" > "$T/1" 2>&1; rc=$?
[ $rc = 0 ] || { show "$T/1"; tc_fail "-f, iterator refused: exit $rc, not 0"; }
grep -E '^\[ warn \] .*sessions_iter.*refused: Operation not permitted.*tcnetstat lists sessions from the daemon.s table instead \(no loss\)' "$T/1" > /dev/null ||
	{ show "$T/1"; tc_fail "-f: the refused iterator, its reason and its consequence are not shown (without -v)"; }
grep -qF '[ note ] tcpcryptd reports: feature frobnicate maybe a feature from the future' "$T/1" ||
	{ show "$T/1"; tc_fail "-f: the unknown feature line is not shown verbatim"; }
grep -q '^\[  ok  \]' "$T/1" && { show "$T/1"; tc_fail "-f without -v lists passed checks"; }
grep -q 'optional feature' "$T/1" || { show "$T/1"; tc_fail "-f: no summary of the missing optional feature"; }
"$TT" -f -v -u "$S" > "$T/1v" 2>&1 || { show "$T/1v"; tc_fail "-f -v: exit non-zero"; }
grep -qE '^\[  ok  \] tcpcryptd: ENO on the TCP handshake \(feature eno\): .*negotiate tcpcrypt' "$T/1v" ||
	{ show "$T/1v"; tc_fail "-f -v: eno loaded not listed as ok"; }
grep -qE '^\[  ok  \] .*sessions_table.*loaded' "$T/1v" || { show "$T/1v"; tc_fail "-f -v: sessions_table not listed"; }
grep -qE '^\[(  ok  | warn | skip )\] kernel: sock_ops programs' "$T/1v" ||
	{ show "$T/1v"; tc_fail "-f -v: the kernel probe of sock_ops is not listed"; }
grep -qE '^\[(  ok  | warn | skip )\] kernel: BPF iterators' "$T/1v" ||
	[ "$(id -u)" != 0 ] || { show "$T/1v"; tc_fail "-f -v: the kernel probe of iterators is not listed"; }
grep -qE '^\[[^]]*\] kernel: cgroup v2' "$T/1v" || { show "$T/1v"; tc_fail "-f -v: cgroup v2 not listed"; }
grep -qE '^\[[^]]*\] kernel: NFQUEUE' "$T/1v" || { show "$T/1v"; tc_fail "-f -v: NFQUEUE not listed"; }
TCPCRYPT_CONTROL=$S "$TT" -f > "$T/1e" 2>&1 || { show "$T/1e"; tc_fail "TCPCRYPT_CONTROL: not used"; }

# 1b. Listener renewal refused (an older kernel): a warning with the consequence.
fake_daemon "eno loaded" "sessions_iter loaded" "sessions_table off" \
	"late_listen refused bpf_setsockopt in sockopt hooks"
"$TT" -f -u "$S" > "$T/1b" 2>&1; rc=$?
[ $rc = 0 ] || { show "$T/1b"; tc_fail "-f, late_listen refused: exit $rc, not 0"; }
grep -qE '^\[ warn \] .*late_listen.*refused.*stays plain until it is restarted' "$T/1b" ||
	{ show "$T/1b"; tc_fail "-f: the refused late_listen and its consequence are not shown"; }

# 2. No way to list sessions at all: still only a warning.
fake_daemon "eno loaded" "sessions_iter refused Operation not permitted" \
	"sessions_table refused Cannot allocate memory"
"$TT" -f -u "$S" > "$T/2" 2>&1; rc=$?
[ $rc = 0 ] || { show "$T/2"; tc_fail "-f, no sessions list: exit $rc, not 0"; }
[ "$(grep -c '^\[ warn \] .*tcnetstat shows no sessions' "$T/2")" -ge 2 ] ||
	{ show "$T/2"; tc_fail "-f, no sessions list: no warning that tcnetstat shows nothing"; }
grep -qF 'Cannot allocate memory' "$T/2" || { show "$T/2"; tc_fail "-f: the table's reason is not shown"; }

# 3. ENO refused: nothing is encrypted.
fake_daemon "eno refused Operation not permitted (no program puts ENO on the handshake)" \
	"sessions_iter off" "sessions_table loaded"
"$TT" -f -u "$S" > "$T/3" 2>&1; rc=$?
[ $rc = 1 ] || { show "$T/3"; tc_fail "-f, eno refused: exit $rc, not 1"; }
grep -qE '^\[ FAIL \] .*\(feature eno\): refused by the kernel: Operation not permitted.*nothing is encrypted' "$T/3" ||
	{ show "$T/3"; tc_fail "-f, eno refused: reason and consequence not shown"; }

# 4. The full host check prints the same lines (its other checks need a
# real daemon and fail here: only the exit status is not asserted).
fake_daemon "eno loaded" "sessions_iter refused Operation not permitted" "sessions_table loaded"
"$TT" -u "$S" > "$T/4" 2>&1
grep -qE '^\[ warn \] .*sessions_iter.*refused: Operation not permitted.*\(no loss\)' "$T/4" ||
	{ show "$T/4"; tc_fail "host check: the refused iterator is not shown"; }
grep -E '^\[ FAIL \]' "$T/4" | grep -E 'kernel:|feature' &&
	{ show "$T/4"; tc_fail "host check: a feature failed although eno is loaded"; }

# 5. The divert backend: the eBPF features are not needed.
BACKEND=divert fake_daemon
"$TT" -f -v -u "$S" > "$T/5" 2>&1; rc=$?
grep -E '^\[ FAIL \]' "$T/5" | grep -v NFQUEUE &&
	{ show "$T/5"; tc_fail "divert: a failure that is not NFQUEUE's"; }
if grep -q '^\[  ok  \] kernel: NFQUEUE' "$T/5"; then
	[ $rc = 0 ] || { show "$T/5"; tc_fail "divert with NFQUEUE: exit $rc"; }
fi
echo "PASS: tcpcrypt-test names each kernel feature, the daemon's report, the reason and the consequence"
