#!/bin/bash
# test_nginx.sh - nginx (master + 2 forked workers, epoll, sendfile,
# keepalive) under tcpcrypt-run, serving static files to a shimmed curl and
# a shimmed wrk across two namespaces.
#
# Asserts:
#  1. one curl process fetches files of 1 B, 1000 B, 70 KB, 1 MB and 50 MB
#     (random data) over one keep-alive connection, then each again on a
#     connection of its own: every sha256 is intact;
#  2. the connections were tcpcrypt: curl's key log and nginx's key log (the
#     workers inherit TCPCRYPT_KEYLOGFILE) are well formed, name the same
#     sessions with the same secrets, one session per curl connection (6);
#  3. a shimmed wrk (-t2 -c50 -d5s, keep-alive) against the same nginx: no
#     socket errors, no non-2xx answers, > 0 requests, and its 50 connections
#     are tcpcrypt sessions (>= 50 in wrk's key log) found in nginx's key log.
#     wrk counts a read() that fails with EAGAIN after epoll reported EPOLLIN
#     as a read error, so this also checks that readiness is truthful;
#  4. nginx's error log has no [alert]/[crit]/[emerg] line and both workers
#     are still alive (none crashed under the shim).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_need nginx curl wrk sha256sum
app_setup
PORT=7810
KA=$T/keylog.curl KW=$T/keylog.wrk KB=$T/keylog.nginx
mkdir "$T/www"
head -c 1 /dev/urandom > "$T/www/f1.bin"
head -c 1000 /dev/urandom > "$T/www/f1000.bin"
head -c 70000 /dev/urandom > "$T/www/f70k.bin"
head -c 1000000 /dev/urandom > "$T/www/f1m.bin"
head -c 50000000 /dev/urandom > "$T/www/f50m.bin"
FILES="f1 f1000 f70k f1m f50m"
app_nginx_conf "$T/nginx.conf" $PORT "$T/www"

tc_bg "$NS_B" "$RUN" --keylog="$KB" --log=warn --log-file="$T/shim-nginx.log" \
	nginx -p "$T" -c "$T/nginx.conf" > "$T/nginx.out" 2>&1
tc_wait_port "$NS_B" $PORT
sleep 0.3
nworkers=$(pgrep -P "$(cat "$T/nginx-$PORT.pid")" -c)
[ "$nworkers" = 2 ] || tc_fail "expected 2 nginx workers, found $nworkers"

fail() { app_show "$T/curl.err" "$T/nginx-$PORT.error.log" "$T/shim-nginx.log" "$T/nginx.out"; tc_fail "$*"; }

# 1. curl: all files on one keep-alive connection, then one connection each.
args=()
for f in $FILES; do args+=(-o "$T/ka-$f.got" "http://$IP_B:$PORT/$f.bin"); done
tc_run "$NS_A" timeout 60 "$RUN" --keylog="$KA" curl -sS --fail "${args[@]}" 2> "$T/curl.err" ||
	fail "curl (keep-alive, 5 files) failed"
for f in $FILES; do
	tc_run "$NS_A" timeout 60 "$RUN" --keylog="$KA" curl -sS --fail -o "$T/one-$f.got" \
		"http://$IP_B:$PORT/$f.bin" 2>> "$T/curl.err" || fail "curl $f.bin failed"
done
for f in $FILES; do
	want=$(sha256sum < "$T/www/$f.bin")
	for g in ka one; do
		[ "$(sha256sum < "$T/$g-$f.got")" = "$want" ] ||
			fail "$f.bin ($g): sha256 differs, got $(stat -c %s "$T/$g-$f.got") of $(stat -c %s "$T/www/$f.bin") bytes"
	done
done
tc_log "curl: 10 downloads (1 B .. 50 MB) intact"

# 2. Key logs: 6 curl sessions, the same on the nginx side.
sleep 0.2
app_keylog_sessions "$KA"
n=$APP_SESSIONS
[ "$n" = 6 ] || fail "curl's key log names $n sessions, expected 6 (1 keep-alive + 5): not tcpcrypt?"
app_keylog_sessions "$KB"
n=$APP_SESSIONS
[ "$n" -ge 6 ] || fail "nginx's key log names $n sessions, expected 6: the workers do not encrypt?"
missing=$(comm -23 <(sort -u "$KA") <(sort -u "$KB"))
[ -z "$missing" ] || fail "curl's key log lines not in nginx's (different secrets?): $(head -2 <<< "$missing")"
tc_log "curl + nginx: 6 tcpcrypt sessions, both key logs agree"

# 3. wrk, 50 keep-alive connections for 5 s.
tc_run "$NS_A" timeout 30 "$RUN" --keylog="$KW" wrk -t2 -c50 -d5s --timeout 5s \
	"http://$IP_B:$PORT/f1000.bin" > "$T/wrk.out" 2>&1 || { cat "$T/wrk.out" >&2; fail "wrk failed"; }
sed 's/^/#   wrk: /' "$T/wrk.out" >&2
grep -q '^Socket errors' "$T/wrk.out" &&
	! grep -Eq '^Socket errors: connect 0, read 0, write 0, timeout 0$' "$T/wrk.out" &&
	fail "wrk: $(grep '^Socket errors' "$T/wrk.out")"
grep -q 'Non-2xx' "$T/wrk.out" && fail "wrk: $(grep 'Non-2xx' "$T/wrk.out")"
reqs=$(awk '/requests in/ {print $1}' "$T/wrk.out")
[ -n "$reqs" ] && [ "$reqs" -gt 0 ] || fail "wrk completed no requests"
sleep 0.2
app_keylog_sessions "$KW"
n=$APP_SESSIONS
[ "$n" -ge 50 ] || fail "wrk's key log names $n sessions, expected 50 (one per connection)"
missing=$(comm -23 <(sort -u "$KW") <(sort -u "$KB"))
[ -z "$missing" ] || fail "wrk's sessions missing from nginx's key log: $(head -2 <<< "$missing")"
tc_log "wrk: $reqs requests, $(awk '/^Requests\/sec/ {print $2}' "$T/wrk.out") req/s (informational), 50 tcpcrypt sessions"

# 4. nginx is healthy.
grep -E '\[(alert|crit|emerg)\]' "$T/nginx-$PORT.error.log" > "$T/bad.log" &&
	fail "nginx error log: $(head -3 "$T/bad.log")"
nworkers=$(pgrep -P "$(cat "$T/nginx-$PORT.pid")" -c)
[ "$nworkers" = 2 ] || fail "nginx has $nworkers workers left, expected 2"
echo "PASS: nginx under tcpcrypt-run: curl downloads intact, wrk clean, all sessions tcpcrypt"
