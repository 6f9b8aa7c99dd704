#!/usr/bin/env bash
# bench_all.sh - what tcpcrypt costs, next to plain TCP and TLS 1.3, in one
# run on one machine: two network namespaces joined by a veth pair, the
# client pinned to CPU 0 and the server to CPU 1 (taskset), each figure the
# median of BENCH_REPS (default 5) runs with the cases alternated so that
# noise hits all of them, and every ratio taken against baselines measured
# in the same run.
#
#   bulk       one connection sends 1 GiB: plain TCP, tcpcrypt with each
#              AEAD (AES-128-GCM, the default; AES-256-GCM;
#              ChaCha20-Poly1305), TLS 1.3 through stunnel (client and
#              server stunnel in front of the same plain sender and
#              receiver), TLS 1.3 openssl s_client -> s_server; the ceiling
#              of each AEAD: the raw EVP AEAD's single-core seal and open of
#              the same 65518-byte frames in the same run (bench_engine),
#              the slower of the two.
#   conn/s     new connection per 1-byte request and 1-byte reply: plain,
#              tcpcrypt (full key exchange each time), TLS 1.3 full
#              handshakes through stunnel (sessionResume = no) and with
#              openssl s_time -new.
#   latency    round trips of 32 bytes on one established connection.
#   preload    dd of 1 GiB to tmpfs and 1000 small cat calls, with and
#              without the shim preloaded (tcpcrypt-run).
#   memory     BENCH_HOLD (10000) idle connections held by one process on
#              each side: RSS per connection, kernel Slab, the daemon's RSS.
#
# Besides the rates, bulk and conn/s report the CPU time (user + system) of
# every process on the path, both ends, per byte or per connection: on a
# loaded machine the rates depend on how much CPU the other load leaves (and
# stunnel's four processes get more of it than two), the CPU cost does not.
#
# Prints a table, writes it to $BENCH_OUT (default
# $top_builddir/bench-results.txt) and the figures as TSV to
# ${BENCH_OUT%.txt}.tsv. Aims are reported, never enforced: the script fails
# only when a case cannot run at all.
#
# Run as root from a build tree:  bash tests/bench/bench_all.sh
# (or top_builddir=/path/to/build bash /path/to/src/tests/bench/bench_all.sh);
# make bench runs it too. Knobs: BENCH_REPS, BENCH_BULK_BYTES, BENCH_RPS_SECS,
# BENCH_LAT_COUNT (round trips per run), BENCH_HOLD, BENCH_CAT_CALLS,
# BENCH_SKIP (space-separated sections to leave out: bulk rps lat preload mem).

# make -C tests bench runs us from the build tree's tests/ directory
if [ -z "${top_builddir:-}" ] && [ -f ./Makefile ] && [ -d ./bench ]; then top_builddir=$(cd .. && pwd); fi
if [ -z "${top_builddir:-}" ] && [ -x ./tcpcrypt-run ]; then top_builddir=$(pwd); fi
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export top_builddir top_srcdir
source "$top_srcdir/tests/lib/netns.sh"
tc_require_root

REPS=${BENCH_REPS:-5}
BULK=${BENCH_BULK_BYTES:-1073741824}
RPS_SECS=${BENCH_RPS_SECS:-2}
LAT_COUNT=${BENCH_LAT_COUNT:-4000}
LAT_SIZE=32
HOLD=${BENCH_HOLD:-10000}
CAT_CALLS=${BENCH_CAT_CALLS:-1000}
SKIP=" ${BENCH_SKIP:-} "
OUT=${BENCH_OUT:-$top_builddir/bench-results.txt}
TSV=${OUT%.txt}.tsv

NET=$top_builddir/tests/bench/bench_net
ENGINE=$top_builddir/tests/bench/bench_engine
RUN=$top_builddir/tcpcrypt-run
if [ ! -x "$NET" ] || [ ! -x "$ENGINE" ]; then
	make -s -C "$top_builddir/tests" bench/bench_net bench/bench_engine >&2 ||
		tc_fail "cannot build bench_net / bench_engine in $top_builddir/tests"
fi
[ -x "$RUN" ] || tc_fail "no $RUN (build tcpcrypt first)"
STUNNEL=$(command -v stunnel4 || command -v stunnel) || tc_fail "stunnel4 is not installed (bash scripts/install-deps.sh)"
command -v openssl >/dev/null || tc_fail "openssl is not installed (bash scripts/install-deps.sh)"
command -v taskset >/dev/null || tc_fail "taskset (util-linux) is not installed"

NPROC=$(nproc)
CA=0 CB=1
[ "$NPROC" -ge 2 ] || CB=0
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
KERNEL=$(uname -r)

# A big file on tmpfs (dd target, s_client's input): removed at exit, then
# netns.sh's cleanup runs.
SHM=$(mktemp -d /dev/shm/tcpcrypt-bench.XXXXXX)
trap 'rc=$?; rm -rf "$SHM"; (exit $rc); tc_cleanup' EXIT

log() { echo "# $*" >&2; }

# --- hosts, daemon, TLS material -------------------------------------------
tc_netns_setup
for ns in "$NS_A" "$NS_B"; do
	# many short connections from one address: reuse TIME_WAIT ports
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 "net.ipv4.ip_local_port_range=1024 65000"
done
tc_daemon_start

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=bench -keyout "$TC_TMP/key.pem" -out "$TC_TMP/cert.pem" 2>/dev/null ||
	tc_fail "openssl req"
mkdir -p "$TC_TMP/www" && printf x > "$TC_TMP/www/one"

