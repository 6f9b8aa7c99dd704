#!/bin/bash
# test_test_page.sh - `tcpcrypt-test --serve PORT`, the test page, between
# two namespaces with this test's tcpcryptd; the server is started without
# tcpcrypt-run (it runs itself under it). Asserts:
#  1. curl under tcpcrypt-run gets the text line: encrypted=yes, the
#     session ID of curl's key log (TCPCRYPT_KEYLOGFILE), an AEAD, role B,
#     both ENO options; the server logged the same line;
#  2. plain curl (no shim) gets encrypted=no with the reason (the peer sent
#     no ENO option); the HTML page of a shimmed client says "Encrypted",
#     of a plain one "Not encrypted", each with its session ID or reason;
#  3. keep-alive: two requests on one connection, one session ID;
#  4. a garbage request gets 400, an oversized head 431, a POST 405, an
#     unknown path 404, and after each the server still answers (and
#     logged status=NNN); 50 concurrent clients are all answered;
#  5. SIGTERM stops it cleanly (exit 0, "stopped").
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

TT=$TC_TOP_BUILDDIR/tools/tcpcrypt-test/tcpcrypt-test
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
PY=/usr/bin/python3
[ -x "$TT" ] || tc_fail "tcpcrypt-test not built at $TT"
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"
[ -x "$PY" ] || tc_fail "python3 not installed"
command -v curl > /dev/null || tc_fail "curl not installed (scripts/install-deps.sh)"
T=$TC_TMP
PORT=7861

tc_netns_setup
tc_daemon_start
URL=http://$IP_B:$PORT

tc_bg "$NS_B" "$TT" --serve $PORT > "$T/serve.log" 2> "$T/serve.err"
tc_wait_port "$NS_B" $PORT
show() { sed 's/^/#   server: /' "$T/serve.log" "$T/serve.err" >&2; }
fail() { show; tc_fail "$*"; }

# 1. Shimmed curl.
tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$T/keylog" "$RUN" curl -sS --max-time 10 "$URL/" \
	> "$T/enc.txt" 2> "$T/curl.err" || { cat "$T/curl.err" >&2; fail "shimmed curl failed"; }
tc_log "shimmed curl: $(cat "$T/enc.txt")"
line=$(cat "$T/enc.txt")
[ "$(wc -l < "$T/enc.txt")" = 1 ] || fail "the text form is not one line: $line"
grep -q ' encrypted=yes ' <<< "$line" || fail "shimmed curl: not encrypted: $line"
sid=$(grep -o 'sessid=[0-9a-f]*' <<< "$line" | cut -d= -f2)
kl=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/keylog")
[[ $sid =~ ^23[0-9a-f]{64}$ ]] || fail "no 66-hex-digit session ID: $line"
[ "$sid" = "$kl" ] || fail "session ID $sid is not the one in curl's key log ($kl)"
grep -Eq ' aead=(aes128gcm|aes256gcm|chacha20poly1305) ' <<< "$line" || fail "no AEAD named: $line"
grep -q ' role=B ' <<< "$line" || fail "the server's role is not B: $line"
grep -q ' eno_client=450323\[a=0,b=0,teps=0x23\] ' <<< "$line" || fail "curl's ENO option: $line"
grep -q ' eno_server=45040123\[a=0,b=1,teps=0x23\]' <<< "$line" || fail "the server's ENO option: $line"
grep -q "^peer=$IP_A:[0-9]* " <<< "$line" || fail "the peer address is not $IP_A: $line"
grep -qxF "$line" "$T/serve.log" || fail "the server did not log the line it sent"

# 2. Plain curl; the HTML pages.
tc_run "$NS_A" curl -sS --max-time 10 "$URL/?plain" > "$T/plain.txt" || fail "plain curl failed"
tc_log "plain curl: $(cat "$T/plain.txt")"
grep -q ' encrypted=no sessid=- aead=- ' "$T/plain.txt" || fail "plain curl: $(cat "$T/plain.txt")"
grep -q 'reason="peer sent no ENO option"' "$T/plain.txt" || fail "plain curl: no reason: $(cat "$T/plain.txt")"
grep -qxF "$(cat "$T/plain.txt")" "$T/serve.log" || fail "the server did not log the plain line"
tc_run "$NS_A" env TCPCRYPT_KEYLOGFILE="$T/keylog2" "$RUN" curl -sS --max-time 10 \
	-H 'User-Agent: Mozilla/5.0' -H 'Accept: text/html' "$URL/" > "$T/enc.html" || fail "curl for HTML failed"
