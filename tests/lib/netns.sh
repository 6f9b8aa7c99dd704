# tests/lib/netns.sh - shared setup for the integration tests; source it.
#
# Every test builds its own hosts: network namespaces joined by veth pairs,
# addresses in 10.200.0.0/16 (and fd54:6300::/32 for IPv6) that exist only
# inside them, a cgroup of its own to which its own tcpcryptd attaches, and
# a bpffs pin directory of its own. A trap removes all of it (processes by
# PID, namespaces, cgroup, pins) on exit, even when the test fails.
#
#   tc_require_root
#   tc_netns_setup            # two hosts: $NS_A ($IP_A, $IP6_A) <-> $NS_B ($IP_B, $IP6_B)
#   tc_netns_setup routed     # A <-> R <-> B, with $NS_R forwarding between them
#   tc_cgroup_setup           # $TC_CGROUP: a cgroup v2 directory for this test
#   tc_daemon_start [args]    # tcpcryptd on $TC_CGROUP, pins in $TC_PIN_DIR, control $TC_CONTROL
#   tc_daemon_stop            # clean stop (SIGTERM), waits for it
#   (TCPCRYPT_TEST_BACKEND=divert: a divert tcpcryptd in each of A and B instead,
#    and tc_run/tc_bg give each command its namespace's TCPCRYPT_CONTROL)
#   tc_run NS cmd...          # runs cmd inside netns NS and inside $TC_CGROUP
#   tc_bg NS cmd...           # same, in the background; its PID is remembered and killed at exit
#   tc_wait_port NS PORT      # waits until something listens on TCP PORT in NS
#   tc_fail "message"         # prints FAIL: message and exits 1 (from a subshell too)
#   tc_skip "reason"          # prints SKIP: reason and exits 77 (the whole test)
#   tc_skip_part NAME "reason" # says a part was not run (counted by run-all.sh)
#
# Variables the tests may read: TC_TOP_BUILDDIR, TC_TOP_SRCDIR, TC_TMP
# (a scratch directory removed at exit), TCPCRYPTD (path of the daemon).

set -u
TC_TOP_BUILDDIR=${top_builddir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TC_TOP_SRCDIR=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TCPCRYPTD=${TCPCRYPTD:-$TC_TOP_BUILDDIR/tools/tcpcryptd/tcpcryptd}
TC_ID=$$
TC_N=$(( (TC_ID % 60) * 2 + 2 ))        # even subnet number, 2..120
TC_TMP=$(mktemp -d /tmp/tcpcrypt-test.XXXXXX)
TC_PIDS=()
TC_NETNS=()
TC_CGROUP=
TC_CG_ROOT=${TC_CG_ROOT:-/sys/fs/cgroup/unified}
TC_PIN_DIR=/sys/fs/bpf/tcpcrypt-test-$TC_ID
TC_CONTROL=/run/tcpcrypt-test-$TC_ID.sock
TC_DAEMON_PID=
TC_DIVERT_PIDS=()
# Which backend tc_daemon_start starts: bpf (default) or divert.
TCPCRYPT_TEST_BACKEND=${TCPCRYPT_TEST_BACKEND:-bpf}

TC_MAIN_PID=$BASHPID
# tc_fail ends the test even when called in a subshell ($(...), a pipeline):
# the subshell's exit alone would let the test go on, so it also signals
# the test's own shell, which exits 1 (after the subshell has ended).
tc_fail() {
	echo "FAIL: $*" >&2
	[ "$BASHPID" = "$TC_MAIN_PID" ] || kill -USR1 "$TC_MAIN_PID" 2> /dev/null
	exit 1
}
trap 'exit 1' USR1
tc_skip() { echo "SKIP: $*" >&2; exit 77; }
# tc_skip_part NAME REASON: a part of the test that cannot run here. Says
# so ("SKIP-PART: test: NAME: REASON" in the log); tests/run-all.sh counts
# these and fails on any not listed in tests/skip-allowed.
tc_skip_part() {
	local part=$1 t=/$0; shift
	echo "SKIP-PART: ${t##*/tests/}: $part: $*" >&2
}
tc_log()  { echo "# $*" >&2; }

tc_require_root() {
	[ "$(id -u)" = 0 ] || tc_fail "integration tests need root (run make check as root)"
}

tc_cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM USR1
	for pid in "${TC_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${TC_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	if [ -n "$TC_DAEMON_PID" ]; then
		kill -TERM "$TC_DAEMON_PID" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$TC_DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$TC_DAEMON_PID" 2>/dev/null
	fi
	for ns in "${TC_NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$TC_CGROUP" ] && [ -d "$TC_CGROUP" ]; then
		# Detach anything still attached (a daemon killed by the test), then remove.
		if command -v bpftool >/dev/null; then
			bpftool cgroup show "$TC_CGROUP" 2>/dev/null | awk 'NR>1 && $1 ~ /^[0-9]+$/ {print $1, $2}' |
			while read -r id type; do
				bpftool cgroup detach "$TC_CGROUP" "$type" id "$id" 2>/dev/null
			done
		fi
		while read -r pid; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; done < "$TC_CGROUP/cgroup.procs" 2>/dev/null
		# Killed processes leave the cgroup only once they have exited.
		for _ in $(seq 1 50); do rmdir "$TC_CGROUP" 2>/dev/null && break; sleep 0.1; done
		[ -d "$TC_CGROUP" ] && echo "# warning: could not remove $TC_CGROUP" >&2
	fi
	rm -rf "$TC_PIN_DIR" 2>/dev/null
	rm -f "$TC_CONTROL"
	rm -rf "$TC_TMP"
	exit $rc
}
trap tc_cleanup EXIT
trap 'exit 130' INT TERM

