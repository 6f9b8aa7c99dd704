#!/bin/bash
# run_with_divert.sh TEST - runs tests/TEST (a shim or ENO integration test)
# against tcpcryptd's divert backend instead of the eBPF one:
# tests/lib/netns.sh then starts `tcpcryptd -b divert` inside each host
# namespace and gives every command its namespace's TCPCRYPT_CONTROL.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
export TCPCRYPT_TEST_BACKEND=divert
exec bash "$top_srcdir/tests/$1"
