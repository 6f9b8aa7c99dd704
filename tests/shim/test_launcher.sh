#!/bin/bash
# test_launcher.sh - tcpcrypt-run, the launcher, without any network.
#
# Asserts:
#  1. -h and -V exit 0 and print usage / a version; no command, an unknown
#     option, a bad value: exit non-zero;
#  2. it prepends the shim to LD_PRELOAD and keeps what was there;
#  3. every option maps to its TCPCRYPT_* variable (tcpcrypt(7)): -l/--log,
#     --log-file, -r/--require, --ports, --exclude-ports, --aead,
#     --app-aware[=mandatory], --disable, --keylog;
#  4. it refuses (non-zero exit, the program not run, a message) a
#     set-user-ID program, a set-group-ID program and a static program, and
#     a command that does not exist;
#  5. the shim writes nothing to the application's output when no logging
#     was asked for, and the command's exit status is passed through;
#  6. it lives at the top of the build tree: `./tcpcrypt-run CMD` from
#     there, and the same script by a relative path from elsewhere, map the
#     build tree's shim (shim/.libs) into CMD; in a git checkout the file an
#     in-tree build generates there is ignored by git.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
BUILT_SHIM=$TC_TOP_BUILDDIR/shim/.libs/libtcpcrypt-shim.so
STATIC=$TC_TOP_BUILDDIR/tests/shim/static_true
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$STATIC" ] || tc_fail "static_true not built at $STATIC"
[ -f "$BUILT_SHIM" ] || tc_fail "shim not built at $BUILT_SHIM"
T=$TC_TMP
unset LD_PRELOAD TCPCRYPT_LOG TCPCRYPT_LOG_FILE TCPCRYPT_REQUIRE TCPCRYPT_PORTS \
	TCPCRYPT_EXCLUDE_PORTS TCPCRYPT_AEAD TCPCRYPT_APP_AWARE TCPCRYPT_DISABLE TCPCRYPT_KEYLOGFILE
export TCPCRYPT_CONTROL=$T/no-daemon.sock   # quiet: no real daemon is consulted

# 1. Usage.
"$RUN" -h > "$T/h" 2>&1 || tc_fail "tcpcrypt-run -h exits non-zero"
grep -qi usage "$T/h" || tc_fail "tcpcrypt-run -h prints no usage"
"$RUN" -V > "$T/v" 2>&1 || tc_fail "tcpcrypt-run -V exits non-zero"
grep -q '[0-9]\.[0-9]' "$T/v" || tc_fail "tcpcrypt-run -V prints no version: $(cat "$T/v")"
"$RUN" > /dev/null 2>&1 && tc_fail "tcpcrypt-run without a command exits 0"
"$RUN" --no-such-option true > /dev/null 2>&1 && tc_fail "tcpcrypt-run accepts an unknown option"
"$RUN" --app-aware=sometimes true > /dev/null 2>&1 && tc_fail "tcpcrypt-run accepts --app-aware=sometimes"

# 2. LD_PRELOAD: the shim first, the old value kept.
OTHER=$(ldconfig -p | awk '/libm\.so\.6 .*x86-64/ {print $NF; exit}')
[ -n "$OTHER" ] || OTHER=$(ls /lib/*/libm.so.6 | head -1)
LD_PRELOAD=$OTHER "$RUN" env 2> /dev/null | grep '^LD_PRELOAD=' > "$T/preload"
pre=$(cut -d= -f2- "$T/preload")
first=${pre%%:*}
[[ $first == */libtcpcrypt-shim.so ]] && [ -f "$first" ] ||
	tc_fail "LD_PRELOAD does not start with the shim: '$pre'"
[[ :$pre: == *":$OTHER:"* ]] || tc_fail "the previous LD_PRELOAD ($OTHER) was dropped: '$pre'"
nm -D --defined-only "$first" | grep -qw connect || tc_fail "$first does not define connect()"

