#!/bin/bash
# test_nginx_late.sh - order of start with nginx: nginx (master + 2 forked
# workers) under tcpcrypt-run starts BEFORE tcpcryptd; once tcpcryptd runs,
# within BOUND seconds requests are encrypted, and then 12 requests of 12
# (one curl connection each) are tcpcrypt sessions, named alike in curl's
# and nginx's key logs. The workers inherited a listener that was not
# opted in: the renewal of the shared listening socket must reach them.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_need nginx curl
tc_require_root
trap app_cleanup EXIT
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
BOUND=${BOUND:-3}
PORT=7812
tc_netns_setup
[ "$TCPCRYPT_TEST_BACKEND" = divert ] || tc_cgroup_setup
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
chmod 755 "$T"
KA=$T/keylog.curl KB=$T/keylog.nginx
mkdir "$T/www"
echo hello > "$T/www/index.html"
app_nginx_conf "$T/nginx.conf" $PORT "$T/www"
# nginx clears its workers' environment: keep the divert daemon's address
echo "env TCPCRYPT_CONTROL;" >> "$T/nginx.conf"

tc_bg "$NS_B" "$RUN" --keylog="$KB" --log=info --log-file="$T/shim-nginx.log" \
	nginx -p "$T" -c "$T/nginx.conf" > "$T/nginx.out" 2>&1
tc_wait_port "$NS_B" $PORT
sleep 0.3
fail() { app_show "$T/curl.err" "$T/nginx-$PORT.error.log" "$T/shim-nginx.log" "$T/nginx.out"; tc_fail "$*"; }

get() {
	tc_run "$NS_A" timeout 10 "$RUN" --keylog="$KA" curl -sS --fail -o /dev/null \
		"http://$IP_B:$PORT/index.html" 2>> "$T/curl.err" || fail "curl failed"
}

get
app_keylog_sessions "$KA"
[ "$APP_SESSIONS" = 0 ] || fail "a session before tcpcryptd runs?"
tc_daemon_start
t0=$(date +%s%N)
while get; app_keylog_sessions "$KA"; [ "$APP_SESSIONS" = 0 ]; do
	(( ($(date +%s%N) - t0) / 1000000 < BOUND * 1000 )) || fail "still plain ${BOUND}s after tcpcryptd started"
	sleep 0.2
done
tc_log "nginx started first: encrypted after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
app_keylog_sessions "$KA"
n0=$APP_SESSIONS
for i in $(seq 1 12); do get; done
sleep 0.2
app_keylog_sessions "$KA"
n=$(( APP_SESSIONS - n0 ))
[ "$n" = 12 ] || fail "$n of 12 requests were tcpcrypt sessions"
missing=$(comm -23 <(sort -u "$KA") <(sort -u "$KB"))
[ -z "$missing" ] || fail "curl's key log lines not in nginx's: $(head -2 <<< "$missing")"
echo "PASS: nginx started before tcpcryptd: 12 of 12 requests encrypted"
