# tests/apps/common.sh - helpers shared by the tests/apps scripts; source it
# after tests/lib/netns.sh.
#
#   app_setup                 namespaces, daemon, $RUN, $PY, $T, raised fd limit
#   app_need CMD...           fails the test when a command is missing
#   app_nginx_conf FILE PORT ROOT [extra http directives]
#                             a test nginx config: master + 2 workers, epoll,
#                             sendfile, keepalive, every path under $T
#   app_keylog_sessions FILE  sets APP_SESSIONS to the number of distinct
#                             session IDs in a key log (fails the test on a
#                             malformed line: call it directly, never in $(...),
#                             where tc_fail would exit only the subshell)
#   app_show FILE...          prints files (tail) to stderr, for failures
#   app_ff_profile DIR        a Firefox profile without background networking

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
TCNETSTAT=$TC_TOP_BUILDDIR/tools/tcnetstat/tcnetstat
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

app_need() {
	local c
	for c in "$@"; do
		command -v "$c" > /dev/null 2>&1 || [ -x "$c" ] ||
			tc_fail "$c not installed (scripts/install-deps.sh)"
	done
}

# Commands run at exit before tests/lib/netns.sh's cleanup (tc_cleanup).
APP_EXIT_HOOKS=()
app_cleanup() {
	local rc=$? h f
	# An nginx master that is still alive respawns a worker killed by
	# tc_cleanup, and the new worker can outlive the cleanup: kill the
	# masters first.
	for f in "${T:-/nonexistent}"/nginx-*.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2> /dev/null
	done
	for h in "${APP_EXIT_HOOKS[@]}"; do eval "$h"; done
	(exit $rc)
	tc_cleanup
}

app_setup() {
	tc_require_root
	trap app_cleanup EXIT
	[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
	app_need "$PY"
	tc_netns_setup
	tc_daemon_start
	export TCPCRYPT_CONTROL=$TC_CONTROL
	T=$TC_TMP
	chmod 755 "$T"
	# Many connections at once: the limit is inherited by everything tc_run starts.
	ulimit -n 8192 || tc_fail "cannot raise the fd limit"
}

app_show() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "----- $f (tail)" >&2
		tail -n 40 "$f" >&2
	done
	# APP_KEEP=DIR: keep a copy of the scratch directory for debugging.
	if [ -n "${APP_KEEP:-}" ]; then
		rm -rf "$APP_KEEP" && cp -a "$T" "$APP_KEEP" 2> /dev/null
		echo "# scratch directory copied to $APP_KEEP" >&2
	fi
}

# app_nginx_conf FILE PORT ROOT [extra http-level directives]
app_nginx_conf() {
	local f=$1 port=$2 root=$3 extra=${4:-}
	mkdir -p "$T/ngx-tmp"
	cat > "$f" <<EOF
# tcpcrypt test nginx: master process + 2 workers forked from it
daemon off;
master_process on;
worker_processes 2;
user root;
pid $T/nginx-$port.pid;
error_log $T/nginx-$port.error.log notice;
worker_rlimit_nofile 8192;
events {
	use epoll;
	worker_connections 8192;
	multi_accept on;
}
http {
	access_log ${NGX_ACCESS_LOG:-$T/nginx-$port.access.log};
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_timeout 65;
	keepalive_requests 1000000;
	client_body_temp_path $T/ngx-tmp/body;
	proxy_temp_path $T/ngx-tmp/proxy;
	fastcgi_temp_path $T/ngx-tmp/fastcgi;
	uwsgi_temp_path $T/ngx-tmp/uwsgi;
	scgi_temp_path $T/ngx-tmp/scgi;
	types {
		text/html html;
		image/png png;
		application/octet-stream bin;
	}
	default_type application/octet-stream;
	$extra
	server {
		listen $IP_B:$port;
		server_name test;
		root $root;
	}
}
EOF
}

# Sets APP_SESSIONS to the number of distinct sessions in key log $1 (0 if
# it does not exist); fails the test on a malformed line. A variable, not
# output: in $(...) the tc_fail would end only the subshell.
app_keylog_sessions() {
	local f=$1 bad
	APP_SESSIONS=0
	[ -f "$f" ] || return 0
	bad=$(grep -Ev '^TCPCRYPT_(ES|SS) 23[0-9a-f]{64} [0-9a-f]{64}$' "$f")
	[ -z "$bad" ] || tc_fail "malformed key log line in $f: $(head -1 <<< "$bad")"
	APP_SESSIONS=$(grep '^TCPCRYPT_SS ' "$f" | awk '{print $2}' | sort -u | wc -l)
}

# A Firefox profile in directory $1 whose user.js turns off all background
# networking (updates, telemetry, safe browsing, captive portal, DoH...).
app_ff_profile() {
	mkdir -p "$1"
	cat > "$1/user.js" << 'EOF'
user_pref("app.update.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.normandy.enabled", false);
user_pref("app.shield.optoutstudies.enabled", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.startup.page", 0);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.newtabpage.activity-stream.feeds.telemetry", false);
user_pref("browser.newtabpage.activity-stream.telemetry", false);
user_pref("browser.ping-centre.telemetry", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.downloads.remote.enabled", false);
user_pref("browser.safebrowsing.blockedURIs.enabled", false);
user_pref("browser.safebrowsing.provider.google.updateURL", "");
user_pref("browser.safebrowsing.provider.google4.updateURL", "");
user_pref("browser.safebrowsing.provider.mozilla.updateURL", "");
user_pref("browser.region.network.url", "");
user_pref("browser.region.update.enabled", false);
user_pref("browser.search.update", false);
user_pref("browser.topsites.contile.enabled", false);
user_pref("captivedetect.canonicalURL", "");
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("extensions.systemAddon.update.enabled", false);
user_pref("geo.provider.network.url", "");
user_pref("media.gmp-manager.url", "");
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.dns.disableIPv6", true);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.http.speculative-parallel-limit", 0);
user_pref("network.predictor.enabled", false);
user_pref("network.prefetch-next", false);
user_pref("network.proxy.type", 0);
user_pref("network.trr.mode", 5);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("toolkit.telemetry.archive.enabled", false);
user_pref("toolkit.telemetry.server", "");
user_pref("toolkit.coverage.endpoint.base", "");
EOF
}
