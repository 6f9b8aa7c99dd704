# connection setup benchmark (make -C tests bench): TCP-ENO vs plain TCP
if ENABLE_BPF
noinst_PROGRAMS += bench/bench_connect
bench_programs += bench/bench_connect
bench_scripts += bench/bench_connect.sh bench/bench_listing.sh
bench_bench_connect_SOURCES = bench/bench_connect.c
endif
EXTRA_DIST += bench/bench_connect.sh bench/bench_listing.sh