tc_netns_setup() {
	local mode=${1:-direct}
	NS_A=tcA-$TC_ID NS_B=tcB-$TC_ID NS_R=
	ip netns add "$NS_A" || tc_fail "ip netns add"
	TC_NETNS+=("$NS_A")
	ip netns add "$NS_B" || tc_fail "ip netns add"
	TC_NETNS+=("$NS_B")
	for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
	if [ "$mode" = routed ]; then
		NS_R=tcR-$TC_ID
		ip netns add "$NS_R" || tc_fail "ip netns add"
		TC_NETNS+=("$NS_R")
		ip -n "$NS_R" link set lo up
		ip link add va-$TC_ID netns "$NS_A" type veth peer name ra-$TC_ID netns "$NS_R"
		ip link add vb-$TC_ID netns "$NS_B" type veth peer name rb-$TC_ID netns "$NS_R"
		IP_A=10.200.$TC_N.1 IP_RA=10.200.$TC_N.254
		IP_B=10.200.$((TC_N + 1)).1 IP_RB=10.200.$((TC_N + 1)).254
		IP6_A=fd54:6300:$TC_N::1 IP6_B=fd54:6300:$((TC_N + 1))::1
		ip -n "$NS_A" addr add "$IP_A/24" dev va-$TC_ID
		ip -n "$NS_A" -6 addr add "$IP6_A/64" dev va-$TC_ID nodad
		ip -n "$NS_R" addr add "$IP_RA/24" dev ra-$TC_ID
		ip -n "$NS_R" -6 addr add "fd54:6300:$TC_N::fe/64" dev ra-$TC_ID nodad
		ip -n "$NS_B" addr add "$IP_B/24" dev vb-$TC_ID
		ip -n "$NS_B" -6 addr add "$IP6_B/64" dev vb-$TC_ID nodad
		ip -n "$NS_R" addr add "$IP_RB/24" dev rb-$TC_ID
		ip -n "$NS_R" -6 addr add "fd54:6300:$((TC_N + 1))::fe/64" dev rb-$TC_ID nodad
		for l in "$NS_A va" "$NS_B vb" "$NS_R ra" "$NS_R rb"; do
			set -- $l; ip -n "$1" link set "$2-$TC_ID" up
		done
		ip -n "$NS_A" route add default via "$IP_RA"
		ip -n "$NS_B" route add default via "$IP_RB"
		ip -n "$NS_A" -6 route add default via "fd54:6300:$TC_N::fe"
		ip -n "$NS_B" -6 route add default via "fd54:6300:$((TC_N + 1))::fe"
		ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		TC_IF_RA=ra-$TC_ID TC_IF_RB=rb-$TC_ID
	else
		ip link add va-$TC_ID netns "$NS_A" type veth peer name vb-$TC_ID netns "$NS_B"
		IP_A=10.200.$TC_N.1 IP_B=10.200.$TC_N.2
		IP6_A=fd54:6300:$TC_N::1 IP6_B=fd54:6300:$TC_N::2
		ip -n "$NS_A" addr add "$IP_A/24" dev va-$TC_ID
		ip -n "$NS_B" addr add "$IP_B/24" dev vb-$TC_ID
		ip -n "$NS_A" -6 addr add "$IP6_A/64" dev va-$TC_ID nodad
		ip -n "$NS_B" -6 addr add "$IP6_B/64" dev vb-$TC_ID nodad
		ip -n "$NS_A" link set va-$TC_ID up
		ip -n "$NS_B" link set vb-$TC_ID up
	fi
	TC_IF_A=va-$TC_ID TC_IF_B=vb-$TC_ID
	export NS_A NS_B NS_R IP_A IP_B IP6_A IP6_B
}

tc_cgroup_setup() {
	[ -f "$TC_CG_ROOT/cgroup.procs" ] || tc_fail "no cgroup v2 at $TC_CG_ROOT"
	TC_CGROUP=$TC_CG_ROOT/tcpcrypt-test-$TC_ID
	mkdir -p "$TC_CGROUP" || tc_fail "mkdir $TC_CGROUP"
	export TC_CGROUP
}

# Runs "$@" in netns $1 and in the test cgroup (when there is one).
# With TCPCRYPT_TEST_BACKEND=divert, TCPCRYPT_CONTROL names the divert
# daemon of that namespace.
tc_run() {
	local ns=$1; shift
	if [ "$TCPCRYPT_TEST_BACKEND" = divert ]; then
		set -- env TCPCRYPT_CONTROL="$TC_TMP/ctl-$ns" "$@"
	fi
	if [ -n "$TC_CGROUP" ]; then
		# Join the cgroup before entering the netns: `ip netns exec` mounts
		# the namespace's own sysfs, where /sys/fs/cgroup is not mounted.
		bash -c 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" "${@:2}"' \
			"$TC_CGROUP" "$ns" "$@"
	else
		ip netns exec "$ns" "$@"
	fi
}

