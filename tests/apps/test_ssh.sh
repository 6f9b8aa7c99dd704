#!/bin/bash
# test_ssh.sh - OpenSSH under tcpcrypt-run across two namespaces: sshd with
# its own host key and config in $T on a test port, key-based login as root
# with a key in $T, the ssh client running `echo ok` and piping 1 MB of
# random data through `sha256sum` on the server.
#
# Asserts:
#  1. plain sshd (no shim), shimmed ssh client: works (opportunistic
#     fallback): "ok", the 1 MB digest matches, and the client's key log
#     names no session (the connection stayed plain TCP);
#  2. shimmed sshd (default: it re-executes itself for every connection,
#     `sshd -R`, with the accepted socket as its stdin/stdout; LD_PRELOAD
#     stays in the environment, so the new image loads the shim and adopts
#     the connection: README, "Limits", exec), shimmed client: works
#     encrypted, as README promises: "ok", the 1 MB digest matches, both key
#     logs name the same sessions, the re-executed sshd's shim log shows
#     that it adopted the connection across exec, and neither side's SSH
#     code saw tcpcrypt's bytes as application data (no malformed banner,
#     "invalid format", bad packet length or corrupted MAC);
#  3. shimmed `sshd -r` (no re-exec: the connection is handled by a forked
#     child and its forked pre-auth privsep child, which runs under sshd's
#     seccomp filter), shimmed client: works encrypted ("ok", digest
#     matches, same session in both key logs).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_need /usr/sbin/sshd ssh ssh-keygen
app_setup
FAILS=()
soft() { echo "# FAIL: $*" >&2; FAILS+=("$*"); }

# sshd refuses to start without its privilege separation directory.
if [ ! -d /run/sshd ]; then
	mkdir -m 755 /run/sshd || tc_fail "mkdir /run/sshd"
	APP_EXIT_HOOKS+=("rmdir /run/sshd 2> /dev/null")
fi

ssh-keygen -q -t ed25519 -N '' -C tc-host -f "$T/hostkey" || tc_fail "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -C tc-user -f "$T/id" || tc_fail "ssh-keygen"
cp "$T/id.pub" "$T/authorized_keys"
head -c 1000000 /dev/urandom > "$T/blob"
WANT=$(sha256sum < "$T/blob" | awk '{print $1}')

sshd_config() {  # PORT
	cat > "$T/sshd_config.$1" << EOF
Port $1
ListenAddress $IP_B
HostKey $T/hostkey
PidFile $T/sshd.$1.pid
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel VERBOSE
EOF
}

# client NAME PORT: runs `echo ok` and the digest; sets OK (1 if both right) and RC.
client() {
	local name=$1 port=$2 out rc2
	local ssh=(ssh -F /dev/null -i "$T/id" -o UserKnownHostsFile="$T/known_hosts"
		-o StrictHostKeyChecking=no -o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR
		-p "$port" "root@$IP_B")
	out=$(tc_run "$NS_A" timeout 30 "$RUN" --keylog="$T/keylog.$name-client" --log=info \
		--log-file="$T/shim-$name-client.log" "${ssh[@]}" echo ok 2> "$T/$name.err")
	RC=$?
	[ $RC = 124 ] && soft "$name: ssh hung (killed after 30 s)"
	OK=0
	if [ $RC = 0 ] && [ "$out" = ok ]; then
		out=$(tc_run "$NS_A" timeout 30 "$RUN" --keylog="$T/keylog.$name-client" --log=info \
			--log-file="$T/shim-$name-client.log" "${ssh[@]}" sha256sum < "$T/blob" 2>> "$T/$name.err")
		rc2=$?
		[ $rc2 = 124 ] && soft "$name: ssh with 1 MB of input hung (killed after 30 s)"
		if [ $rc2 = 0 ] && [ "${out%% *}" = "$WANT" ]; then
			OK=1
		else
			soft "$name: 1 MB through ssh: exit $rc2, digest '${out%% *}', expected $WANT"
		fi
	fi
	tc_log "$name: ssh exit $RC, output '$out', $(tr '\n' ' ' < "$T/$name.err")"
}