# 3. Options -> variables.
envof() { "$RUN" "$@" env 2> /dev/null | grep '^TCPCRYPT_' | grep -v '^TCPCRYPT_CONTROL=' | sort; }
want() { # want "OPTIONS" "VAR=VALUE..." (alternatives for one variable: A|B)
	local got
	got=$(envof $1)
	local v
	for v in $2; do
		local ok=0 alt
		IFS='|' read -ra alts <<< "$v"
		for alt in "${alts[@]}"; do grep -qxF "$alt" <<< "$got" && ok=1; done
		[ $ok = 1 ] || tc_fail "tcpcrypt-run $1: expected $v in the environment, got: $(tr '\n' ' ' <<< "$got")"
	done
}
want "-l 3" "TCPCRYPT_LOG=3"
want "--log=4" "TCPCRYPT_LOG=4"
want "--log-file=$T/log" "TCPCRYPT_LOG_FILE=$T/log"
want "--log-file $T/log2" "TCPCRYPT_LOG_FILE=$T/log2"
want "-r" "TCPCRYPT_REQUIRE=1"
want "--require" "TCPCRYPT_REQUIRE=1"
want "--ports 80,443,8000-8100" "TCPCRYPT_PORTS=80,443,8000-8100"
want "--exclude-ports=22" "TCPCRYPT_EXCLUDE_PORTS=22"
want "--aead chacha20poly1305" "TCPCRYPT_AEAD=chacha20poly1305"
want "--app-aware" "TCPCRYPT_APP_AWARE=1"
want "--app-aware=mandatory" "TCPCRYPT_APP_AWARE=mandatory|TCPCRYPT_APP_AWARE=2"
want "--disable" "TCPCRYPT_DISABLE=1"
want "--keylog $T/keys" "TCPCRYPT_KEYLOGFILE=$T/keys"
[ -z "$(envof)" ] || tc_fail "tcpcrypt-run without options sets $(envof | tr '\n' ' ')"

# 4. Programs it must refuse.
refuse() { # refuse WHAT PROGRAM
	local rc
	"$RUN" "$2" > "$T/out" 2> "$T/err"
	rc=$?
	[ $rc != 0 ] || tc_fail "tcpcrypt-run runs a $1 program (exit 0)"
	[ -s "$T/err" ] || tc_fail "tcpcrypt-run refuses a $1 program without a message"
	[ ! -e "$T/ran" ] || tc_fail "tcpcrypt-run refused a $1 program but ran it"
	tc_log "$1: exit $rc: $(head -1 "$T/err")"
}
printf '#!/bin/sh\ntouch %s/ran\n' "$T" > "$T/prog"
cp "$T/prog" "$T/suid" && chmod 4755 "$T/suid" || tc_fail "cannot make a set-user-ID copy"
cp "$T/prog" "$T/sgid" && chmod 2755 "$T/sgid" || tc_fail "cannot make a set-group-ID copy"
refuse set-user-ID "$T/suid"
refuse set-group-ID "$T/sgid"
"$STATIC" || tc_fail "static_true itself fails"
refuse static "$STATIC"
refuse missing "$T/no-such-program"

# 5. Silent shim, exit status passed through.
"$RUN" /bin/echo hello > "$T/out" 2> "$T/err"
[ "$(cat "$T/out")" = hello ] || tc_fail "the shim changed the program's output: $(cat "$T/out")"
grep -v '^tcpcrypt-run: warning: tcpcryptd is not running' "$T/err" > "$T/err2"
[ ! -s "$T/err2" ] || tc_fail "the shim wrote to stderr without logging asked for: $(cat "$T/err2")"
"$RUN" sh -c 'exit 7'
[ $? = 7 ] || tc_fail "the command's exit status is not passed through"

# 6. From the top of the build tree: the build tree's shim, mapped.
maps_of() { # maps_of DIR RUN: the shim lines of CMD's own /proc/self/maps
	(cd "$1" && "$2" sh -c 'cat /proc/$$/maps' 2> /dev/null) | grep -F libtcpcrypt-shim.so
}
built=$(cd "$(dirname "$BUILT_SHIM")" && pwd -P)/libtcpcrypt-shim.so
maps_of "$TC_TOP_BUILDDIR" ./tcpcrypt-run > "$T/maps" ||
	tc_fail "./tcpcrypt-run in $TC_TOP_BUILDDIR: the shim is not mapped into the command"
grep -qF "$built" "$T/maps" || tc_fail "./tcpcrypt-run maps another shim than the build tree's: $(head -1 "$T/maps")"
rel=$(realpath --relative-to="$T" "$TC_TOP_BUILDDIR")/tcpcrypt-run
maps_of "$T" "$rel" | grep -qF "$built" || tc_fail "$rel (relative, from $T) does not map $built"
# An in-tree build generates ./tcpcrypt-run in the source tree: git ignores it.
if git -C "$TC_TOP_SRCDIR" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
	git -C "$TC_TOP_SRCDIR" check-ignore -q tcpcrypt-run ||
		tc_fail "git does not ignore the ./tcpcrypt-run an in-tree build generates"
	git -C "$TC_TOP_SRCDIR" status --porcelain -- tcpcrypt-run | grep -q . &&
		tc_fail "git status shows ./tcpcrypt-run"
fi
echo "PASS: tcpcrypt-run options, LD_PRELOAD, refusals, ./tcpcrypt-run from the build tree"