tc_bg() {
	tc_run "$@" &
	TC_PIDS+=($!)
	TC_LAST_PID=$!
}

# tc_tcp_counters NS FILE: saves the TCP counters of netns NS (nstat's
# absolute values) to FILE. tc_tcp_counters_diff NS FILE then logs, one
# line, the counters that changed since, as NAME+DELTA, leaving out those
# of ordinary traffic: what remains names resets, listen overflows and
# aborts, what the kernel saw when a load test goes wrong.
tc_tcp_counters() {
	ip netns exec "$1" nstat -asz 2>/dev/null | awk 'NR > 1 && $1 ~ /^(Tcp|TcpExt)/ {print $1, $2}' > "$2"
}
tc_tcp_counters_diff() {
	local now
	now=$(mktemp "$TC_TMP/nstat.XXXXXX")
	tc_tcp_counters "$1" "$now"
	awk 'NR == FNR {a[$1] = $2; next}
	     ($1 in a) && $2 != a[$1] && $1 !~ /^Tcp(Ext)?(InSegs|OutSegs|ActiveOpens|PassiveOpens|CurrEstab|TCPHPHits|TCPPureAcks|TCPHPAcks|TCPOrigDataSent|TCPAutoCorking|TCPRcvCoalesce|TCPBacklogCoalesce|DelayedACKs|TCPDelivered|TW|TCPKeepAlive)$/ {
		printf " %s+%d", $1, $2 - a[$1]} END {print ""}' "$2" "$now"
	rm -f "$now"
}

tc_wait_port() {
	local ns=$1 port=$2 i
	for i in $(seq 1 100); do
		ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	tc_fail "nothing listens on port $port in $ns"
}

# The divert backend (TCPCRYPT_TEST_BACKEND=divert): one `tcpcryptd -b
# divert --netns NS` for each host namespace (A and B), control socket
# $TC_TMP/ctl-<ns>; $TC_CONTROL becomes A's. The daemons run as processes
# of a namespace of their own ($NS_D), so a test that kills every process
# of A or B does not kill them.
tc_divert_start() {
	local ns i
	TC_DIVERT_PIDS=()
	if [ -z "${NS_D:-}" ]; then
		NS_D=tcD-$TC_ID
		ip netns add "$NS_D" || tc_fail "ip netns add"
		TC_NETNS+=("$NS_D")
	fi
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$NS_D" "$TCPCRYPTD" -b divert -p 7 --netns "$ns" -u "$TC_TMP/ctl-$ns" "$@" \
			2> "$TC_TMP/tcpcryptd-$ns.log" &
		TC_DIVERT_PIDS+=($!)
		TC_PIDS+=($!)
	done
	TC_CONTROL=$TC_TMP/ctl-$NS_A
	for ns in "$NS_A" "$NS_B"; do
		for i in $(seq 1 100); do
			[ -S "$TC_TMP/ctl-$ns" ] && break
			[ "$i" = 100 ] && { cat "$TC_TMP"/tcpcryptd-*.log >&2; tc_fail "divert tcpcryptd did not come up in $ns"; }
			sleep 0.05
		done
	done
}

tc_daemon_start() {
	[ -x "$TCPCRYPTD" ] || tc_fail "tcpcryptd not built at $TCPCRYPTD"
	if [ "$TCPCRYPT_TEST_BACKEND" = divert ]; then
		tc_divert_start "$@"
		return
	fi
	[ -n "$TC_CGROUP" ] || tc_cgroup_setup
	"$TCPCRYPTD" --cgroup "$TC_CGROUP" --pin-dir "$TC_PIN_DIR" --control "$TC_CONTROL" "$@" \
		2> "$TC_TMP/tcpcryptd.log" &
	TC_DAEMON_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -S "$TC_CONTROL" ] && return 0
		kill -0 "$TC_DAEMON_PID" 2>/dev/null || { cat "$TC_TMP/tcpcryptd.log" >&2; tc_fail "tcpcryptd exited"; }
		sleep 0.05
	done
	cat "$TC_TMP/tcpcryptd.log" >&2
	tc_fail "tcpcryptd did not come up"
}

tc_daemon_stop() {
	if [ "$TCPCRYPT_TEST_BACKEND" = divert ]; then
		local p rc=0
		for p in "${TC_DIVERT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
		for p in "${TC_DIVERT_PIDS[@]}"; do wait "$p" 2>/dev/null || rc=$?; done
		TC_DIVERT_PIDS=()
		return $rc
	fi
	[ -n "$TC_DAEMON_PID" ] || return 0
	kill -TERM "$TC_DAEMON_PID"
	wait "$TC_DAEMON_PID" 2>/dev/null
	local rc=$?
	TC_DAEMON_PID=
	return $rc
}
