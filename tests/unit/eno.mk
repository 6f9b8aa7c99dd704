# ENO codec unit tests (check_eno)
if HAVE_CHECK
UNIT_TESTS += unit/check_eno
check_PROGRAMS += unit/check_eno
TESTS += unit/check_eno
unit_check_eno_SOURCES = unit/check_eno.c
unit_check_eno_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_eno_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)
endif
