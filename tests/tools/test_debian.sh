#!/bin/bash
# test_debian.sh - the Debian packages (debian/): build, lint, install, use,
# purge.
#  1. the build dependencies come from scripts/install-deps.sh (skip only
#     when it cannot install them; a Build-Depends it lacks is a failure);
#  2. a copy of the source tree (the files git tracks, as they are in the
#     work tree) is built with `dpkg-buildpackage -us -uc -b` in this test's
#     temporary directory, which gets every .deb; a source package is made
#     next to it for lintian's source checks; the source tree is untouched;
#  3. the three packages hold the right files (dpkg -c);
#  4. lintian: no error and no warning that an override does not explain;
#  5. install with apt-get; the unit is enabled by the maintainer scripts
#     (started too under systemd: checked in the scripts, as this host may
#     run without systemd); the INSTALLED tcpcryptd on this test's cgroup and
#     the INSTALLED tcpcrypt-run make an encrypted connection between two
#     namespaces (same session ID in both key logs, the packaged shim mapped),
#     which the INSTALLED tcnetstat lists; tcpcrypt-test passes; a program
#     built with `pkg-config --cflags --libs libtcpcrypt` reads the session
#     ID with tcpcrypt_getsessid;
#  6. apt-get purge: every file the packages installed is gone, the unit's
#     enable links too, and no /sys/fs/bpf/tcpcrypt or /run/tcpcrypt is left.
#
# Installing into this machine, isolated: the whole test runs in a private
# mount namespace in which /usr, /etc and /var are overlays whose upper
# layers live in the test's temporary directory. dpkg and apt work as on the
# host (same package database and files underneath), but nothing they write
# reaches the host: other tests and users running meanwhile never see the
# installed programs, and a killed test leaves no package installed. The
# cleanup trap purges the packages all the same (when the test fails, too).
set -u
if [ -z "${TC_DEB_PRIVATE_MOUNTS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "FAIL: integration tests need root (run make check as root)" >&2; exit 1; }
	command -v unshare > /dev/null || { echo "SKIP: unshare (util-linux) missing" >&2; exit 77; }
	TC_DEB_PRIVATE_MOUNTS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root
T0=$(date +%s)
S=$TC_TOP_SRCDIR
T=$TC_TMP
PKGS=(tcpcrypt libtcpcrypt0 libtcpcrypt-dev)
[ -f "$S/debian/control" ] || tc_skip "no debian/ in $S"
command -v dpkg > /dev/null && command -v apt-get > /dev/null || tc_skip "not a Debian system (no dpkg/apt-get)"
elapsed() { echo $(( $(date +%s) - T0 )); }
OVERLAYS=()
INSTALLED=
# On any exit: stop what runs from the installed files, purge the packages
# if they are (still) installed, drop the overlays; then netns.sh's cleanup.
deb_cleanup() {
	local rc=$? p i
	trap - EXIT
	if [ -n "$INSTALLED" ]; then
		for p in "${TC_PIDS[@]}"; do kill "$p" 2>/dev/null; done
		if [ -n "$TC_DAEMON_PID" ]; then
			kill -TERM "$TC_DAEMON_PID" 2>/dev/null
			for i in $(seq 1 50); do kill -0 "$TC_DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
			kill -9 "$TC_DAEMON_PID" 2>/dev/null
			TC_DAEMON_PID=
		fi
		echo "# cleanup: purging ${PKGS[*]}" >&2
		apt-get -o DPkg::Lock::Timeout=600 purge -y "${PKGS[@]}" > /dev/null 2>&1 ||
			dpkg --purge "${PKGS[@]}" > /dev/null 2>&1 ||
			echo "# cleanup: warning: could not purge ${PKGS[*]} (inside this test's overlay only)" >&2
	fi
	for ((i = ${#OVERLAYS[@]} - 1; i >= 0; i--)); do umount -l "${OVERLAYS[i]}" 2>/dev/null; done
	(exit "$rc")
	tc_cleanup
}
trap deb_cleanup EXIT

# 1. Build dependencies (and the packaging tools) from install-deps.sh.
bash "$S/scripts/install-deps.sh" > "$T/deps.log" 2>&1 ||
	{ tail -20 "$T/deps.log" >&2; tc_skip "scripts/install-deps.sh cannot install the build dependencies (see above)"; }

# 2. Build from a copy: dpkg-buildpackage writes the packages next to the tree.
B=$T/build
mkdir -p "$B/tcpcrypt" "$T/src"
if git -C "$S" rev-parse --show-toplevel > /dev/null 2>&1 &&
	[ "$(git -C "$S" rev-parse --show-toplevel)" = "$(cd "$S" && pwd -P)" ]; then
	# the files git tracks, as they are in the work tree (build products of an
	# in-tree build stay out, git-ignored or not)
	( cd "$S" && git ls-files -z -c |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -cf - -T - ) | tar -xf - -C "$B/tcpcrypt" || tc_fail "cannot copy the source tree"
else
	# not a git checkout: everything but build trees, unless built in place
	[ -e "$S/config.status" ] && tc_skip "$S is not a git checkout and was built in place: no clean copy to build the packages from"
	tar -C "$S" --exclude='./_build*' --exclude='./build-*' --exclude=./.git -cf - . |
		tar -xf - -C "$B/tcpcrypt" || tc_fail "cannot copy the source tree"
fi
( cd "$B/tcpcrypt" && dpkg-checkbuilddeps ) > "$T/bdeps.log" 2>&1 ||
	{ cat "$T/bdeps.log" >&2; tc_fail "debian/control's Build-Depends are not all in scripts/install-deps.sh"; }
ver=$(cd "$B/tcpcrypt" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
upver=$(sed -n 's/^AC_INIT(\[tcpcrypt\], \[\([^]]*\)\].*/\1/p' "$S/configure.ac")
[ "${ver%-*}" = "$upver" ] || tc_fail "debian/changelog version $ver does not match configure.ac's $upver"
# The source package first (from the clean copy), for lintian's source
# checks (copyright, control, rules).
tar -C "$B/tcpcrypt" --exclude=./debian -czf "$B/tcpcrypt_$upver.orig.tar.gz" \
	--transform "s,^\.,tcpcrypt-$upver," . || tc_fail "cannot make the orig tarball"
( cd "$B/tcpcrypt" && dpkg-source -b . ) > "$T/source.log" 2>&1 ||
	{ cat "$T/source.log" >&2; tc_fail "dpkg-source -b failed"; }
tc_log "building the packages ($(elapsed)s)"
# (without the MAKEFLAGS of a surrounding make check: its jobserver would
# turn the package's parallel=2 build into -j1)
( cd "$B/tcpcrypt" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b ) \
	> "$T/build.log" 2>&1 || { tail -40 "$T/build.log" >&2; tc_fail "dpkg-buildpackage -us -uc -b failed"; }
grep -E '(warning|error):' "$T/build.log" | grep -v 'libtool: warning: remember to run' | sed 's/^/# build: /' >&2
tc_log "built in $(elapsed)s: $(cd "$B" && echo *.deb)"

# 3. The packages and their files.
declare -A DEB
for p in "${PKGS[@]}"; do
	DEB[$p]=$B/${p}_${ver}_$arch.deb
	[ -f "${DEB[$p]}" ] || tc_fail "no package ${p}_${ver}_$arch.deb"
	dpkg-deb -c "${DEB[$p]}" | awk '{print $6}' | sed 's,^\./,/,; s,/$,,' | grep . > "$T/$p.contents"
done
has() {  # has PKG PATH...
	local p=$1 f; shift
	for f; do grep -qxF "$f" "$T/$p.contents" || tc_fail "package $p lacks $f"; done
}
has tcpcrypt /usr/sbin/tcpcryptd /usr/bin/tcpcrypt-run /usr/bin/tcnetstat /usr/bin/tcpcrypt-test \
	"/usr/lib/$ma/tcpcrypt/libtcpcrypt-shim.so" /lib/systemd/system/tcpcryptd.service \
	/usr/share/man/man1/tcpcrypt-run.1.gz /usr/share/man/man1/tcpcrypt-test.1.gz \
	/usr/share/man/man7/tcpcrypt.7.gz /usr/share/man/man8/tcpcryptd.8.gz /usr/share/man/man8/tcnetstat.8.gz \
	/usr/share/doc/tcpcrypt/copyright /usr/share/doc/tcpcrypt/README.Debian \
	/usr/bin/tcpcrypt-decrypt "/usr/lib/$ma/wireshark/plugins/tcpcrypt.lua" \
	/usr/share/man/man1/tcpcrypt-decrypt.1.gz /usr/share/man/man7/tcpcrypt-wireshark.7.gz
has libtcpcrypt0 "/usr/lib/$ma/libtcpcrypt.so.0" "/usr/lib/$ma/libtcpcrypt.so.0.0.0"
has libtcpcrypt-dev /usr/include/tcpcrypt/tcpcrypt.h "/usr/lib/$ma/libtcpcrypt.so" \
	"/usr/lib/$ma/pkgconfig/libtcpcrypt.pc" /usr/share/man/man3/libtcpcrypt.3.gz
for p in "${PKGS[@]}"; do
	grep -E '\.la$|\.a$' "$T/$p.contents" && tc_fail "package $p ships a libtool archive or static library"
done
grep -q 'libtcpcrypt\.so\.0' "$T/tcpcrypt.contents" "$T/libtcpcrypt-dev.contents" &&
	tc_fail "the library's runtime file is outside libtcpcrypt0"
grep -qE 'man3|/include/' "$T/tcpcrypt.contents" && tc_fail "package tcpcrypt ships development files"
dpkg-deb -I "${DEB[libtcpcrypt0]}" shlibs | grep -qx "libtcpcrypt 0 libtcpcrypt0 (>= $upver)" ||
	tc_fail "libtcpcrypt0 has no shlibs entry 'libtcpcrypt 0 libtcpcrypt0 (>= $upver)'"
dpkg-deb -I "${DEB[libtcpcrypt0]}" symbols | grep -q '^ tcpcrypt_getsessid@TCPCRYPT_0.1 ' ||
	tc_fail "libtcpcrypt0 has no symbols file with tcpcrypt_getsessid@TCPCRYPT_0.1"
dpkg-deb -f "${DEB[libtcpcrypt-dev]}" Depends | grep -qF "libtcpcrypt0 (= $ver)" ||
	tc_fail "libtcpcrypt-dev does not depend on libtcpcrypt0 (= $ver)"
# the unit: enabled on install, started and stopped where systemd runs
dpkg-deb -e "${DEB[tcpcrypt]}" "$T/ctrl"
grep -q "deb-systemd-helper enable 'tcpcryptd.service'" "$T/ctrl/postinst" &&
	grep -q "_dh_action=start" "$T/ctrl/postinst" &&
	grep -q "deb-systemd-invoke \$_dh_action 'tcpcryptd.service'" "$T/ctrl/postinst" &&
	grep -q "deb-systemd-invoke stop 'tcpcryptd.service'" "$T/ctrl/prerm" &&
	grep -q "deb-systemd-helper purge 'tcpcryptd.service'" "$T/ctrl/postrm" ||
	tc_fail "the maintainer scripts do not enable+start / stop / purge tcpcryptd.service"

# 4. lintian: errors and warnings fail unless an override explains them.
tc_log "lintian ($(elapsed)s)"
# One run that shows the overridden tags too (O:, with their reasons as N:
# lines); the verdict is read from its output, since with --show-overrides
# lintian's --fail-on counts overridden tags as well.
lintian --fail-on none --display-level '>=info' --show-overrides \
	"$B"/tcpcrypt_"${ver}"_"$arch".changes "$B"/tcpcrypt_"${ver}".dsc > "$T/lintian.log" 2>&1 ||
	{ cat "$T/lintian.log" >&2; tc_fail "lintian could not check the packages"; }
grep -v '^running with root privileges' "$T/lintian.log" | sed 's/^/# lintian: /' >&2
grep -qE '^[EW]: ' "$T/lintian.log" && tc_fail "lintian reports errors or warnings that no override explains (E:/W: above)"

# 5. Install, in this test's private overlay of /usr, /etc and /var.
for d in /usr /etc /var; do
	mkdir -p "$T/ov$d/u" "$T/ov$d/w"
	mount -t overlay "tcpcrypt-deb$d" -o "lowerdir=$d,upperdir=$T/ov$d/u,workdir=$T/ov$d/w" "$d" ||
		tc_fail "cannot lay a private overlay over $d"
	OVERLAYS+=("$d")
done
# what existed before: the checks after purge skip paths that were there
declare -A PRE
for f in /sys/fs/bpf/tcpcrypt /run/tcpcrypt $(cat "$T"/*.contents); do
	[ -e "$f" ] || [ -L "$f" ] && PRE[$f]=1
done
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' &&
		tc_fail "package $p is already installed here (purge it first)"
done
INSTALLED=1
tc_log "installing ($(elapsed)s)"
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
	"${DEB[tcpcrypt]}" "${DEB[libtcpcrypt0]}" "${DEB[libtcpcrypt-dev]}" > "$T/install.log" 2>&1 ||
	{ tail -30 "$T/install.log" >&2; tc_fail "apt-get install of the packages failed"; }
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" | grep -q 'install ok installed' || tc_fail "$p is not installed"
	dpkg -L "$p" > "$T/$p.list" || tc_fail "dpkg -L $p"
done
[ -L /etc/systemd/system/multi-user.target.wants/tcpcryptd.service ] ||
	tc_fail "installing did not enable tcpcryptd.service"
grep -qx "PKGLIBDIR='/usr/lib/$ma/tcpcrypt'" /usr/bin/tcpcrypt-run ||
	tc_fail "the installed tcpcrypt-run does not look for the shim in /usr/lib/$ma/tcpcrypt"
grep -qx "ExecStart=/usr/sbin/tcpcryptd" /lib/systemd/system/tcpcryptd.service ||
	tc_fail "the unit does not start /usr/sbin/tcpcryptd"

# The installed daemon, on this test's cgroup, pins and control socket.
tc_netns_setup
tc_cgroup_setup
TCPCRYPTD=/usr/sbin/tcpcryptd
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
SHIM=/usr/lib/$ma/tcpcrypt/libtcpcrypt-shim.so
head -c 200000 /dev/urandom > "$T/data"
tc_bg "$NS_B" env TCPCRYPT_KEYLOGFILE="$T/kb" timeout 60 /usr/bin/tcpcrypt-run \
	socat TCP-LISTEN:7800,reuseaddr,fork EXEC:cat
tc_wait_port "$NS_B" 7800
srv=$(ip netns pids "$NS_B" | while read -r p; do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = socat ] && echo "$p"; done | head -1)
[ -n "$srv" ] || tc_fail "no socat server in $NS_B"
grep -q " $SHIM$" "/proc/$srv/maps" || tc_fail "the server did not map the packaged shim $SHIM"
tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$T/ka" timeout 30 /usr/bin/tcpcrypt-run \
	socat -t 5 - TCP:"$IP_B":7800 < "$T/data" > "$T/echo" || tc_fail "installed tcpcrypt-run socat client failed"
cmp -s "$T/data" "$T/echo" || tc_fail "echoed data differs"
ida=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/ka" 2>/dev/null | head -1)
idb=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/kb" 2>/dev/null | head -1)
[ -n "$ida" ] && [ "$ida" = "$idb" ] || tc_fail "not encrypted: key logs show '$ida' (client) and '$idb' (server)"
tc_log "encrypted connection through the installed packages, session ID $ida"

# A connection held open: the installed tcnetstat lists it with its session ID.
tc_bg "$NS_A" sh -c 'sleep 20 | env TCPCRYPT_KEYLOGFILE="$1" timeout 30 /usr/bin/tcpcrypt-run socat - TCP:"$2":7800' \
	sh "$T/kh" "$IP_B"
HOLD=$TC_LAST_PID
for _ in $(seq 1 100); do grep -q '^TCPCRYPT_SS ' "$T/kh" 2>/dev/null && break; sleep 0.05; done
idh=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/kh" 2>/dev/null | head -1)
[ -n "$idh" ] || tc_fail "the held connection is not encrypted"
for _ in $(seq 1 50); do
	ip netns exec "$NS_A" /usr/bin/tcnetstat -u "$TC_CONTROL" > "$T/tcn.out" 2>&1
	grep -qi "$idh" "$T/tcn.out" && break
	sleep 0.1
done
sed 's/^/# tcnetstat: /' "$T/tcn.out" >&2
grep -qi "$idh" "$T/tcn.out" || tc_fail "the installed tcnetstat does not list the connection (session ID $idh)"
kill "$HOLD" 2>/dev/null

# The installed tcpcrypt-test finds the installed launcher and shim.
tc_run "$NS_A" /usr/bin/tcpcrypt-test -v > "$T/tt.out" 2>&1 ||
	{ cat "$T/tt.out" >&2; tc_fail "installed tcpcrypt-test: host check failed"; }
grep -qF "[  ok  ] the shim loads ($SHIM)" "$T/tt.out" ||
	{ cat "$T/tt.out" >&2; tc_fail "installed tcpcrypt-test did not use the packaged shim"; }

# A program built against libtcpcrypt-dev reads the session ID.
cat > "$T/sessid.c" <<'EOF_C'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <tcpcrypt/tcpcrypt.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint8_t id[TCPCRYPT_SESSID_MAX];
	size_t len = sizeof(id), i;
	char c;
	int fd;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 1;
	}
	/* one byte there and back: the tcpcrypt handshake is done */
	if (write(fd, "x", 1) != 1 || read(fd, &c, 1) != 1) {
		perror("echo");
		return 1;
	}
	if (tcpcrypt_getsessid(fd, id, &len) < 0) {
		perror("tcpcrypt_getsessid");
		return 1;
	}
	for (i = 0; i < len; i++)
		printf("%02x", id[i]);
	putchar('\n');
	close(fd);
	return 0;
}
EOF_C
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$T/sessid" "$T/sessid.c" $(pkg-config --cflags --libs libtcpcrypt) > "$T/cc.log" 2>&1 ||
	{ cat "$T/cc.log" >&2; tc_fail "cannot build a program with pkg-config --cflags --libs libtcpcrypt"; }
lib=$(ldd "$T/sessid" | awk '$1 == "libtcpcrypt.so.0" {print $3}')
[ -n "$lib" ] && [ "$(readlink -f "$lib")" = "$(readlink -f "/usr/lib/$ma/libtcpcrypt.so.0")" ] ||
	tc_fail "the program does not use the packaged libtcpcrypt.so.0: $(ldd "$T/sessid")"
: > "$T/kb"
tc_run "$NS_A" timeout 30 /usr/bin/tcpcrypt-run "$T/sessid" "$IP_B" 7800 > "$T/sessid.out" 2>&1 ||
	{ cat "$T/sessid.out" >&2; tc_fail "the libtcpcrypt program failed"; }
ids=$(cat "$T/sessid.out")
idb=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/kb" | tail -1)
[ -n "$ids" ] && [ "$ids" = "$idb" ] ||
	tc_fail "tcpcrypt_getsessid gave '$ids', the server's key log '$idb'"
tc_log "tcpcrypt_getsessid through the packaged library: $ids"

# 6. Purge: nothing left behind.
tc_daemon_stop || tc_fail "the installed tcpcryptd did not stop cleanly"
[ ! -e "$TC_PIN_DIR" ] || tc_fail "the installed tcpcryptd left its pins in $TC_PIN_DIR"
for ns in "$NS_A" "$NS_B"; do ip netns pids "$ns" | xargs -r kill 2>/dev/null; done
for p in "${TC_PIDS[@]}"; do wait "$p" 2>/dev/null; done
TC_PIDS=()
tc_log "purging ($(elapsed)s)"
INSTALLED=
apt-get -o DPkg::Lock::Timeout=600 purge -y "${PKGS[@]}" > "$T/purge.log" 2>&1 ||
	{ tail -30 "$T/purge.log" >&2; tc_fail "apt-get purge failed"; }
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' && tc_fail "$p still installed"
done
left=
for f in $(cat "$T"/*.list); do
	[ "$f" = /. ] && continue
	[ -n "${PRE[$f]:-}" ] && continue      # a directory (or file) that was there before
	{ [ -e "$f" ] || [ -L "$f" ]; } && left="$left $f"
done
for f in /etc/systemd/system/multi-user.target.wants/tcpcryptd.service \
	/var/lib/systemd/deb-systemd-helper-enabled/tcpcryptd.service.dsh-also \
	/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/tcpcryptd.service \
	/var/lib/systemd/deb-systemd-helper-masked/tcpcryptd.service \
	/sys/fs/bpf/tcpcrypt /run/tcpcrypt; do
	[ -n "${PRE[$f]:-}" ] && { tc_skip_part "purge-$(basename "$f")" "$f existed before the test: its removal is not checked"; continue; }
	{ [ -e "$f" ] || [ -L "$f" ]; } && left="$left $f"
done
ls /var/lib/dpkg/info/ | grep -E '^(tcpcrypt|libtcpcrypt0|libtcpcrypt-dev)[.:]' && left="$left /var/lib/dpkg/info/(above)"
[ -z "$left" ] || tc_fail "purge left behind:$left"
echo "PASS: Debian packages build (lintian clean), install, encrypt with the installed binaries, and purge without a trace ($(elapsed)s)"
