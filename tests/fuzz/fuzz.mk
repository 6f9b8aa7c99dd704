# fuzz harnesses (libFuzzer, built with clang when present): 30 s of
# every tests/fuzz/fuzz_*.c in `make check`, 60 s with `make -C tests
# fuzz`, an hour each with `make -C tests fuzz-long` (FUZZ_SECONDS
# overrides all three, FUZZ_ONLY picks harnesses: see run-fuzz.sh).
EXTRA_DIST += fuzz/run-fuzz.sh fuzz/fuzz_common.h fuzz/fuzz_init.c fuzz/fuzz_frame.c fuzz/fuzz_eno.c \
	fuzz/fuzz_divert_pkt.c fuzz/fuzz_divert_req.c fuzz/fuzz_inherit.c fuzz/fuzz_settings.c \
	fuzz/fuzz_eno_diff.c fuzz/corpus
# run-fuzz.sh builds each harness next to its source in the build tree
# (list a new fuzz_*.c here too, or distcheck finds it after distclean).
CLEANFILES += fuzz/fuzz_init fuzz/fuzz_frame fuzz/fuzz_eno fuzz/fuzz_eno_diff \
	fuzz/fuzz_divert_pkt fuzz/fuzz_divert_req fuzz/fuzz_inherit fuzz/fuzz_settings

if HAVE_FUZZ_CC
TESTS += fuzz/run-fuzz.sh
AM_TESTS_ENVIRONMENT += FUZZ_CC='$(FUZZ_CC)'; export FUZZ_CC; \
	FUZZ_SECONDS=$${FUZZ_SECONDS:-30}; export FUZZ_SECONDS;
endif

fuzz:
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' FUZZ_CC='$(FUZZ_CC)' \
	  FUZZ_SECONDS=$${FUZZ_SECONDS:-60} $(BASH) $(srcdir)/fuzz/run-fuzz.sh

fuzz-long:
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' FUZZ_CC='$(FUZZ_CC)' \
	  FUZZ_SECONDS=$${FUZZ_SECONDS:-3600} $(BASH) $(srcdir)/fuzz/run-fuzz.sh
.PHONY: fuzz fuzz-long