# A NS cmd...: client side (CPU $CA); B...: server side (CPU $CB), background.
A() { tc_run "$NS_A" taskset -c "$CA" "$@"; }
Abg() { tc_bg "$NS_A" taskset -c "$CA" "$@"; }
Bbg() { tc_bg "$NS_B" taskset -c "$CB" "$@"; }
AES128=(--aead=aes128gcm) AES256=(--aead=aes256gcm) CHACHA=(--aead=chacha20poly1305)

# waitfor FILE PATTERN SECONDS
waitfor() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# kv FILE KEY: the first value of KEY= in FILE
kv() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" "$1" | head -1; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minmax() { tr ' ' '\n' | grep . | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s-%s", lo, hi}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "nan" || b == "nan") print "nan"; else printf "%.2f", a / b }'; }
now_ns() { date +%s%N; }

declare -A R       # R[case] = "v1 v2 ...": one figure per run
declare -A PROT    # what protected the connection, as the programs saw it
declare -A RECV_PID
declare -A CEIL    # CEIL[case] = the AEAD's ceiling (MB/s), from bench_engine
CLK_TCK=$(getconf CLK_TCK)
# cpu_of PID: user + system CPU seconds of a live process
cpu_of() { awk -v t="$CLK_TCK" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# bash's `times`, second line (children): "0m1.234s 0m0.567s" -> seconds
times_s() { awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { x = $i; sub(/s$/, "", x); split(x, a, "m"); s += a[1] * 60 + a[2] } printf "%.3f", s }' "$1"; }
TSV_LINES=()
add() { R[$1]="${R[$1]:-} $2"; }
tsv() { TSV_LINES+=("$(printf '%s\t%s\t%s\t%s' "$@")"); }

# rotate N R: the case order of run R (each case leads once every N runs)
order() { local n=$1 r=$2 i; for ((i = 0; i < n; i++)); do echo $(((i + r) % n)); done; }

skip() { [[ $SKIP == *" $1 "* ]]; }

# --- stunnel: one process per side, services for bulk and for conn/s --------
cat > "$TC_TMP/stunnel-b.conf" <<EOF
foreground = yes
pid =
syslog = no
debug = 3
cert = $TC_TMP/cert.pem
key = $TC_TMP/key.pem
sslVersionMin = TLSv1.3
[bulk]
accept = $IP_B:7104
connect = 127.0.0.1:7105
[rr]
accept = $IP_B:7203
connect = 127.0.0.1:7201
EOF
cat > "$TC_TMP/stunnel-a.conf" <<EOF
foreground = yes
pid =
syslog = no
debug = 3
client = yes
sslVersionMin = TLSv1.3
sessionResume = no
[bulk]
accept = 127.0.0.1:7106
connect = $IP_B:7104
[rr]
accept = 127.0.0.1:7204
connect = $IP_B:7203
EOF
Bbg "$STUNNEL" "$TC_TMP/stunnel-b.conf" 2> "$TC_TMP/stunnel-b.log"
STUNNEL_B_SH=$TC_LAST_PID
Abg "$STUNNEL" "$TC_TMP/stunnel-a.conf" 2> "$TC_TMP/stunnel-a.log"
STUNNEL_A_SH=$TC_LAST_PID
tc_wait_port "$NS_B" 7104
tc_wait_port "$NS_A" 7106
# tc_bg's PIDs are subshells: their one child is the program itself
STUNNEL_B=$(pgrep -P "$STUNNEL_B_SH" | head -1) STUNNEL_A=$(pgrep -P "$STUNNEL_A_SH" | head -1)

log "bench_all: nproc=$NPROC, CPU $CPU_MODEL, kernel $KERNEL; client CPU $CA, server CPU $CB; $REPS runs per case"

# --- bulk ---------------------------------------------------------------------
BULK_CASES=(plain aes128 aes256 chacha stunnel sclient)
if ! skip bulk; then
	log "bulk: $BULK bytes per connection, ${#BULK_CASES[@]} cases x $REPS runs"
	# s_client's input (text: s_client reads its stdin as a terminal's)
	yes 'tcpcrypt bench: the quick brown fox jumps over the lazy dog' | head -c "$BULK" > "$SHM/text"
	Bbg "$NET" bulk-recv 7101 "$REPS" > "$TC_TMP/bulk-plain.srv"
	Bbg "$RUN" "${AES128[@]}" "$NET" bulk-recv 7108 "$REPS" > "$TC_TMP/bulk-aes128.srv"
	Bbg "$RUN" "${AES256[@]}" "$NET" bulk-recv 7102 "$REPS" > "$TC_TMP/bulk-aes256.srv"
	Bbg "$RUN" "${CHACHA[@]}" "$NET" bulk-recv 7103 "$REPS" > "$TC_TMP/bulk-chacha.srv"
	Bbg "$NET" bulk-recv 7105 "$REPS" > "$TC_TMP/bulk-stunnel.srv"
	for p in 7101 7102 7103 7105 7108; do tc_wait_port "$NS_B" $p; done
	for c in plain aes128 aes256 chacha stunnel; do
		waitfor "$TC_TMP/bulk-$c.srv" listening 10 || tc_fail "bulk-recv $c did not start"
		RECV_PID[$c]=$(kv "$TC_TMP/bulk-$c.srv" pid)
	done

	# s_client: is the transfer clean? (all bytes arrive, both ends exit)
	# s_server ends the connection when its stdin ends: give it a pipe from
	# a sleep (left in the namespace, killed at exit)
	Bbg bash -c 'exec openssl s_server "$@" < <(exec sleep 100000)' _ -accept 7107 -naccept 1 -quiet \
		-tls1_3 -cert "$TC_TMP/cert.pem" -key "$TC_TMP/key.pem" > "$TC_TMP/sclient-check.out" 2>/dev/null
	srv=$TC_LAST_PID
	tc_wait_port "$NS_B" 7107
	head -c 10485760 "$SHM/text" > "$SHM/check"
	A openssl s_client -connect "$IP_B:7107" -quiet -no_ign_eof -nocommands -tls1_3 < "$SHM/check" > /dev/null 2>&1
	wait "$srv"
	SCLIENT_CLEAN=no
	[ "$(stat -c %s "$TC_TMP/sclient-check.out")" = 10485760 ] && SCLIENT_CLEAN=yes
	rm -f "$SHM/check" "$TC_TMP/sclient-check.out"
	log "s_client bulk transfer clean: $SCLIENT_CLEAN"

	bulk_run() {
		local c=$1 out=$TC_TMP/bulk.out a0=0 b0=0 extra=0
		[ "$c" = stunnel ] && a0=$(cpu_of "$STUNNEL_A") b0=$(cpu_of "$STUNNEL_B")
		case $c in
		plain) A "$NET" bulk-send "$IP_B" 7101 "$BULK" > "$out" ;;
		aes128) A "$RUN" "${AES128[@]}" "$NET" bulk-send "$IP_B" 7108 "$BULK" > "$out" ;;
		aes256) A "$RUN" "${AES256[@]}" "$NET" bulk-send "$IP_B" 7102 "$BULK" > "$out" ;;
		chacha) A "$RUN" "${CHACHA[@]}" "$NET" bulk-send "$IP_B" 7103 "$BULK" > "$out" ;;
		stunnel) A "$NET" bulk-send 127.0.0.1 7106 "$BULK" > "$out" ;;
		sclient)
			[ "$SCLIENT_CLEAN" = yes ] || return 0
			# (bash's `times` gives each side's CPU time)
			Bbg bash -c 'openssl s_server "${@:2}" < <(exec sleep 100000) > /dev/null 2>&1; times > "$1"' _ \
				"$TC_TMP/ssrv.times" -accept 7107 -naccept 1 -quiet -tls1_3 \
				-cert "$TC_TMP/cert.pem" -key "$TC_TMP/key.pem"
			local srv=$TC_LAST_PID t0 t1
			tc_wait_port "$NS_B" 7107
			t0=$(now_ns)
			A bash -c 'openssl s_client -connect "$1:7107" -quiet -no_ign_eof -nocommands -tls1_3 < "$2" > /dev/null 2>&1; times' _ \
				"$IP_B" "$SHM/text" > "$TC_TMP/scli.times"
			wait "$srv"
			t1=$(now_ns)
			echo "send MBps=$(awk -v b="$BULK" -v t=$((t1 - t0)) 'BEGIN {printf "%.1f", b / (t / 1e9) / 1e6}') cpu_s=$(times_s "$TC_TMP/scli.times") prot=tls1.3" > "$out"
			extra=$(times_s "$TC_TMP/ssrv.times")
			;;
		esac || tc_fail "bulk $c failed"
		add "bulk-$c" "$(kv "$out" MBps)"
		# CPU of every process on the path, both ends: ns per byte
		local cpu=$(kv "$out" cpu_s)
		if [ -n "${RECV_PID[$c]:-}" ]; then
			# the receiver's line for this run: its CPU for the connection
			local srv=$TC_TMP/bulk-$c.srv i
			for ((i = 0; i < 100; i++)); do [ "$(grep -c '^recv' "$srv")" -ge "$RUN_NO" ] && break; sleep 0.05; done
			cpu=$(awk -v a="$cpu" -v n="$RUN_NO" '/^recv/ && ++k == n { for (i = 1; i <= NF; i++) if ($i ~ /^cpu_s=/) { sub(/^cpu_s=/, "", $i); print a + $i } }' "$srv")
		fi
		[ "$c" = stunnel ] && cpu=$(awk -v a="$cpu" -v x="$(cpu_of "$STUNNEL_A")" -v y="$a0" -v u="$(cpu_of "$STUNNEL_B")" -v v="$b0" 'BEGIN {print a + x - y + u - v}')
		cpu=$(awk -v a="$cpu" -v e="$extra" -v b="$BULK" 'BEGIN {printf "%.3f", (a + e) / b * 1e9}')
		add "bulkcpu-$c" "$cpu"
		PROT[bulk-$c]=$(kv "$out" prot)
		[ "$c" = stunnel ] && PROT[bulk-$c]="tls1.3 via stunnel" || true
		log "  bulk $c: $(kv "$out" MBps) MB/s, CPU $cpu ns/byte ($(kv "$out" prot))"
	}
	for ((r = 0; r < REPS; r++)); do
		RUN_NO=$((r + 1))
		for i in $(order ${#BULK_CASES[@]} $r); do bulk_run "${BULK_CASES[$i]}"; done
	done
	rm -f "$SHM/text"

	# ceilings: the raw EVP AEAD at the largest frame, seal and open of the
	# same frames, one core (the client's); libsodium's on the same frames
	BENCH_REPS=11 taskset -c "$CA" "$ENGINE" > "$TC_TMP/engine.out" || tc_fail "bench_engine"
	for a in aes128gcm aes256gcm chacha20poly1305; do
		# "aead 65518 | engine seal X open Y | ceiling (EVP) seal X open Y | ... | libsodium seal X open Y"
		read -r es eo rs ro ss so < <(awk -v a=$a '$1 == a && $2 == 65518 { n = 0; for (i = 1; i <= NF; i++) if ($i == "seal" || $i == "open") v[++n] = $(i + 1); print v[1], v[2], v[3], v[4], v[5], v[6] }' "$TC_TMP/engine.out")
		eval "ENG_SEAL_$a=\$es ENG_OPEN_$a=\$eo RAW_SEAL_$a=\$rs RAW_OPEN_$a=\$ro SOD_SEAL_$a=\$ss SOD_OPEN_$a=\$so"
	done
	OSSL_GCM=$(taskset -c "$CA" openssl speed -seconds 2 -bytes 16384 -evp aes-256-gcm 2>/dev/null |
		awk '/^(AES-256-GCM|aes-256-gcm)/ {v = $NF; sub(/k$/, "", v); printf "%.1f", v * 1000 / 1e6}')
fi

# --- connection rate and latency: echo servers --------------------------------
RPS_CASES=(plain tcpcrypt stunnel stime)
LAT_CASES=(plain tcpcrypt)
if ! skip rps || ! skip lat; then
	Bbg "$NET" echo 7201 > "$TC_TMP/echo-plain.out"
	Bbg "$RUN" "$NET" echo 7202 > "$TC_TMP/echo-tcpcrypt.out"
	Bbg bash -c 'cd "$1" && exec openssl s_server -accept 7205 -WWW -quiet -tls1_3 -cert "$2" -key "$3" < <(exec sleep 100000)' _ \
		"$TC_TMP/www" "$TC_TMP/cert.pem" "$TC_TMP/key.pem" > /dev/null 2>&1
	SSERVER_WWW=$(pgrep -P "$TC_LAST_PID" | head -1)
	for p in 7201 7202 7205; do tc_wait_port "$NS_B" $p; done
	waitfor "$TC_TMP/echo-plain.out" listening 10 && waitfor "$TC_TMP/echo-tcpcrypt.out" listening 10 ||
		tc_fail "echo servers did not start"
	ECHO_PLAIN=$(kv "$TC_TMP/echo-plain.out" pid) ECHO_TCPCRYPT=$(kv "$TC_TMP/echo-tcpcrypt.out" pid)
fi
if ! skip rps; then
	log "conn/s: ${RPS_SECS}s per run, ${#RPS_CASES[@]} cases x $REPS runs"
	# the server-side processes of each case (their CPU counts too)
	rps_pids() {
		case $1 in
		plain) echo "$ECHO_PLAIN" ;;
		tcpcrypt) echo "$ECHO_TCPCRYPT" ;;
		stunnel) echo "$ECHO_PLAIN $STUNNEL_A $STUNNEL_B" ;;
		stime) echo "$SSERVER_WWW" ;;
		esac
	}
	cpu_sum() { local p s=0; for p in "$@"; do s=$(awk -v a="$s" -v b="$(cpu_of "$p")" 'BEGIN {print a + b}'); done; echo "$s"; }
	rps_run() {
		local c=$1 out=$TC_TMP/rps.out c0 c1
		c0=$(cpu_sum $(rps_pids "$c"))
		case $c in
		plain) A "$NET" rps "$IP_B" 7201 "$RPS_SECS" > "$out" ;;
		tcpcrypt) A "$RUN" "$NET" rps "$IP_B" 7202 "$RPS_SECS" > "$out" ;;
		stunnel) A "$NET" rps 127.0.0.1 7204 "$RPS_SECS" > "$out" ;;
		stime)
			local t0 t1
			t0=$(now_ns)
			A bash -c 'openssl s_time -connect "$1:7205" -new -tls1_3 -www /one -time "$2" 2>&1; times' _ \
				"$IP_B" "$RPS_SECS" > "$TC_TMP/stime.out"
			t1=$(now_ns)
			# "N connections in T real seconds" (whole seconds: use our own clock)
			tail -2 "$TC_TMP/stime.out" > "$TC_TMP/stime.times"
			awk -v t=$((t1 - t0)) -v cpu="$(times_s "$TC_TMP/stime.times")" '/connections in .* real seconds/ {
				printf "rps conns=%d cps=%.1f cpu_s=%s prot=tls1.3\n", $1, $1 / (t / 1e9), cpu }' "$TC_TMP/stime.out" > "$out"
			[ -s "$out" ] || { cat "$TC_TMP/stime.out" >&2; false; }
			;;
		esac || tc_fail "conn/s $c failed"
		add "rps-$c" "$(kv "$out" cps)"
		c1=$(cpu_sum $(rps_pids "$c"))
		local cpc
		cpc=$(awk -v a="$(kv "$out" cpu_s)" -v x="$c1" -v y="$c0" -v n="$(kv "$out" conns)" 'BEGIN {printf "%.1f", (a + x - y) / n * 1e6}')
		add "rpscpu-$c" "$cpc"
		PROT[rps-$c]=$(kv "$out" prot)
		[ "$c" = stunnel ] && PROT[rps-$c]="tls1.3 via stunnel" || true
		log "  conn/s $c: $(kv "$out" cps), CPU $cpc us/conn ($(kv "$out" prot))"
	}
	for ((r = 0; r < REPS; r++)); do
		for i in $(order ${#RPS_CASES[@]} $r); do rps_run "${RPS_CASES[$i]}"; done
	done
fi
if ! skip lat; then
	log "latency: $LAT_COUNT round trips of $LAT_SIZE bytes per run, ${#LAT_CASES[@]} cases x $REPS runs"
	: > "$TC_TMP/lat-plain.all"; : > "$TC_TMP/lat-tcpcrypt.all"
	for ((r = 0; r < REPS; r++)); do
		for i in $(order ${#LAT_CASES[@]} $r); do
			c=${LAT_CASES[$i]}
			case $c in
			plain) A "$NET" lat "$IP_B" 7201 "$LAT_COUNT" $LAT_SIZE "$TC_TMP/lat.samples" > "$TC_TMP/lat.out" ;;
			tcpcrypt) A "$RUN" "$NET" lat "$IP_B" 7202 "$LAT_COUNT" $LAT_SIZE "$TC_TMP/lat.samples" > "$TC_TMP/lat.out" ;;
			esac || tc_fail "latency $c failed"
			cat "$TC_TMP/lat.samples" >> "$TC_TMP/lat-$c.all"
			PROT[lat-$c]=$(kv "$TC_TMP/lat.out" prot)
			log "  latency $c: p50 $(kv "$TC_TMP/lat.out" p50_us) us p99 $(kv "$TC_TMP/lat.out" p99_us) us (${PROT[lat-$c]})"
		done
	done
	for c in "${LAT_CASES[@]}"; do
		read -r n p50 p99 < <(sort -g "$TC_TMP/lat-$c.all" | awk '{v[NR] = $1} END {print NR, v[int(NR / 2) + 1], v[int(NR * 0.99) + 1]}')
		eval "LAT_N_$c=\$n LAT_P50_$c=\$p50 LAT_P99_$c=\$p99"
	done
fi

# --- preload cost on programs without TCP --------------------------------------
if ! skip preload; then
	log "preload: dd 1 GiB to tmpfs and $CAT_CALLS cat calls, with and without the shim, $REPS runs"
	head -c 4096 /dev/urandom > "$SHM/small"
	# the time is taken inside the (preloaded) shell: tcpcrypt-run's own
	# start-up is measured separately below
	DD='s=$(date +%s%N); dd if=/dev/zero of="$1/dd" bs=1M count=1024 status=none; e=$(date +%s%N); rm -f "$1/dd"; echo $(( (e - s) / 1000 ))'
	CAT='s=$(date +%s%N); for ((i = 0; i < $2; i++)); do cat "$1/small" > /dev/null; done; e=$(date +%s%N); echo $(( (e - s) / 1000 ))'
	for ((r = 0; r < REPS; r++)); do
		for i in $(order 2 $r); do
			if [ "$i" = 0 ]; then pre=() c=plain; else pre=("$RUN") c=shim; fi
			add "dd-$c" "$(A "${pre[@]}" bash -c "$DD" _ "$SHM")"
			add "cat-$c" "$(A "${pre[@]}" bash -c "$CAT" _ "$SHM" "$CAT_CALLS")"
		done
		# tcpcrypt-run itself (a shell script) on 100 launches of /bin/true
		for i in $(order 2 $r); do
			if [ "$i" = 0 ]; then pre=() c=plain; else pre=("$RUN") c=shim; fi
			add "true-$c" "$(A bash -c 's=$(date +%s%N); for ((i = 0; i < 100; i++)); do "$@" /bin/true; done; e=$(date +%s%N); echo $(( (e - s) / 100000 ))' _ "${pre[@]}")"
		done
		log "  run $((r + 1)): dd plain/shim ${R[dd-plain]##* }/${R[dd-shim]##* } us, cat ${R[cat-plain]##* }/${R[cat-shim]##* } us, launch ${R[true-plain]##* }/${R[true-shim]##* } us"
	done
fi

# --- memory per idle connection --------------------------------------------------
slab_kb() { awk '/^Slab:/ {print $2}' /proc/meminfo; }
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
if ! skip mem; then
	log "memory: $HOLD idle connections, plain then tcpcrypt"
	port=7301
	for c in plain tcpcrypt; do
		if [ $c = plain ]; then pre=(); else pre=("$RUN"); fi
		sleep 1
		s0=$(slab_kb) d0=$(rss_of "$TC_DAEMON_PID")
		tc_bg "$NS_B" bash -c 'ulimit -n $(( $1 + 1000 )) && shift && exec "$@"' _ "$HOLD" \
			taskset -c "$CB" "${pre[@]}" "$NET" hold-server $port "$HOLD" > "$TC_TMP/hold-$c.srv" 2> "$TC_TMP/hold-$c.srv.err"
		hs=$TC_LAST_PID
		tc_wait_port "$NS_B" $port
		tc_bg "$NS_A" bash -c 'ulimit -n $(( $1 + 1000 )) && shift && exec "$@"' _ "$HOLD" \
			taskset -c "$CA" "${pre[@]}" "$NET" hold-client "$IP_B" $port "$HOLD" > "$TC_TMP/hold-$c.cli" 2> "$TC_TMP/hold-$c.cli.err"
		hc=$TC_LAST_PID
		waitfor "$TC_TMP/hold-$c.cli" ready 300 && waitfor "$TC_TMP/hold-$c.srv" ready 30 ||
			tc_fail "memory: $HOLD connections did not come up ($c): $(tail -n 2 "$TC_TMP/hold-$c".*)"
		sleep 1
		s1=$(slab_kb) d1=$(rss_of "$TC_DAEMON_PID")
		sessions=-
		[ $c = tcpcrypt ] && sessions=$("$top_builddir/tools/tcnetstat/tcnetstat" -u "$TC_CONTROL" 2>/dev/null | grep -c 'ESTAB\|estab\|tcpcrypt' || true)
		# $hs/$hc are tc_bg's subshells: end the programs themselves
		kill "$(kv "$TC_TMP/hold-$c.srv" pid)" "$(kv "$TC_TMP/hold-$c.cli" pid)" 2>/dev/null
		wait "$hs" "$hc" 2>/dev/null
		for w in cli srv; do
			f=$TC_TMP/hold-$c.$w
			eval "MEM_${c}_$w=\$(awk -v a=\"\$(kv $f rss_kb_after)\" -v b=\"\$(kv $f rss_kb_before)\" -v n=$HOLD 'BEGIN {printf \"%.2f\", (a - b) * 1024 / n / 1024}')"
			eval "MEM_${c}_${w}_enc=\$(kv $f encrypted)"
		done
		eval "MEM_${c}_slab=\$(awk -v a=$s1 -v b=$s0 -v n=$HOLD 'BEGIN {printf \"%.2f\", (a - b) / n}')"
		eval "MEM_${c}_daemon=\$(awk -v a=$d1 -v b=$d0 -v n=$HOLD 'BEGIN {printf \"%.3f\", (a - b) / n}')"
		eval "MEM_${c}_sessions=\$sessions"
		log "  $c: client $(eval echo \$MEM_${c}_cli) KiB/conn, server $(eval echo \$MEM_${c}_srv) KiB/conn, slab $(eval echo \$MEM_${c}_slab) KiB/conn (both ends), encrypted $(eval echo \$MEM_${c}_cli_enc)/$HOLD"
		port=$((port + 1))
		sleep 2
	done
fi

# --- report ------------------------------------------------------------------------
report() {
	local m
	echo "tcpcrypt benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "host: nproc=$NPROC, CPU \"$CPU_MODEL\", kernel $KERNEL"
	echo "placement: client CPU $CA, server CPU $CB (taskset), two network namespaces on a veth pair; tcpcryptd attached to the test cgroup for all cases"
	echo "each figure: median of $REPS runs, cases alternated (min-max in brackets)"
	echo "TLS 1.3: stunnel $("$STUNNEL" -version 2>&1 | sed -n 's/^stunnel \([0-9.]*\).*/\1/p' | head -1), $(openssl version | cut -d' ' -f1-2); ECDSA P-256 certificate, X25519, TLS_AES_256_GCM_SHA384"
	if ! skip bulk; then
		echo
		echo "== bulk: one connection, $BULK bytes (MB/s = 10^6 bytes/s of application data)"
		local bp bs
		bp=$(echo ${R[bulk-plain]} | median) bs=$(echo ${R[bulk-stunnel]} | median)
		local cp cs
		cp=$(echo ${R[bulkcpu-plain]} | median) cs=$(echo ${R[bulkcpu-stunnel]} | median)
		printf "%-40s %10s %20s %9s %11s %10s %11s\n" case MB/s "(min-max)" "vs plain" "vs stunnel" "CPU ns/B" "stunnel/it"
		for c in "${BULK_CASES[@]}"; do
			local name
			case $c in
			plain) name="plain TCP" ;;
			aes128) name="tcpcrypt AES-128-GCM (default)" ;;
			aes256) name="tcpcrypt AES-256-GCM" ;;
			chacha) name="tcpcrypt ChaCha20-Poly1305" ;;
			stunnel) name="TLS 1.3 stunnel (AES-256-GCM)" ;;
			sclient) name="TLS 1.3 openssl s_client->s_server" ;;
			esac
			if [ -z "${R[bulk-$c]:-}" ]; then
				printf "%-40s %10s\n" "$name" "n/a (s_client transfer not clean)"
				continue
			fi
			m=$(echo ${R[bulk-$c]} | median)
			local mc
			mc=$(echo ${R[bulkcpu-$c]} | median)
			printf "%-40s %10.1f %20s %9s %11s %10.2f %11s  [%s]\n" "$name" "$m" "($(echo ${R[bulk-$c]} | minmax))" \
				"$(ratio "$m" "$bp")x" "$(ratio "$m" "$bs")x" "$mc" "$(ratio "$cs" "$mc")x" "${PROT[bulk-$c]}"
			tsv bulk "$c" MBps "$m"
			tsv bulk "$c" cpu_ns_per_byte_both_ends "$mc"
		done
		echo "(CPU ns/B: user + system CPU of every process on the path, both ends, per byte moved: independent of how much CPU"
		echo " other load left us; stunnel/it: how many times more CPU stunnel spends per byte)"
		echo
		echo "== ceilings: one core, 65518-byte frames, the same frames sealed and opened in this run (bench_engine, MB/s)"
		printf "%-28s %9s %9s %9s %11s %11s %11s %10s %10s\n" AEAD "EVP seal" "EVP open" ceiling "engine seal" "engine open" "bulk/ceil" "sodium seal" "sodium open"
		local a c
		for a in aes128gcm aes256gcm chacha20poly1305; do
			case $a in aes128gcm) c=aes128 ;; aes256gcm) c=aes256 ;; *) c=chacha ;; esac
			eval "local rs=\$RAW_SEAL_$a ro=\$RAW_OPEN_$a es=\$ENG_SEAL_$a eo=\$ENG_OPEN_$a ss=\$SOD_SEAL_$a so=\$SOD_OPEN_$a"
			local ceil
			ceil=$(awk -v a="$rs" -v b="$ro" 'BEGIN {printf "%.1f", (a < b ? a : b)}')
			CEIL[$c]=$ceil
			printf "%-28s %9s %9s %9s %11s %11s %11s %10s %10s\n" "$a" "$rs" "$ro" "$ceil" "$es" "$eo" \
				"$(ratio "$(echo ${R[bulk-$c]} | median)" "$ceil")x" "$ss" "$so"
			tsv ceiling "$a" evp_seal_MBps "$rs"
			tsv ceiling "$a" evp_open_MBps "$ro"
			tsv ceiling "$a" engine_seal_MBps "$es"
			tsv ceiling "$a" engine_open_MBps "$eo"
			tsv ceiling "$a" libsodium_seal_MBps "${ss:-nan}"
			tsv ceiling "$a" libsodium_open_MBps "${so:-nan}"
		done
		printf "%-28s %s (openssl speed -evp aes-256-gcm, 16 KiB)\n" "OpenSSL AES-256-GCM" "${OSSL_GCM:-n/a}"
		tsv ceiling openssl-aes256gcm MBps "${OSSL_GCM:-nan}"
	fi
	if ! skip rps; then
		echo
		echo "== new connections per second: connect, 1-byte request, 1-byte reply, close (one client, sequential)"
		local rp rs rt
		rp=$(echo ${R[rps-plain]} | median) rs=$(echo ${R[rps-stunnel]} | median) rt=$(echo ${R[rps-stime]} | median)
		local ks kt
		ks=$(echo ${R[rpscpu-stunnel]} | median) kt=$(echo ${R[rpscpu-stime]} | median)
		printf "%-40s %10s %20s %9s %11s %9s %11s %10s %10s\n" case conn/s "(min-max)" "vs plain" "vs stunnel" "vs s_time" \
			"CPU us/conn" "stunnel/it" "s_time/it"
		for c in "${RPS_CASES[@]}"; do
			local name
			case $c in
			plain) name="plain TCP" ;;
			tcpcrypt) name="tcpcrypt (full key exchange)" ;;
			stunnel) name="TLS 1.3 full handshake, stunnel" ;;
			stime) name="TLS 1.3 full handshake, s_time -new" ;;
			esac
			m=$(echo ${R[rps-$c]} | median)
			local mc
			mc=$(echo ${R[rpscpu-$c]} | median)
			printf "%-40s %10.1f %20s %9s %11s %9s %11s %10s %10s  [%s]\n" "$name" "$m" "($(echo ${R[rps-$c]} | minmax))" \
				"$(ratio "$m" "$rp")x" "$(ratio "$m" "$rs")x" "$(ratio "$m" "$rt")x" "$mc" "$(ratio "$ks" "$mc")x" "$(ratio "$kt" "$mc")x" "${PROT[rps-$c]}"
			tsv rps "$c" conn_per_s "$m"
			tsv rps "$c" cpu_us_per_conn_both_ends "$mc"
		done
		echo "(s_time -new: openssl s_time against openssl s_server -WWW fetching a 1-byte file, full handshake each time;"
		echo " stunnel: the plain client -> stunnel -> TLS 1.3 -> stunnel -> plain echo server, sessionResume = no;"
		echo " CPU us/conn: user + system CPU of every process on the path, both ends, per connection)"
	fi
	if ! skip lat; then
		echo
		echo "== round trip of $LAT_SIZE bytes on an established connection ($REPS x $LAT_COUNT round trips per case)"
		printf "%-40s %10s %10s\n" case "p50 us" "p99 us"
		for c in "${LAT_CASES[@]}"; do
			eval "local n=\$LAT_N_$c p50=\$LAT_P50_$c p99=\$LAT_P99_$c"
			printf "%-40s %10s %10s  [%s, %s samples]\n" "$([ $c = plain ] && echo "plain TCP" || echo "tcpcrypt (default AEAD)")" "$p50" "$p99" "${PROT[lat-$c]}" "$n"
			tsv lat "$c" p50_us "$p50"
			tsv lat "$c" p99_us "$p99"
		done
		echo "tcpcrypt / plain: p50 $(ratio "$LAT_P50_tcpcrypt" "$LAT_P50_plain")x, p99 $(ratio "$LAT_P99_tcpcrypt" "$LAT_P99_plain")x; difference p50 $(awk -v a="$LAT_P50_tcpcrypt" -v b="$LAT_P50_plain" 'BEGIN {printf "%+.1f", a - b}') us"
	fi
	if ! skip preload; then
		echo
		echo "== preload cost on programs without TCP (time inside the preloaded shell)"
		printf "%-40s %12s %12s %9s\n" case plain "tcpcrypt-run" cost
		local a b
		for t in "dd:dd 1 GiB /dev/zero -> tmpfs (ms)" "cat:$CAT_CALLS x cat of a 4 KiB file (ms)" "true:tcpcrypt-run's own launch, /bin/true (us)"; do
			local k=${t%%:*} name=${t#*:}
			a=$(echo ${R[$k-plain]} | median) b=$(echo ${R[$k-shim]} | median)
			if [ "$k" != true ]; then a=$(awk -v x="$a" 'BEGIN {printf "%.1f", x / 1000}'); b=$(awk -v x="$b" 'BEGIN {printf "%.1f", x / 1000}'); fi
			printf "%-40s %12s %12s %8s%%\n" "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%+.1f", (b / a - 1) * 100}')"
			tsv preload "$k" plain "$a"
			tsv preload "$k" shim "$b"
		done
	fi
	if ! skip mem; then
		echo
		echo "== memory per idle connection ($HOLD connections held open, one process each side, 1 byte exchanged each way)"
		printf "%-40s %12s %12s %14s %12s %10s\n" case "client KiB" "server KiB" "kernel Slab KiB" "daemon KiB" encrypted
		for c in plain tcpcrypt; do
			eval "local cl=\$MEM_${c}_cli sv=\$MEM_${c}_srv sl=\$MEM_${c}_slab dm=\$MEM_${c}_daemon en=\$MEM_${c}_cli_enc"
			printf "%-40s %12s %12s %14s %12s %10s\n" "$c" "$cl" "$sv" "$sl" "$dm" "$en/$HOLD"
			tsv mem "$c" client_KiB_per_conn "$cl"
			tsv mem "$c" server_KiB_per_conn "$sv"
			tsv mem "$c" slab_KiB_per_conn_both_ends "$sl"
			tsv mem "$c" daemon_KiB_per_conn "$dm"
		done
		echo "(user-space RSS growth per connection of each process; Slab: /proc/meminfo difference for both ends together, machine-wide, so noisy)"
		echo "tcpcrypt extra per connection: client $(awk -v a="$MEM_tcpcrypt_cli" -v b="$MEM_plain_cli" 'BEGIN {printf "%.2f", a - b}') KiB, server $(awk -v a="$MEM_tcpcrypt_srv" -v b="$MEM_plain_srv" 'BEGIN {printf "%.2f", a - b}') KiB, kernel $(awk -v a="$MEM_tcpcrypt_slab" -v b="$MEM_plain_slab" 'BEGIN {printf "%.2f", a - b}') KiB (both ends)"
	fi
	echo
	echo "== aims (reported, not enforced)"
	aim() { awk -v v="$2" -v t="$3" -v op="$4" -v name="$1" 'BEGIN {
		if (v == "nan" || v == "") { printf "%-58s %8s  n/a\n", name, "-"; exit }
		ok = (op == ">=") ? (v + 0 >= t + 0) : (op == "<=") ? (v + 0 <= t + 0) : (v + 0 < t + 0)
		printf "%-58s %8s  %s\n", name, v, ok ? "met" : "MISSED" }'; }
	if ! skip bulk; then
		local bp bs bd b2 bc
		bp=$(echo ${R[bulk-plain]} | median) bs=$(echo ${R[bulk-stunnel]} | median)
		bd=$(echo ${R[bulk-aes128]} | median) b2=$(echo ${R[bulk-aes256]} | median) bc=$(echo ${R[bulk-chacha]} | median)
		aim "default AEAD (AES-128-GCM) bulk >= 0.9x its ceiling" "$(ratio "$bd" "${CEIL[aes128]}")" 0.9 ">="
		aim "AES-256-GCM bulk >= 0.9x its ceiling" "$(ratio "$b2" "${CEIL[aes256]}")" 0.9 ">="
		aim "ChaCha20-Poly1305 bulk >= 0.9x its ceiling" "$(ratio "$bc" "${CEIL[chacha]}")" 0.9 ">="
		aim "default AEAD bulk >= 3x stunnel" "$(ratio "$bd" "$bs")" 3 ">="
		aim "  same by CPU per byte (stunnel ns/B / tcpcrypt AES-128 ns/B)" "$(ratio "$(echo ${R[bulkcpu-stunnel]} | median)" "$(echo ${R[bulkcpu-aes128]} | median)")" 3 ">="
		aim "default AEAD CPU per byte, both ends (ns/B) <= 0.9" "$(echo ${R[bulkcpu-aes128]} | median)" 0.9 "<="
		aim "ChaCha20-Poly1305 bulk >= 2x stunnel" "$(ratio "$bc" "$bs")" 2 ">="
		aim "default AEAD bulk >= 0.5x plain TCP" "$(ratio "$bd" "$bp")" 0.5 ">="
	fi
	if ! skip rps; then
		aim "tcpcrypt conn/s >= 10x TLS 1.3 full handshakes (stunnel)" "$(ratio "$(echo ${R[rps-tcpcrypt]} | median)" "$(echo ${R[rps-stunnel]} | median)")" 10 ">="
		aim "tcpcrypt CPU per connection, both ends (us) <= 200" "$(echo ${R[rpscpu-tcpcrypt]} | median)" 200 "<="
		aim "tcpcrypt conn/s >= 5x TLS 1.3 full handshakes (s_time)" "$(ratio "$(echo ${R[rps-tcpcrypt]} | median)" "$(echo ${R[rps-stime]} | median)")" 5 ">="
		aim "  same by CPU per connection (stunnel / tcpcrypt)" "$(ratio "$(echo ${R[rpscpu-stunnel]} | median)" "$(echo ${R[rpscpu-tcpcrypt]} | median)")" 5 ">="
		aim "  same by CPU per connection (s_time / tcpcrypt)" "$(ratio "$(echo ${R[rpscpu-stime]} | median)" "$(echo ${R[rpscpu-tcpcrypt]} | median)")" 5 ">="
	fi
	if ! skip preload; then
		local k
		for k in dd cat; do
			aim "preload cost, $k (%)" "$(awk -v a="$(echo ${R[$k-plain]} | median)" -v b="$(echo ${R[$k-shim]} | median)" 'BEGIN {printf "%.1f", (b / a - 1) * 100}')" 2 "<"
		done
	fi
	if ! skip mem; then
		aim "idle tcpcrypt connection, client RSS (KiB)" "$MEM_tcpcrypt_cli" 16 "<"
		aim "idle tcpcrypt connection, server RSS (KiB)" "$MEM_tcpcrypt_srv" 16 "<"
		aim "idle tcpcrypt connection, extra over plain incl. kernel, per end (KiB)" "$(awk -v a="$MEM_tcpcrypt_cli" -v b="$MEM_tcpcrypt_srv" -v c="$MEM_tcpcrypt_slab" -v d="$MEM_plain_cli" -v e="$MEM_plain_srv" -v f="$MEM_plain_slab" 'BEGIN {printf "%.2f", ((a + b + c) - (d + e + f)) / 2}')" 16 "<"
	fi
}
report > "$OUT"
cat "$OUT"
{
	printf 'section\tcase\tmetric\tvalue\n'
	printf '%s\n' "${TSV_LINES[@]}"
	printf 'host\tnproc\t-\t%s\nhost\tcpu\t-\t%s\nhost\tkernel\t-\t%s\nhost\treps\t-\t%s\nhost\tbulk_bytes\t-\t%s\n' \
		"$NPROC" "$CPU_MODEL" "$KERNEL" "$REPS" "$BULK"
} > "$TSV"
echo "written: $OUT, $TSV"
