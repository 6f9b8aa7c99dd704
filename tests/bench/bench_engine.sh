#!/usr/bin/env bash
# Runs the engine seal/open benchmark (make -C tests bench). Prints MB/s of
# the engine and of the raw libsodium AEAD, and their ratio.
set -euo pipefail
bin=${BENCH_ENGINE:-./bench/bench_engine}
[ -x "$bin" ] || bin=./tests/bench/bench_engine
echo "== engine seal/open throughput"
"$bin"