# sshd_start NAME PORT SHIM(0|1) [sshd options]
sshd_start() {
	local name=$1 port=$2 shim=$3 pre=(); shift 3
	sshd_config "$port"
	[ "$shim" = 1 ] && pre=("$RUN" --keylog="$T/keylog.$name-server" --log=info
		--log-file="$T/shim-$name-server.log")
	tc_bg "$NS_B" "${pre[@]}" /usr/sbin/sshd -D -e -f "$T/sshd_config.$port" "$@" > "$T/sshd-$name.log" 2>&1
	tc_wait_port "$NS_B" "$port"
}

encrypted() {  # NAME: the same session in both key logs
	local name=$1 n
	app_keylog_sessions "$T/keylog.$name-client"
	n=$APP_SESSIONS
	[ "$n" -ge 1 ] || { soft "$name: the client's key log names no session (not encrypted)"; return; }
	[ -z "$(comm -23 <(sort -u "$T/keylog.$name-client") <(sort -u "$T/keylog.$name-server" 2> /dev/null))" ] ||
		soft "$name: the client's sessions are not in sshd's key log"
}

# what shim/exec.c logs (info) when it hands a connection to the new image
ADOPT_PAT='encrypted connection handed over to the new program'
corrupt_pat='banner line contains invalid characters|invalid format|Bad packet length|Corrupted MAC|message authentication code incorrect|Bad protocol version'

# 1. plain sshd, shimmed client: fallback to plain TCP.
sshd_start plain 7860 0
client plain 7860
[ $OK = 1 ] || soft "plain sshd + shimmed ssh: did not work (exit $RC: $(head -2 "$T/plain.err" | tr '\n' ' '))"
app_keylog_sessions "$T/keylog.plain-client"
n=$APP_SESSIONS
[ "$n" = 0 ] || soft "plain sshd + shimmed ssh: the client's key log names $n sessions, expected none"

# 2. shimmed sshd (re-exec), shimmed client: works encrypted (README).
sshd_start rexec 7861 1
client rexec 7861
sleep 0.3
if [ $OK = 1 ]; then
	encrypted rexec
	grep -q "$ADOPT_PAT" "$T/shim-rexec-server.log" ||
		soft "rexec: sshd's shim log shows no connection handed over across exec ('$ADOPT_PAT')"
	! grep -q 'encrypted connection not handed over' "$T/shim-rexec-server.log" ||
		soft "rexec: sshd's shim closed a connection at exec: $(grep -m1 'not handed over' "$T/shim-rexec-server.log")"
	tc_log "rexec: works encrypted across sshd's re-exec"
else
	soft "shimmed sshd (re-exec) + shimmed ssh: did not work (exit $RC: $(head -2 "$T/rexec.err" | tr '\n' ' '))"
fi
if grep -Eq "$corrupt_pat" "$T/sshd-rexec.log" "$T/rexec.err"; then
	soft "rexec: the SSH code saw tcpcrypt's bytes as data: $(grep -Eh "$corrupt_pat" "$T/sshd-rexec.log" "$T/rexec.err" | head -2 | tr '\n' ' ')"
fi

# 3. shimmed sshd -r (no re-exec), shimmed client.
sshd_start norexec 7862 1 -r
client norexec 7862
sleep 0.3
if [ $OK = 1 ]; then
	encrypted norexec
else
	sig=$(dmesg 2> /dev/null | grep 'comm="sshd".* sig=31 ' | tail -1 | grep -o 'sig=31 .* syscall=[0-9]*')
	soft "sshd -r under tcpcrypt-run + shimmed ssh: did not work (ssh exit $RC $(head -2 "$T/norexec.err" | tr '\n' ' ')${sig:+; kernel audit: an sshd process was killed by seccomp, $sig})"
fi

if [ ${#FAILS[@]} != 0 ]; then
	app_show "$T"/sshd-*.log "$T"/shim-*-server.log "$T"/shim-*-client.log
	tc_fail "${FAILS[*]}"
fi
echo "PASS: ssh under tcpcrypt-run: plain fallback, shimmed sshd with and without re-exec"