grep -q '<div id="verdict">Encrypted with tcpcrypt</div>' "$T/enc.html" || fail "the page does not say encrypted"
sid2=$(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/keylog2")
grep -q "<th>Session ID</th><td>$sid2</td>" "$T/enc.html" || fail "the page does not show session ID $sid2"
grep -q 'AES-128-GCM\|AES-256-GCM\|ChaCha20-Poly1305' "$T/enc.html" || fail "the page names no AEAD"
tc_run "$NS_A" curl -sS --max-time 10 -H 'User-Agent: Mozilla/5.0' "$URL/" > "$T/plain.html" ||
	fail "plain curl for HTML failed"
grep -q '<div id="verdict">Not encrypted</div>' "$T/plain.html" || fail "the plain page does not say not encrypted"
grep -q '<th>Why (you are the peer)</th><td>peer sent no ENO option</td>' "$T/plain.html" || fail "the plain page gives no reason"

# 3. Keep-alive: two requests on one connection (curl reuses it).
tc_run "$NS_A" "$RUN" curl -sS --max-time 10 "$URL/?plain" "$URL/?plain" > "$T/two.txt" ||
	fail "two requests on one connection failed"
[ "$(wc -l < "$T/two.txt")" = 2 ] && [ "$(grep -o 'sessid=[0-9a-f]*' "$T/two.txt" | sort -u | wc -l)" = 1 ] &&
	[ "$(cut -d' ' -f1 "$T/two.txt" | sort -u | wc -l)" = 1 ] ||
	fail "keep-alive: expected two lines from one connection: $(cat "$T/two.txt")"

# 4. Bad requests, then many clients, from a shimmed python client.
cat > "$T/bad.py" << 'EOF'
import socket, sys, threading
host, port = sys.argv[1], int(sys.argv[2])
def ask(data, shut=False):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        got += b
    s.close()
    return got.decode("latin-1")
def status(r):
    return r.split(" ", 2)[1] if r.startswith("HTTP/1.1 ") else "none: " + repr(r[:80])
ok = True
def check(name, data, want):
    global ok
    r = ask(data)
    st = status(r)
    print("%s: %s" % (name, st))
    if st != want:
        ok = False
    r = ask(b"GET /?plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    if "encrypted=" not in r:
        print("%s: no answer after it: %r" % (name, r[:200])); ok = False
check("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n", "400")
check("no version", b"GET /\r\n\r\n", "400")
check("binary", bytes(range(256)) + b"\r\n\r\n", "400")
check("oversized", b"GET / HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", "431")
check("post", b"POST / HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", "405")
check("path", b"GET /etc/passwd HTTP/1.1\r\nConnection: close\r\n\r\n", "404")
check("http2", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "400")
res = []
def one():
    r = ask(b"GET /?plain HTTP/1.0\r\n\r\n")
    res.append("encrypted=yes" in r)
ts = [threading.Thread(target=one) for _ in range(50)]
for t in ts: t.start()
for t in ts: t.join()
print("concurrent: %d of 50 encrypted" % sum(res))
if sum(res) != 50:
    ok = False
sys.exit(0 if ok else 1)
EOF
tc_run "$NS_A" timeout 60 "$RUN" "$PY" "$T/bad.py" "$IP_B" $PORT > "$T/bad.out" 2>&1 ||
	{ cat "$T/bad.out" >&2; fail "bad requests: see above"; }
sed 's/^/#   /' "$T/bad.out" >&2
for st in 400 431 405 404; do
	grep -q "^peer=$IP_A:[0-9]* status=$st error=" "$T/serve.log" || fail "the server did not log status $st"
done

# 5. SIGTERM.
pid=$(ip netns pids "$NS_B" | xargs -r ps -o pid=,comm= -p | awk '$2 == "tcpcrypt-test" {print $1}')
[ -n "$pid" ] || fail "the server is not running"
kill -TERM $pid
for _ in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
kill -0 "$pid" 2> /dev/null && fail "the server did not stop on SIGTERM"
grep -q '^tcpcrypt-test: stopped$' "$T/serve.err" || fail "the server did not stop cleanly"
echo "PASS: the test page tells encrypted from plain visitors, with the session ID of the client's key log"
