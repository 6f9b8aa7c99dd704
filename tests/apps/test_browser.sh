#!/bin/bash
# test_browser.sh - Firefox ESR and Chromium, headless, under tcpcrypt-run,
# loading a page with images from a shimmed nginx in the other namespace.
#
# For each browser a reference screenshot is taken without the shim from a
# plain nginx (same files, another port), then the same page is loaded with
# the browser and nginx under tcpcrypt-run.
# Asserts, for each browser:
#  1. the browser exits 0 within 60 s and writes the screenshot;
#  2. nginx's access log shows page.html, small.png and noise.png (a
#     ~360 KB incompressible image) served with status 200 and full size;
#  3. the page rendered: the reference screenshot shows the page (green bar,
#     red square, pixels of the noise image), and the shimmed screenshot is
#     identical to it (at most 0.1 % of the pixels differ, by PIL);
#  4. the connections were tcpcrypt: nginx's key log (the workers'
#     TCPCRYPT_KEYLOGFILE) names sessions, and every session in the
#     browser's key log (the browser process that did the networking) is in
#     nginx's key log with the same secrets.
# Firefox runs as root with HOME=$T and MOZ_CRASHREPORTER_DISABLE=1 (no
# crash reporter window attempt if it crashes),
# --new-instance and a fresh --profile whose user.js turns off all
# background networking (without HOME=$T it would create ~/.cache/mozilla,
# ~/.config/mozilla and ~/Downloads in root's home); it needs nothing else (no MOZ_DISABLE_*_SANDBOX):
# its content processes load the shim but have no network, the parent
# process does the networking. Chromium needs --no-sandbox as root ("Running
# as root without --no-sandbox is not supported", crbug 638180); its network
# service process inherits LD_PRELOAD and does the networking.
# Neither can reach anything but the test namespaces (no default route).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
. "$TC_TOP_SRCDIR/tests/apps/common.sh"
app_need nginx firefox-esr chromium
"$PY" -c 'import PIL' 2> /dev/null || tc_fail "python3-pil not installed (scripts/install-deps.sh)"
app_setup
PPORT=7851 SPORT=7852   # plain nginx, shimmed nginx
KB=$T/keylog.nginx
FAILS=()
soft() { echo "# FAIL: $*" >&2; FAILS+=("$*"); }
fail() { app_show "$T"/*.err "$T/shim-nginx.log"; tc_fail "$*"; }

# The page: a green bar, a small image (red square, blue disc) and a large
# incompressible image (random pixels, fixed seed).
mkdir "$T/www"
"$PY" - "$T/www" << 'EOF' || tc_fail "cannot make the test images"
import sys, random
from PIL import Image, ImageDraw
d = sys.argv[1]
im = Image.new("RGB", (200, 120), (255, 255, 255))
g = ImageDraw.Draw(im)
g.rectangle([10, 10, 90, 110], fill=(200, 30, 30))
g.ellipse([100, 10, 190, 110], fill=(30, 30, 200))
im.save(d + "/small.png")
rng = random.Random(8547)
noise = Image.frombytes("RGB", (400, 300), bytes(rng.getrandbits(8) for _ in range(400 * 300 * 3)))
noise.save(d + "/noise.png")
EOF
cat > "$T/www/page.html" << 'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>tcpcrypt test page</title>
<style>
body { margin: 0; background: #fff; }
#bar { position: absolute; left: 0; top: 0; width: 400px; height: 40px; background: #22aa22; }
#small { position: absolute; left: 0; top: 50px; }
#noise { position: absolute; left: 210px; top: 50px; }
</style></head>
<body><div id="bar"></div>
<img id="small" src="small.png" width="200" height="120">
<img id="noise" src="noise.png" width="400" height="300">
</body></html>
EOF
NOISE_SIZE=$(stat -c %s "$T/www/noise.png")
[ "$NOISE_SIZE" -gt 300000 ] || tc_fail "noise.png is only $NOISE_SIZE bytes"

NGX_ACCESS_LOG=$T/access-plain.log app_nginx_conf "$T/nginx-plain.conf" $PPORT "$T/www"
NGX_ACCESS_LOG=$T/access-shim.log app_nginx_conf "$T/nginx-shim.conf" $SPORT "$T/www"
tc_bg "$NS_B" nginx -p "$T" -c "$T/nginx-plain.conf" > "$T/nginx-plain.err" 2>&1
tc_bg "$NS_B" "$RUN" --keylog="$KB" --log=warn --log-file="$T/shim-nginx.log" \
	nginx -p "$T" -c "$T/nginx-shim.conf" > "$T/nginx-shim.err" 2>&1
tc_wait_port "$NS_B" $PPORT
tc_wait_port "$NS_B" $SPORT

# browser NAME PORT SHIM(0|1) OUT
browser() {
	local name=$1 port=$2 shim=$3 out=$4 url="http://$IP_B:$2/page.html" pre=()
	[ "$shim" = 1 ] && pre=("$RUN" --keylog="$T/keylog.$name" --log=warn --log-file="$T/shim-$name.log")
	local tag=$name-$([ "$shim" = 1 ] && echo shim || echo plain)
	case $name in
	firefox)
		app_ff_profile "$T/profile-$tag"
		tc_run "$NS_A" env HOME="$T" MOZ_CRASHREPORTER_DISABLE=1 timeout 60 "${pre[@]}" firefox-esr --headless --new-instance \
			--profile "$T/profile-$tag" --window-size=640,400 --screenshot "$out" "$url" \
			> "$T/$tag.err" 2>&1 ;;
	chromium)
		tc_run "$NS_A" env HOME="$T" timeout 60 "${pre[@]}" chromium --headless --no-sandbox \
			--disable-gpu --no-first-run --no-default-browser-check --disable-background-networking \
			--disable-component-update --disable-sync --disable-domain-reliability \
			--user-data-dir="$T/chrome-$tag" --window-size=640,400 --screenshot="$out" "$url" \
			> "$T/$tag.err" 2>&1 ;;
	esac
	local rc=$?
	if [ $rc = 124 ]; then
		soft "$tag: hung (killed after 60 s)"; return 1
	elif [ $rc -gt 128 ]; then
		tail -5 "$T/$tag.err" >&2; soft "$tag: killed by signal $((rc - 128)) ($(kill -l $((rc - 128))))"; return 1
	elif [ $rc != 0 ]; then
		tail -5 "$T/$tag.err" >&2; soft "$tag: exited $rc"; return 1
	fi
	[ -s "$out" ] || { soft "$tag: no screenshot"; return 1; }
	return 0
}

# served LOG NAME: page, both images served 200 with full size to the user agent NAME
served() {
	local log=$1 ua=$2 f size
	for f in page.html small.png noise.png; do
		size=$(stat -c %s "$T/www/$f")
		grep -i "$ua" "$log" | grep -q "\"GET /$f HTTP/1.1\" 200 $size " ||
			{ soft "$(basename "$log"): $f not served to $ua with 200 and $size bytes"; }
	done
}

compare() {  # compare REF GOT NAME
	"$PY" - "$1" "$2" "$3" << 'EOF'
import sys
from PIL import Image, ImageChops
ref, got, name = Image.open(sys.argv[1]).convert("RGB"), Image.open(sys.argv[2]).convert("RGB"), sys.argv[3]
if ref.size != got.size:
    print("%s: screenshot sizes differ: %s vs %s" % (name, ref.size, got.size)); sys.exit(1)
# The reference must show the page: bar, red square, noise.
px = ref.load()
def near(p, c): return all(abs(a - b) <= 40 for a, b in zip(p, c))
checks = [((100, 20), (0x22, 0xaa, 0x22)), ((50, 110), (200, 30, 30)), ((145, 110), (30, 30, 200))]
for (x, y), c in checks:
    if not near(px[x, y], c):
        print("%s: reference screenshot does not show the page: pixel %s is %s, expected ~%s" % (name, (x, y), px[x, y], c)); sys.exit(1)
colours = len(set(ref.crop((220, 60, 600, 340)).getdata()))
if colours < 5000:
    print("%s: reference screenshot does not show the noise image (%d colours)" % (name, colours)); sys.exit(1)
diff = ImageChops.difference(ref, got).convert("L").point(lambda v: 255 if v > 0 else 0)
n = sum(1 for v in diff.getdata() if v)
total = ref.size[0] * ref.size[1]
print("%s: %d of %d pixels differ" % (name, n, total))
sys.exit(0 if n <= total // 1000 else 1)
EOF
}

for b in firefox chromium; do
	case $b in firefox) ua=Firefox ;; chromium) ua=HeadlessChrome ;; esac
	browser $b $PPORT 0 "$T/$b-plain.png" || continue
	served "$T/access-plain.log" "$ua"
	browser $b $SPORT 1 "$T/$b-shim.png" || continue
	served "$T/access-shim.log" "$ua"
	msg=$(compare "$T/$b-plain.png" "$T/$b-shim.png" "$b") || soft "$msg"
	tc_log "$msg"
	sleep 0.3
	app_keylog_sessions "$T/keylog.$b"
	n=$APP_SESSIONS
	[ "$n" -ge 1 ] || soft "$b: its key log names no session (not tcpcrypt?)"
	missing=$(comm -23 <(sort -u "$T/keylog.$b") <(sort -u "$KB") | wc -l)
	[ "$missing" = 0 ] || soft "$b: $missing of its key log lines are not in nginx's key log"
	tc_log "$b: $n tcpcrypt session(s), nginx's key log has them"
done
app_keylog_sessions "$KB"
n=$APP_SESSIONS
[ "$n" -ge 2 ] || soft "nginx's key log names $n sessions, expected at least one per browser"
[ ${#FAILS[@]} = 0 ] || fail "${FAILS[*]}"
echo "PASS: Firefox ESR and Chromium headless render the page identically over tcpcrypt"
