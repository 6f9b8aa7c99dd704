# the whole-system benchmark (make -C tests bench; or bash tests/bench/bench_all.sh):
# bulk, connection rate, latency, preload cost and idle memory, tcpcrypt next
# to plain TCP and TLS 1.3. bench_net is built only by make bench.
EXTRA_PROGRAMS = bench/bench_net
bench_programs += bench/bench_net$(EXEEXT)
bench_scripts += bench/bench_all.sh
bench_bench_net_SOURCES = bench/bench_net.c
CLEANFILES += bench/bench_net$(EXEEXT)
EXTRA_DIST += bench/bench_all.sh
