#!/bin/bash
# test_conformance.sh - the conformance program, across two namespaces,
# must pass identically on plain TCP and under tcpcrypt-run.
#
# Asserts:
#  1. plain (no shim, no daemon): every case passes at both ends, and
#     TCP_CRYPT_SESSID fails with ENOPROTOOPT (--expect none);
#  2. both ends under tcpcrypt-run, with tcpcryptd on the test cgroup: every
#     case passes at both ends over IPv4 (--expect crypt: a 33-byte session ID
#     starting 0x23, except the "noenc" case: ENOTCONN at both ends), and a
#     few cases over IPv6;
#  3. for every encrypted case the client and the server print the same
#     session ID, and no two connections share one.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

CONF=$TC_TOP_BUILDDIR/tests/shim/conformance
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$CONF" ] || tc_fail "conformance not built at $CONF"

tc_netns_setup
PORT=7100   # PORT+1 stays closed: the nonblock case connects there

# run_pair NAME EXPECT SERVER_PREFIX CLIENT_PREFIX HOST [client args]
run_pair() {
	local name=$1 expect=$2 spre=$3 cpre=$4 host=$5 srv_rc cli_rc
	shift 5
	tc_bg "$NS_B" $spre "$CONF" server $PORT --expect "$expect" > "$TC_TMP/$name.server" 2>&1
	local spid=$TC_LAST_PID
	tc_wait_port "$NS_B" $PORT
	tc_run "$NS_A" $cpre "$CONF" client "$host" $PORT --expect "$expect" "$@" \
		> "$TC_TMP/$name.client" 2>&1
	cli_rc=$?
	wait "$spid"
	srv_rc=$?
	if [ $cli_rc != 0 ] || [ $srv_rc != 0 ]; then
		sed "s/^/#   client: /" "$TC_TMP/$name.client" >&2
		sed "s/^/#   server: /" "$TC_TMP/$name.server" >&2
		[ -f "$TC_TMP/tcpcryptd.log" ] && tail -20 "$TC_TMP/tcpcryptd.log" | sed "s/^/#   tcpcryptd: /" >&2
		tc_fail "$name: conformance failed (client exit $cli_rc, server exit $srv_rc): $(grep -h '^FAIL' "$TC_TMP/$name.client" "$TC_TMP/$name.server" | head -3 | tr '\n' ';')"
	fi
	tc_log "$name: $(grep -c '^ok' "$TC_TMP/$name.client") cases passed at both ends"
}

# check_sessids NAME: same ID at both ends of each case, all IDs distinct.
check_sessids() {
	local name=$1 c s n=0 case
	while read -r _ _ case c; do
		s=$(awk -v k="$case" '$1 == "sessid" && $2 == "server" && $3 == k { print $4 }' "$TC_TMP/$name.server")
		[ "$c" = "$s" ] || tc_fail "$name/$case: session IDs differ: client $c, server $s"
		if [ "$case" = noenc ]; then
			[ "$c" = ENOTCONN ] || tc_fail "$name/noenc: expected ENOTCONN, got $c"
			continue
		fi
		[[ $c =~ ^23[0-9a-f]{64}$ ]] || tc_fail "$name/$case: session ID '$c' is not 33 bytes starting 23"
		n=$((n + 1))
	done < <(grep '^sessid client' "$TC_TMP/$name.client")
	[ $n -ge 3 ] || tc_fail "$name: only $n encrypted cases"
	local dups
	dups=$(grep '^sessid client' "$TC_TMP/$name.client" | awk '$4 != "ENOTCONN" {print $4}' | sort | uniq -d)
	[ -z "$dups" ] || tc_fail "$name: two connections share the session ID $dups"
	tc_log "$name: $n session IDs equal at both ends and distinct"
}

# 1. Plain TCP, no shim.
run_pair plain none "" "" "$IP_B"
grep -q '^sessid client rw ENOPROTOOPT' "$TC_TMP/plain.client" ||
	tc_fail "plain: TCP_CRYPT_SESSID without the shim is not ENOPROTOOPT"

# 2. Under tcpcrypt-run, with the daemon.
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
run_pair crypt crypt "$RUN" "$RUN" "$IP_B"
check_sessids crypt
run_pair crypt6 crypt "$RUN" "$RUN" "$IP6_B" --case rw --case ready --case shutdown
check_sessids crypt6

# The same cases passed both ways.
diff <(grep '^ok' "$TC_TMP/plain.client") <(grep '^ok' "$TC_TMP/crypt.client") >&2 ||
	tc_fail "the cases that pass differ with and without the shim"
echo "PASS: conformance identical on plain TCP and under tcpcrypt-run"
