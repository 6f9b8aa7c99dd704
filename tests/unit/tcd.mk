# tcpcrypt-decrypt's stream reassembly and frame reading (wireshark/tcd_*.c)
if HAVE_CHECK
UNIT_TESTS += unit/check_tcd
check_PROGRAMS += unit/check_tcd
TESTS += unit/check_tcd
unit_check_tcd_SOURCES = unit/check_tcd.c \
	$(top_srcdir)/wireshark/tcd_stream.c $(top_srcdir)/wireshark/tcd_frames.c
unit_check_tcd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/wireshark
unit_check_tcd_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
unit_check_tcd_LDADD = $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la $(CHECK_LIBS) $(SODIUM_LIBS)
endif
