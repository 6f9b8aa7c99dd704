#!/bin/bash
# test_curl_https.sh - programs that use OpenSSL themselves (curl, openssl
# s_server) under tcpcrypt-run, while the shim opens the same libcrypto for
# its AEADs: TLS inside tcpcrypt works, and the AEAD is the one the lists
# choose.
#
# Asserts:
#  1. curl https (TLS 1.3, OpenSSL) fetches a 4 MB file intact from
#     openssl s_server -WWW, both under tcpcrypt-run, with the default lists:
#     the session uses AES-128-GCM where the CPU has AES-NI;
#  2. TCPCRYPT_AEAD=chacha20poly1305,aes256gcm at the server (B) and
#     aes256gcm,chacha20poly1305 at the client (A): B's order decides,
#     ChaCha20-Poly1305; and aes256gcm alone at both: AES-256-GCM.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
command -v curl > /dev/null || tc_skip "curl not installed (scripts/install-deps.sh)"
command -v openssl > /dev/null || tc_skip "openssl not installed (scripts/install-deps.sh)"
aes=0
grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo && aes=1

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
T=$TC_TMP
PORT=7743
mkdir "$T/www"
head -c 4000000 /dev/urandom > "$T/www/f.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=b \
	-keyout "$T/key.pem" -out "$T/cert.pem" > /dev/null 2>&1 || tc_fail "openssl req failed"

# one round: server AEAD list, client AEAD list, expected AEAD name
round() {
	local sl=$1 cl=$2 want=$3 n=$4 port=$((PORT + $4)) spid
	tc_bg "$NS_B" sh -c "cd '$T/www' && exec env TCPCRYPT_AEAD='$sl' TCPCRYPT_LOG=info \
		TCPCRYPT_LOG_FILE='$T/srv$n.log' '$RUN' openssl s_server -quiet -WWW -tls1_3 \
		-accept $IP_B:$port -cert '$T/cert.pem' -key '$T/key.pem'" > "$T/s_server$n.out" 2>&1
	spid=$TC_LAST_PID
	tc_wait_port "$NS_B" $port
	tc_run "$NS_A" env TCPCRYPT_AEAD="$cl" TCPCRYPT_LOG=info TCPCRYPT_LOG_FILE="$T/cli$n.log" \
		timeout 30 "$RUN" curl -sS -k --tlsv1.3 --fail -o "$T/f$n.got" \
		"https://$IP_B:$port/f.bin" 2> "$T/curl$n.err" ||
		{ cat "$T/curl$n.err" "$T/s_server$n.out" "$T/cli$n.log" >&2; tc_fail "curl https failed ($n)"; }
	cmp -s "$T/f$n.got" "$T/www/f.bin" || tc_fail "the https download differs ($n)"
	grep -q "tcpcrypt session, role A, $want" "$T/cli$n.log" ||
		{ cat "$T/cli$n.log" >&2; tc_fail "client: no tcpcrypt session with $want ($n)"; }
	kill "$spid" 2> /dev/null
	wait "$spid" 2> /dev/null
	tc_log "round $n: curl https intact over tcpcrypt with $want"
}

if [ $aes = 1 ]; then
	round "" "" aes128gcm 1
	round "chacha20poly1305,aes256gcm" "aes256gcm,chacha20poly1305" chacha20poly1305 2
	round "aes256gcm" "aes256gcm" aes256gcm 3
else
	round "" "" chacha20poly1305 1
fi
echo "PASS: curl https (OpenSSL) and openssl s_server under tcpcrypt-run, AEAD as the lists say"
