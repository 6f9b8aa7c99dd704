#!/usr/bin/env bash
# The preloaded shim must not eat the stacks of the application's threads:
# its static TLS segment stays tiny (glibc takes it out of every thread's
# stack), and a program whose threads have 128 KiB stacks runs under
# tcpcrypt-run exactly as without it.
set -u
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
shim=$top_builddir/shim/.libs/libtcpcrypt-shim.so
prog=$top_builddir/tests/shim/small_stack
[ -f "$shim" ] || { echo "FAIL: no shim at $shim"; exit 1; }
tls=$(readelf -lW "$shim" | awk '$1 == "TLS" { print $6 }')
tls=$((${tls:-0}))
echo "# shim static TLS: $tls bytes"
[ "$tls" -le 1024 ] || { echo "FAIL: the shim's static TLS is $tls bytes (> 1 KiB)"; exit 1; }
out=$("$prog") || { echo "FAIL: small_stack fails even without the shim"; exit 1; }
out=$("$top_builddir/tcpcrypt-run" "$prog" 2>/dev/null)
rc=$?
[ $rc = 0 ] && [ "$out" = ok ] || { echo "FAIL: small_stack under tcpcrypt-run: rc=$rc out=$out"; exit 1; }
echo "small stacks: ok under the shim"
