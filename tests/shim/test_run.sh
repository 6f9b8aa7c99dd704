#!/bin/sh
# test_run.sh - the launcher tcpcrypt-run: options, LD_PRELOAD, refusals.
# Needs no root and no daemon.
set -u
RUN=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}/tcpcrypt-run
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$RUN" ] || fail "tcpcrypt-run not built at $RUN"

"$RUN" -V | grep -q '^tcpcrypt-run (tcpcrypt) ' || fail "-V"
"$RUN" --help | grep -q -- '--exclude-ports' || fail "--help"
"$RUN" --bogus true 2>/dev/null; [ $? = 2 ] || fail "an unknown option must exit 2"
"$RUN" 2>/dev/null; [ $? = 2 ] || fail "no command must exit 2"
"$RUN" -l 9 true 2>/dev/null; [ $? = 2 ] || fail "a bad log level must exit 2"
"$RUN" no-such-command-xyz 2>/dev/null; [ $? = 127 ] || fail "a missing command must exit 127"

# LD_PRELOAD: the shim first, an earlier value kept; options become variables.
out=$(LD_PRELOAD= "$RUN" --disable -r --ports=80,443 --exclude-ports 22 --aead chacha20poly1305 \
	--app-aware=mandatory --log=debug --log-file /dev/null --keylog=/dev/null \
	sh -c 'echo "$LD_PRELOAD|$TCPCRYPT_DISABLE|$TCPCRYPT_REQUIRE|$TCPCRYPT_PORTS|$TCPCRYPT_EXCLUDE_PORTS|$TCPCRYPT_AEAD|$TCPCRYPT_APP_AWARE|$TCPCRYPT_LOG|$TCPCRYPT_LOG_FILE|$TCPCRYPT_KEYLOGFILE"' 2>/dev/null)
case $out in
*/libtcpcrypt-shim.so\|1\|1\|80,443\|22\|chacha20poly1305\|mandatory\|debug\|/dev/null\|/dev/null) ;;
*) fail "variables: $out" ;;
esac
out=$(LD_PRELOAD=libc.so.6 "$RUN" --disable sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
case $out in
*/libtcpcrypt-shim.so:libc.so.6) ;;
*) fail "LD_PRELOAD not prepended: $out" ;;
esac

# A static program cannot be preloaded: 126 with a message.
static=
for s in /sbin/ldconfig /usr/sbin/ldconfig; do
	if [ -x "$s" ] && command -v readelf >/dev/null && ! readelf -lW "$s" | grep -q INTERP; then
		msg=$("$RUN" "$s" 2>&1 >/dev/null)
		[ $? = 126 ] || fail "a static program must exit 126"
		echo "$msg" | grep -q 'statically linked' || fail "no message for a static program: $msg"
		static=$s
		break
	fi
done
[ -n "$static" ] || echo "SKIP-PART: shim/test_run.sh: static-ldconfig: no static ldconfig on this host (test_launcher.sh checks a static program of its own)" >&2

# Set-user-ID: 126.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp /bin/true "$tmp/suid" && chmod u+s "$tmp/suid"
"$RUN" "$tmp/suid" 2>/dev/null; [ $? = 126 ] || fail "a set-user-ID program must exit 126"

# The shim itself: loads silently, passes files and pipes through.
out=$(echo hello | "$RUN" cat 2>&1)
case $out in
hello|*'tcpcryptd is not running'*hello) ;;
*) fail "cat under the shim: $out" ;;
esac
echo "PASS: tcpcrypt-run"
