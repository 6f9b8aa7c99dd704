# crypto / session unit tests (Check): primitives, known answers from
# tests/unit/kat/gen_kat.py, the session engine end to end.
EXTRA_DIST += unit/kat/gen_kat.py unit/kat/kat_vectors.h

if HAVE_CHECK
# The AES-GCM tests are separate programs (the same sources with
# TC_AES_TESTS) that exit 77, SKIP, where the CPU lacks AES-NI/PCLMULQDQ.
UNIT_TESTS += unit/check_primitives unit/check_primitives_aes unit/check_kat unit/check_session unit/check_session_aes
check_PROGRAMS += unit/check_primitives unit/check_primitives_aes unit/check_kat unit/check_session unit/check_session_aes
TESTS += unit/check_primitives unit/check_primitives_aes unit/check_kat unit/check_session unit/check_session_aes

unit_check_primitives_SOURCES = unit/check_primitives.c
unit_check_primitives_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_primitives_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)

unit_check_primitives_aes_SOURCES = unit/check_primitives.c
unit_check_primitives_aes_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DTC_AES_TESTS
unit_check_primitives_aes_LDADD = $(unit_check_primitives_LDADD)

unit_check_kat_SOURCES = unit/check_kat.c unit/kat/kat_vectors.h
unit_check_kat_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_kat_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)

unit_check_session_SOURCES = unit/check_session.c
unit_check_session_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_session_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)

unit_check_session_aes_SOURCES = unit/check_session.c
unit_check_session_aes_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DTC_AES_TESTS
unit_check_session_aes_LDADD = $(unit_check_session_LDADD)
endif
