# crypto / session unit tests (Check): primitives, known answers from
# tests/unit/kat/gen_kat.py, the session engine end to end.
EXTRA_DIST += unit/kat/gen_kat.py unit/kat/kat_vectors.h

if HAVE_CHECK
UNIT_TESTS += unit/check_primitives unit/check_kat unit/check_session
check_PROGRAMS += unit/check_primitives unit/check_kat unit/check_session
TESTS += unit/check_primitives unit/check_kat unit/check_session

unit_check_primitives_SOURCES = unit/check_primitives.c
unit_check_primitives_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_primitives_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)

unit_check_kat_SOURCES = unit/check_kat.c unit/kat/kat_vectors.h
unit_check_kat_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_kat_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)

unit_check_session_SOURCES = unit/check_session.c
unit_check_session_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_session_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)
endif
