#!/usr/bin/env bash
# make check: regenerates kat_vectors.h with gen_kat.py (the independent
# implementation) and compares it byte for byte with the header the unit
# tests are built from. SKIP (77) when python3 is missing.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
gen=$srcdir/unit/kat/gen_kat.py
hdr=$srcdir/unit/kat/kat_vectors.h
command -v python3 > /dev/null || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp) || exit 99
trap 'rm -f "$tmp"' EXIT
python3 "$gen" > "$tmp" || { echo "FAIL: gen_kat.py failed (a self-check against the RFC/NIST vectors?)"; exit 1; }
if python3 -c 'import cryptography' 2> /dev/null; then
	echo "# AES-GCM outputs also checked against python3-cryptography"
else
	echo "# python3-cryptography not installed: AES-GCM checked against the NIST vectors only"
fi
if ! cmp "$tmp" "$hdr"; then
	echo "FAIL: $hdr differs from what gen_kat.py generates:"
	diff "$hdr" "$tmp" | head -20
	exit 1
fi
echo "PASS: kat_vectors.h is exactly gen_kat.py's output"
