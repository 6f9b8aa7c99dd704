# engine seal/open benchmark (make -C tests bench)
noinst_PROGRAMS += bench/bench_engine
bench_programs += bench/bench_engine
bench_scripts += bench/bench_engine.sh
EXTRA_DIST += bench/bench_engine.sh
bench_bench_engine_SOURCES = bench/bench_engine.c
bench_bench_engine_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(SODIUM_LIBS) $(CRYPTO_LIBS)
