# ENO codec unit tests (check_eno), and the differential test of the two
# implementations of the ENO rules (check_eno_diff: eno.c against the BPF
# program's, tools/tcpcryptd/bpf/progs/eno_rules.h, on the same inputs).
if HAVE_CHECK
UNIT_TESTS += unit/check_eno unit/check_eno_diff
check_PROGRAMS += unit/check_eno unit/check_eno_diff
TESTS += unit/check_eno unit/check_eno_diff
unit_check_eno_SOURCES = unit/check_eno.c unit/eno_cases.h
unit_check_eno_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_eno_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)
unit_check_eno_diff_SOURCES = unit/check_eno_diff.c unit/eno_cases.h unit/eno_diff.h \
	$(top_srcdir)/tools/tcpcryptd/bpf/progs/eno_rules.h
unit_check_eno_diff_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_eno_diff_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)
endif
