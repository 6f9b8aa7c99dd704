#!/bin/bash
# test_install.sh - `make install DESTDIR=...` installs a working tcpcrypt,
# and `make uninstall DESTDIR=...` takes every file back.
#
# The installed files name their final paths (tcpcrypt-run knows the shim
# as $pkglibdir/libtcpcrypt-shim.so, tcpcrypt-test knows both), so the
# installed programs are run where those paths hold: in a private mount
# namespace in which a read-only overlay puts $DESTDIR$prefix over $prefix
# (the host's own files stay visible underneath, and the host sees
# nothing). Nothing is rebuilt or relocated; no environment variable
# points anything at the DESTDIR.
#  1. every expected file is installed (libraries, headers, .pc, shim
#     module without .la, launcher, tools, daemon, man pages, systemd unit);
#  2. the INSTALLED tcpcryptd, on this test's cgroup, and the INSTALLED
#     tcpcrypt-run at both ends make an encrypted connection across two
#     namespaces (same session ID in both key logs, the installed shim
#     mapped in the server, data echoed intact);
#  3. the INSTALLED tcpcrypt-test checks the host (finding the installed
#     launcher and shim) and the peer; the installed tcnetstat answers;
#  4. a program built with `pkg-config libtcpcrypt` against the installed
#     headers and library runs;
#  5. `make uninstall DESTDIR=...` leaves no file (only empty directories).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

B=$TC_TOP_BUILDDIR
D=$TC_TMP/root
T=$TC_TMP
command -v socat > /dev/null || tc_fail "socat not installed (scripts/install-deps.sh)"
# make of the build tree, without the MAKEFLAGS of a surrounding make check
bmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$B" "$@"; }
# var NAME: the value of an installation directory variable of the build.
var() { printf 'tc-print-var:\n\t@echo $(%s)\n' "$1" | bmake -s -f Makefile -f - tc-print-var; }
for v in prefix exec_prefix bindir sbindir libdir includedir mandir pkglibdir; do
	val=$(var $v) && [ -n "$val" ] || tc_fail "cannot read $v from $B/Makefile"
	eval "$v=\$val"
done
unitdir=$(printf 'tc-print-var:\n\t@echo $(systemdsystemunitdir)\n' |
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$B/tools" -f Makefile -f - tc-print-var)
for p in "$prefix" "$exec_prefix"; do
	[ -d "$p" ] || tc_skip "prefix $p does not exist on this host: nothing to lay the installation over"
done

# 1. Install.
bmake install DESTDIR="$D" > "$T/install.log" 2>&1 || { tail -30 "$T/install.log" >&2; tc_fail "make install failed"; }
for f in "$bindir/tcpcrypt-run" "$bindir/tcpcrypt-test" "$bindir/tcnetstat" "$sbindir/tcpcryptd"; do
	[ -x "$D$f" ] || tc_fail "not installed or not executable: $f"
done
for f in "$pkglibdir/libtcpcrypt-shim.so" "$libdir/libtcpcrypt.so" "$libdir/pkgconfig/libtcpcrypt.pc" \
	"$includedir/tcpcrypt/tcpcrypt.h" "$includedir/tcpcrypt/eno_abi.h" \
	"$mandir/man1/tcpcrypt-run.1" "$mandir/man1/tcpcrypt-test.1" "$mandir/man3/libtcpcrypt.3" \
	"$mandir/man7/tcpcrypt.7" "$mandir/man8/tcpcryptd.8" "$mandir/man8/tcnetstat.8"; do
	[ -e "$D$f" ] || tc_fail "not installed: $f"
done
[ ! -e "$D$pkglibdir/libtcpcrypt-shim.la" ] || tc_fail "the shim module was installed with a .la"
UNIT=checked
if [ -z "$unitdir" ]; then
	UNIT=SKIPPED
	tc_skip_part systemd-unit "configured --without-systemdsystemunitdir: no unit installed to check"
else
	grep -qx "ExecStart=$sbindir/tcpcryptd" "$D$unitdir/tcpcryptd.service" ||
		tc_fail "no systemd unit $unitdir/tcpcryptd.service starting $sbindir/tcpcryptd"
fi
grep -q "^PKGLIBDIR='$pkglibdir'$" "$D$bindir/tcpcrypt-run" ||
	tc_fail "the installed tcpcrypt-run does not look for the shim in $pkglibdir"

# inst CMD...: CMD where the installation is at its final paths (same PID).
roots=$prefix
[ "$exec_prefix" = "$prefix" ] || roots="$roots $exec_prefix"
cat > "$T/inst.sh" <<EOF_INST
#!/bin/sh
set -e
for p in $roots; do
	mount -t overlay tcpcrypt-inst -o "lowerdir=$D\$p:\$p" "\$p"
done
exec "\$@"
EOF_INST
chmod +x "$T/inst.sh"
INST=(unshare -m --propagation private "$T/inst.sh")
inst() { "${INST[@]}" "$@"; }
inst true || tc_fail "cannot lay $D$prefix over $prefix in a private mount namespace"

# 2. The installed daemon and launcher.
tc_netns_setup
tc_cgroup_setup
# Not through the inst function: backgrounded, it would run in a subshell and
# $! would not be the daemon's PID (unshare and inst.sh exec into it).
"${INST[@]}" "$sbindir/tcpcryptd" --cgroup "$TC_CGROUP" --pin-dir "$TC_PIN_DIR" \
	--control "$TC_CONTROL" 2> "$T/tcpcryptd.log" &
TC_DAEMON_PID=$!
for _ in $(seq 1 100); do
	[ -S "$TC_CONTROL" ] && break
	kill -0 "$TC_DAEMON_PID" 2>/dev/null || { cat "$T/tcpcryptd.log" >&2; tc_fail "installed tcpcryptd exited"; }
	sleep 0.05
done
[ -S "$TC_CONTROL" ] || tc_fail "installed tcpcryptd did not come up"
export TCPCRYPT_CONTROL=$TC_CONTROL
head -c 200000 /dev/urandom > "$T/data"
tc_bg "$NS_B" "${INST[@]}" env TCPCRYPT_KEYLOGFILE="$T/kb" timeout 30 "$bindir/tcpcrypt-run" \
	socat TCP-LISTEN:7800,reuseaddr EXEC:cat
tc_wait_port "$NS_B" 7800
srv=$(ip netns pids "$NS_B" | while read -r p; do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = socat ] && echo "$p"; done | head -1)
[ -n "$srv" ] || tc_fail "no socat server in $NS_B"
grep -q " $pkglibdir/libtcpcrypt-shim.so$" "/proc/$srv/maps" ||
	tc_fail "the server did not map the installed shim $pkglibdir/libtcpcrypt-shim.so"
