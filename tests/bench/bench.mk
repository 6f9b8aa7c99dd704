# bench/bench tests
bench_scripts =
