# eno_lib.sh - helpers for the ENO integration tests; source after
# tests/lib/netns.sh.

ENO_PEER=${ENO_PEER:-$TC_TOP_BUILDDIR/tests/integration/eno_peer}
NFQ_MANGLE=${NFQ_MANGLE:-$TC_TOP_BUILDDIR/tests/integration/nfq_mangle}
TCNETSTAT=${TCNETSTAT:-$TC_TOP_BUILDDIR/tools/tcnetstat/tcnetstat}

# eno_field "result line" KEY -> value
eno_field() {
	local k=$2 w
	for w in $1; do
		case $w in "$k="*) echo "${w#*=}"; return 0 ;; esac
	done
	return 1
}

# eno_expect "result line" KEY VALUE [what]
eno_expect() {
	local v
	v=$(eno_field "$1" "$2") || tc_fail "${4:-result}: no $2 in: $1"
	[ "$v" = "$3" ] || tc_fail "${4:-result}: $2=$v, expected $3 (line: $1)"
}

# eno_capture_start NS IFACE: tcpdump on IFACE in NS into $TC_TMP/cap-NS.pcap
eno_capture_start() {
	local f=$TC_TMP/cap-$1-$2.pcap
	ip netns exec "$1" tcpdump -i "$2" -nn -U --immediate-mode -s 200 -w "$f" tcp 2>"$TC_TMP/tcpdump.err" &
	TC_PIDS+=($!)
	ENO_CAP_PID=$!
	ENO_CAP_FILE=$f
	local i
	for i in $(seq 1 50); do
		grep -q "listening on" "$TC_TMP/tcpdump.err" 2>/dev/null && return 0
		sleep 0.1
	done
	tc_fail "tcpdump did not start"
}

eno_capture_stop() {
	sleep 0.3
	kill "$ENO_CAP_PID" 2>/dev/null
	wait "$ENO_CAP_PID" 2>/dev/null
}

# eno_wire PCAP: one line per TCP segment:
#   SRCPORT DSTPORT FLAGS PAYLOAD_LEN ENO
# FLAGS is S, SA, A, PA, FA...; ENO is the list of kind-69 options in hex
# (whole options, comma separated) or "-". Parsed from the raw options.
eno_wire() {
	tshark -r "$1" -T fields -E separator=' ' -e tcp.srcport -e tcp.dstport \
		-e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.push -e tcp.flags.fin \
		-e tcp.len -e tcp.options 2>/dev/null |
	awk 'function h2d(s,  i, v) { v = 0; s = tolower(s)
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v }
	{
		f = ""; if ($5 == 1 || $5 == "True") f = f "P"; if ($6 == 1 || $6 == "True") f = f "F"
		if ($3 == 1 || $3 == "True") f = f "S"; if ($4 == 1 || $4 == "True") f = f "A"
		o = $8; gsub(":", "", o); out = ""; i = 1
		while (i < length(o)) {
			k = h2d(substr(o, i, 2))
			if (k == 0) break
			if (k == 1) { i += 2; continue }
			l = h2d(substr(o, i + 2, 2)); if (l < 2) break
			if (k == 69) out = out (out == "" ? "" : ",") substr(o, i, 2 * l)
			i += 2 * l
		}
		print $1, $2, f, $7, (out == "" ? "-" : out)
	}'
}

# eno_wire_count PCAP PATTERN: how many eno_wire lines match the ERE
eno_wire_count() {
	eno_wire "$1" | grep -cE "$2"
}

# eno_pair PORT "server args" CLIENT_ADDR "client args": runs a server in
# $NS_B and a client in $NS_A, both in the test cgroup; sets $cli and $srv
# to their result lines and fails the test if either exchange failed.
eno_pair() {
	local port=$1 saddr=$3
	tc_bg "$NS_B" "$ENO_PEER" server "$port" $2 > "$TC_TMP/server-$port.out"
	local spid=$TC_LAST_PID
	tc_wait_port "$NS_B" "$port"
	cli=$(tc_run "$NS_A" "$ENO_PEER" client "$saddr" "$port" $4) || tc_fail "client failed ($port): $cli"
	wait "$spid" || tc_fail "server failed ($port)"
	srv=$(cat "$TC_TMP/server-$port.out")
	echo "# $port client: $cli"
	echo "# $port server: $srv"
	eno_expect "$cli" data ok "client $port"
	eno_expect "$srv" data ok "server $port"
}

# eno_expect_ok: both ends negotiated, with the default offers
eno_expect_ok() {
	eno_expect "$cli" ok 1 client; eno_expect "$srv" ok 1 server
	eno_expect "$cli" reason 0 client; eno_expect "$srv" reason 0 server
	eno_expect "$cli" local 450323 client; eno_expect "$cli" peer 45040123 client
	eno_expect "$srv" local 45040123 server; eno_expect "$srv" peer 450323 server
}

# eno_counter NAME: a counter from the daemon's status (the divert backend:
# the sum over the daemons of both namespaces)
eno_counter() {
	local s socks=("$TC_CONTROL")
	[ "$TCPCRYPT_TEST_BACKEND" = divert ] && socks=("$TC_TMP"/ctl-*)
	for s in "${socks[@]}"; do echo status | socat - "UNIX-CONNECT:$s"; done |
		awk -v n="$1" '$1 == "counter" && $2 == n {s += $3; f = 1} END {if (f) print s}'
}
