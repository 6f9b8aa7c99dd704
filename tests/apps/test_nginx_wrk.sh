#!/bin/bash
# test_nginx_wrk.sh - load: a shimmed wrk with 1000 concurrent connections
# against a shimmed nginx (master + 2 workers, epoll), 20 s keep-alive, then
# 20 s with "Connection: close" (a new tcpcrypt handshake per request).
#
# Asserts, for each run:
#  1. wrk exits 0 and completed requests;
#  2. no socket errors (no "Socket errors" line, or all of connect, read,
#     write and timeout 0) and no "Non-2xx or 3xx responses" line (wrk
#     counts a read that answers EAGAIN after epoll said readable as a
#     read error: the shim's hidden wake-ups must stay hidden);
#  3. the connections were tcpcrypt: wrk's key log names at least 1000
#     sessions (keep-alive run) / at least as many sessions as requests
#     (Connection: close run), every one of them also in nginx's key log;
#  4. nginx logged no [alert]/[crit]/[emerg] and still has both workers.
# Requests/s is printed for information only. On socket errors, the test
# prints what wrk's failed reads got (apps/readlog.c: errno or EOF, and
# after what) and the kernel's TCP counters of both ends.
# TC_WRK_SECS (default 20) sets each run's length and TC_WRK_RUNS (default
# "keepalive close") which runs are made, for hunting rare failures.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_need nginx wrk
app_setup
SHIM=$TC_TOP_BUILDDIR/shim/.libs/libtcpcrypt-shim.so
READLOG=$TC_TOP_BUILDDIR/tests/apps/.libs/libreadlog.so
[ -f "$SHIM" ] && [ -f "$READLOG" ] || tc_fail "not built: $SHIM or $READLOG"
[ "$(ulimit -n)" -ge 4096 ] || tc_fail "fd limit $(ulimit -n) is too low for 1000 connections"
PORT=7820
KB=$T/keylog.nginx
mkdir "$T/www"
head -c 1000 /dev/urandom > "$T/www/f1000.bin"
NGX_ACCESS_LOG=off app_nginx_conf "$T/nginx.conf" $PORT "$T/www"

tc_bg "$NS_B" "$RUN" --keylog="$KB" --log=warn --log-file="$T/shim-nginx.log" \
	nginx -p "$T" -c "$T/nginx.conf" > "$T/nginx.out" 2>&1
tc_wait_port "$NS_B" $PORT
sleep 0.3
master=$(cat "$T/nginx-$PORT.pid")

FAILS=()
# Checks that fail are collected so that both runs are reported.
soft() { echo "# FAIL: $*" >&2; FAILS+=("$*"); }
fail() { app_show "$T/nginx-$PORT.error.log" "$T/shim-nginx.log" "$T/shim-wrk.log" "$T/nginx.out"; tc_fail "$*"; }

# run NAME KEYLOG [wrk args...]
run_wrk() {
	local name=$1 kl=$2; shift 2
	tc_tcp_counters "$NS_A" "$T/tcp-a.$name"
	tc_tcp_counters "$NS_B" "$T/tcp-b.$name"
	# readlog (before the shim) records what wrk's failed reads got
	tc_run "$NS_A" env LD_PRELOAD="$READLOG:$SHIM" READLOG_FILE="$T/reads-$name.log" \
		timeout $((${TC_WRK_SECS:-20} + 25)) "$RUN" --keylog="$kl" --log=warn --log-file="$T/shim-wrk.log" \
		wrk -t2 -c1000 -d"${TC_WRK_SECS:-20}"s --timeout 5s "$@" "http://$IP_B:$PORT/f1000.bin" \
		> "$T/wrk-$name.out" 2>&1 || { cat "$T/wrk-$name.out" >&2; fail "wrk ($name) failed"; }
	sed "s/^/#   wrk $name: /" "$T/wrk-$name.out" >&2
	tc_log "wrk $name: TCP counters, client:$(tc_tcp_counters_diff "$NS_A" "$T/tcp-a.$name")"
	tc_log "wrk $name: TCP counters, nginx:$(tc_tcp_counters_diff "$NS_B" "$T/tcp-b.$name")"
	REQS=$(awk '/requests in/ {print $1}' "$T/wrk-$name.out")
	[ -n "$REQS" ] && [ "$REQS" -gt 0 ] || fail "wrk ($name) completed no requests"
	if grep -q '^ *Socket errors' "$T/wrk-$name.out" &&
		! grep -Eq '^ *Socket errors: connect 0, read 0, write 0, timeout 0$' "$T/wrk-$name.out"; then
		sed "s/^/#   wrk $name, failed read: /" "$T/reads-$name.log" 2> /dev/null | tail -20 >&2
		soft "wrk ($name): $(grep 'Socket errors' "$T/wrk-$name.out")"
	fi
	grep -q 'Non-2xx' "$T/wrk-$name.out" && soft "wrk ($name): $(grep 'Non-2xx' "$T/wrk-$name.out")"
	tc_log "wrk $name: $REQS requests, $(awk '/^Requests\/sec/ {print $2}' "$T/wrk-$name.out") req/s (informational)"
}

RUNS=" ${TC_WRK_RUNS:-keepalive close} "
# 1. keep-alive
if [[ $RUNS == *" keepalive "* ]]; then
run_wrk keepalive "$T/keylog.ka"
sleep 0.5
app_keylog_sessions "$T/keylog.ka"
n=$APP_SESSIONS
[ "$n" -ge 1000 ] || soft "keep-alive: wrk's key log names $n sessions, expected >= 1000"
missing=$(comm -23 <(sort -u "$T/keylog.ka") <(sort -u "$KB") | wc -l)
[ "$missing" = 0 ] || soft "keep-alive: $missing of wrk's key log lines are not in nginx's"
tc_log "keep-alive: $n tcpcrypt sessions"
fi

# 2. Connection: close
if [[ $RUNS == *" close "* ]]; then
run_wrk close "$T/keylog.close" -H "Connection: close"
sleep 0.5
app_keylog_sessions "$T/keylog.close"
n=$APP_SESSIONS
[ "$n" -ge "$REQS" ] || soft "Connection: close: wrk's key log names $n sessions for $REQS requests"
missing=$(comm -23 <(sort -u "$T/keylog.close") <(sort -u "$KB") | wc -l)
[ "$missing" = 0 ] || soft "Connection: close: $missing of wrk's key log lines are not in nginx's"
tc_log "Connection: close: $n tcpcrypt sessions"
fi

[ ${#FAILS[@]} = 0 ] || fail "${FAILS[*]}"
grep -E '\[(alert|crit|emerg)\]' "$T/nginx-$PORT.error.log" > "$T/bad.log" &&
	fail "nginx error log: $(head -3 "$T/bad.log")"
nworkers=$(pgrep -P "$master" -c)
[ "$nworkers" = 2 ] || fail "nginx has $nworkers workers left, expected 2"
echo "PASS: wrk -c1000 against nginx under tcpcrypt-run: no errors, every connection tcpcrypt"