tc_run "$NS_A" "${INST[@]}" env TCPCRYPT_KEYLOGFILE="$T/ka" timeout 30 "$bindir/tcpcrypt-run" \
	socat -t 5 - TCP:"$IP_B":7800 < "$T/data" > "$T/echo" || tc_fail "installed tcpcrypt-run socat client failed"
cmp -s "$T/data" "$T/echo" || tc_fail "echoed data differs"
ida=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/ka" 2>/dev/null)
idb=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/kb" 2>/dev/null)
[ -n "$ida" ] && [ "$ida" = "$idb" ] || tc_fail "not encrypted: key logs show '$ida' (client) and '$idb' (server)"

# 3. The installed tcpcrypt-test and tcnetstat.
tc_run "$NS_A" "${INST[@]}" "$bindir/tcpcrypt-test" -v > "$T/tt.out" 2>&1 ||
	{ cat "$T/tt.out" >&2; tc_fail "installed tcpcrypt-test: host check failed"; }
grep -qF "[  ok  ] the shim loads ($pkglibdir/libtcpcrypt-shim.so)" "$T/tt.out" ||
	{ cat "$T/tt.out" >&2; tc_fail "installed tcpcrypt-test did not use the installed shim"; }
tc_bg "$NS_B" "${INST[@]}" timeout 30 "$bindir/tcpcrypt-run" socat TCP-LISTEN:7802,reuseaddr EXEC:cat
tc_wait_port "$NS_B" 7802
tc_run "$NS_A" "${INST[@]}" "$bindir/tcpcrypt-test" "$IP_B" 7802 > "$T/tp.out" 2>&1 ||
	{ cat "$T/tp.out" >&2; tc_fail "installed tcpcrypt-test: peer check failed"; }
inst "$bindir/tcnetstat" -u "$TC_CONTROL" > "$T/tcn.out" 2>&1 ||
	{ cat "$T/tcn.out" >&2; tc_fail "installed tcnetstat failed"; }

# 4. The library, through its pkg-config file (pkg-config and cc: build
# dependencies, scripts/install-deps.sh).
command -v pkg-config > /dev/null || tc_fail "pkg-config not installed (scripts/install-deps.sh)"
command -v cc > /dev/null || tc_fail "cc not installed (scripts/install-deps.sh)"
printf '#include <stdio.h>\n#include <tcpcrypt/tcpcrypt.h>\nint main(void) { puts(tcpcrypt_version()); return 0; }\n' > "$T/v.c"
inst sh -c 'cc -o "$1/v" "$1/v.c" $(PKG_CONFIG_PATH="$2/pkgconfig" pkg-config --cflags --libs libtcpcrypt) &&
	LD_LIBRARY_PATH="$2" "$1/v"' sh "$T" "$libdir" > "$T/v.out" 2>&1 ||
	{ cat "$T/v.out" >&2; tc_fail "cannot build and run a program against the installed libtcpcrypt"; }
grep -qx '[0-9][0-9.]*' "$T/v.out" || tc_fail "tcpcrypt_version() printed '$(cat "$T/v.out")'"

# 5. Uninstall.
tc_daemon_stop
bmake uninstall DESTDIR="$D" > "$T/uninstall.log" 2>&1 || { tail -30 "$T/uninstall.log" >&2; tc_fail "make uninstall failed"; }
left=$(find "$D" ! -type d)
[ -z "$left" ] || tc_fail "make uninstall left files behind: $left"
echo "PASS: make install (DESTDIR) gives working installed tcpcryptd, tcpcrypt-run, tcpcrypt-test, libtcpcrypt (systemd unit $UNIT); make uninstall removes all"
