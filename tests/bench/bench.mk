# Benchmarks (make bench): print figures and ratios; never part of make check.
bench_scripts =
include bench/engine.mk
include bench/connect.mk
include bench/all.mk
