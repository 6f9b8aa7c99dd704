#!/bin/bash
# test_redis.sh - redis-server, redis-benchmark and redis-cli under
# tcpcrypt-run across two namespaces.
#
# Asserts:
#  1. redis-cli SET of a random 4000-byte value and GET returns it unchanged,
#     and the two redis-cli connections are tcpcrypt sessions (key logs);
#  2. redis-benchmark -c 50 -n 20000 -P 16 -t set,get,lpush (pipelined) and
#     the same without pipelining: exits 0 within its time limit, prints no
#     error, and reports "20000 requests completed" for each of the 3 tests
#     (its CSV has 3 rows with a rate > 0);
#  3. the benchmark connections were tcpcrypt: >= 50 sessions in each run's
#     key log, all in redis-server's key log; the server is still up and
#     answers PING (plain TCP, from an unshimmed redis-cli: fallback works).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_need redis-server redis-cli redis-benchmark
app_setup
PORT=7830
KB=$T/keylog.server
FAILS=()
soft() { echo "# FAIL: $*" >&2; FAILS+=("$*"); }
fail() { app_show "$T/redis.log" "$T/shim-server.log" "$T/shim-client.log"; tc_fail "$*"; }

tc_bg "$NS_B" "$RUN" --keylog="$KB" --log=warn --log-file="$T/shim-server.log" \
	redis-server --bind "$IP_B" --port $PORT --protected-mode no --save '' --appendonly no \
	--dir "$T" --daemonize no --logfile "$T/redis.log"
tc_wait_port "$NS_B" $PORT

cli() { tc_run "$NS_A" timeout 20 "$RUN" --keylog="$T/keylog.cli" --log=warn \
	--log-file="$T/shim-client.log" redis-cli -h "$IP_B" -p $PORT "$@"; }

# 1. SET/GET round trip of a random value.
val=$(head -c 3000 /dev/urandom | base64 -w0)
r=$(cli SET tckey "$val" 2> "$T/cli.err") || { cat "$T/cli.err" >&2; fail "redis-cli SET failed"; }
[ "$r" = OK ] || fail "redis-cli SET answered '$r'"
got=$(cli GET tckey 2> "$T/cli.err") || { cat "$T/cli.err" >&2; fail "redis-cli GET failed"; }
[ "$got" = "$val" ] || fail "GET returned ${#got} bytes that differ from the ${#val} SET"
app_keylog_sessions "$T/keylog.cli"
n=$APP_SESSIONS
[ "$n" = 2 ] || fail "redis-cli's key log names $n sessions, expected 2"
tc_log "redis-cli SET/GET of ${#val} bytes intact over tcpcrypt"

# 2./3. redis-benchmark, pipelined and not.
bench() {
	local name=$1; shift
	local out=$T/bench-$name.out kl=$T/keylog.bench-$name
	tc_run "$NS_A" timeout 60 "$RUN" --keylog="$kl" --log=warn --log-file="$T/shim-client.log" \
		redis-benchmark -h "$IP_B" -p $PORT -c 50 -n 20000 -t set,get,lpush "$@" \
		> "$out" 2> "$T/bench-$name.err"
	local rc=$?
	tr '\r' '\n' < "$out" | grep -Ev '^(SET|GET|LPUSH).*: rps=' | grep -v '^ *$' > "$out.clean"
	grep -E 'requests completed|throughput summary|^ +[0-9.]+ requests per second' "$out.clean" |
		sed "s/^/#   redis-benchmark $name: /" >&2
	[ $rc = 0 ] || { cat "$T/bench-$name.err" >&2; soft "redis-benchmark ($name) exited $rc"; return; }
	[ -s "$T/bench-$name.err" ] && soft "redis-benchmark ($name) stderr: $(head -3 "$T/bench-$name.err")"
	grep -Ei 'error|reset|timeout' "$out.clean" > "$T/bench-$name.bad" &&
		soft "redis-benchmark ($name): $(head -3 "$T/bench-$name.bad")"
	local done
	done=$(grep -c '^ *20000 requests completed in' "$out.clean")
	[ "$done" = 3 ] || soft "redis-benchmark ($name): $done of 3 tests report 20000 requests completed"
	app_keylog_sessions "$kl"
	n=$APP_SESSIONS
	[ "$n" -ge 50 ] || soft "redis-benchmark ($name): $n sessions in its key log, expected >= 50"
	local missing
	missing=$(comm -23 <(sort -u "$kl") <(sort -u "$KB") | wc -l)
	[ "$missing" = 0 ] || soft "redis-benchmark ($name): $missing key log lines not in the server's"
	tc_log "redis-benchmark $name: $n tcpcrypt sessions"
}
bench pipelined -P 16
bench plain-requests

r=$(tc_run "$NS_A" timeout 10 redis-cli -h "$IP_B" -p $PORT PING 2>&1)
[ "$r" = PONG ] || soft "an unshimmed redis-cli got '$r' for PING (fallback to plain TCP)"
grep -qiE 'crash|assert|# (Client|Error).*(reset|protocol error)' "$T/redis.log" &&
	soft "redis.log: $(grep -iE 'crash|assert|protocol error' "$T/redis.log" | head -2)"
[ ${#FAILS[@]} = 0 ] || fail "${FAILS[*]}"
echo "PASS: redis-server, redis-benchmark and redis-cli under tcpcrypt-run"
