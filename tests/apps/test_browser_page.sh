#!/bin/bash
# test_browser_page.sh - a headless Firefox ESR shows the test page of
# `tcpcrypt-test --serve` (run in B, which runs itself under the shim).
# Asserts:
#  1. Firefox under tcpcrypt-run (key log TCPCRYPT_KEYLOGFILE) writes a
#     screenshot that shows the page's green "Encrypted" block;
#  2. every request the server logged as encrypted during that run has a
#     session ID that Firefox's key log holds, and there is at least one
#     (the session ID on the page is the logged one: same line);
#  3. Firefox without the shim gets the red "Not encrypted" block, and the
#     server logged encrypted=no with the reason.
# Firefox runs as in test_browser.sh (HOME=$T, fresh profile, --headless
# --screenshot); it can reach nothing but the test namespaces.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
TT=$TC_TOP_BUILDDIR/tools/tcpcrypt-test/tcpcrypt-test
app_need firefox-esr "$TT"
"$PY" -c 'import PIL' 2> /dev/null || tc_fail "python3-pil not installed (scripts/install-deps.sh)"
app_setup
PORT=7862
fail() { app_show "$T"/*.err "$T/serve.log"; tc_fail "$*"; }

tc_bg "$NS_B" "$TT" --serve $PORT > "$T/serve.log" 2> "$T/serve.err"
tc_wait_port "$NS_B" $PORT

# ff_shot TAG SHIM(0|1): screenshot $T/TAG.png of the page
ff_shot() {
	local tag=$1 pre=()
	[ "$2" = 1 ] && pre=("$RUN" --keylog="$T/keylog.$tag" --log=warn --log-file="$T/shim-$tag.log")
	app_ff_profile "$T/profile-$tag"
	tc_run "$NS_A" env HOME="$T" MOZ_CRASHREPORTER_DISABLE=1 timeout 60 "${pre[@]}" firefox-esr \
		--headless --new-instance --profile "$T/profile-$tag" --window-size=640,400 \
		--screenshot "$T/$tag.png" "http://$IP_B:$PORT/" > "$T/$tag.err" 2>&1 ||
		fail "$tag: firefox exited $?"
	[ -s "$T/$tag.png" ] || fail "$tag: no screenshot"
}

# colour PNG NAME R G B: the verdict block (top left and top right corners
# of the window, outside the text) has about that colour
colour() {
	"$PY" - "$@" << 'EOF'
import sys
from PIL import Image
png, name, want = sys.argv[1], sys.argv[2], tuple(int(v, 0) for v in sys.argv[3:6])
im = Image.open(png).convert("RGB")
w, h = im.size
for x, y in ((4, 4), (w - 5, 4), (w // 2, 6), (4, 60)):
    p = im.getpixel((x, y))
    if any(abs(a - b) > 40 for a, b in zip(p, want)):
        print("%s: pixel %s is %s, expected about %s" % (name, (x, y), p, want)); sys.exit(1)
# below the block: the white page with the table's dark text
text = sum(1 for p in im.crop((0, 110, w, h)).getdata() if max(p) < 100)
if text < 200:
    print("%s: no text under the block (%d dark pixels)" % (name, text)); sys.exit(1)
print("%s: %dx%d, verdict block %s, %d dark text pixels" % (name, w, h, want, text))
EOF
}

# 1, 2. Shimmed Firefox.
ff_shot shim 1
msg=$(colour "$T/shim.png" shim 0x1e 0x8c 0x32) || fail "$msg"
tc_log "$msg"
sleep 0.3
app_keylog_sessions "$T/keylog.shim"
n=$APP_SESSIONS
[ "$n" -ge 1 ] || fail "Firefox's key log names no session"
grep -o 'encrypted=yes sessid=[0-9a-f]*' "$T/serve.log" | cut -d= -f3 | sort -u > "$T/logged"
[ -s "$T/logged" ] || fail "the server logged no encrypted request from Firefox"
missing=$(comm -23 "$T/logged" <(awk '$1 == "TCPCRYPT_SS" {print $2}' "$T/keylog.shim" | sort -u))
[ -z "$missing" ] || fail "session IDs the server logged are not in Firefox's key log: $missing"
tc_log "Firefox: session $(head -1 "$T/logged") on the page is in its key log ($n session(s))"

# 3. Plain Firefox.
ff_shot plain 0
msg=$(colour "$T/plain.png" plain 0xc6 0x28 0x28) || fail "$msg"
tc_log "$msg"
grep -q "^peer=$IP_A:[0-9]* encrypted=no .*reason=\"peer sent no ENO option\"" "$T/serve.log" ||
	fail "the server did not log Firefox's plain request with its reason"
[ -n "${TC_KEEP_SCREENSHOTS:-}" ] && cp "$T/shim.png" "$T/plain.png" "$TC_KEEP_SCREENSHOTS/"
echo "PASS: a shimmed Firefox shows the test page as encrypted, with its key log's session ID"
