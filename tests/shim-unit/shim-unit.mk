# The shim's core without root, namespaces or tcpcryptd (check_shim): two
# sockets of the test over 127.0.0.1 through the shim's wrappers, linked
# in from libtcpcrypt-shim-core.la, with an injected ENO outcome
# (fake_eno.c). A unit test: also run under the sanitizers and valgrind.
if HAVE_CHECK
UNIT_TESTS += shim-unit/check_shim
check_PROGRAMS += shim-unit/check_shim
TESTS += shim-unit/check_shim
shim_unit_check_shim_SOURCES = shim-unit/check_shim.c shim-unit/fake_eno.c shim-unit/fake_eno.h \
	shim-unit/pair.c shim-unit/pair.h shim-unit/signals.c shim-unit/signals.h \
	shim-unit/signals_fd.c shim-unit/handler.c shim-unit/handler.h shim-unit/urgent_pair.c \
	shim-unit/peek_pair.c
shim_unit_check_shim_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/shim
shim_unit_check_shim_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -pthread
# Whole, as in libtcpcrypt-shim.so: every wrapper is there, also those the
# test does not call itself; exported: what libtcpcrypt.so calls
# (exports.map), so that its getsockopt reaches the shim's.
shim_unit_check_shim_LDFLAGS = \
	-Wl,--whole-archive,$(top_builddir)/shim/.libs/libtcpcrypt-shim-core.a,--no-whole-archive \
	-Wl,--version-script=$(srcdir)/shim-unit/exports.map \
	-Wl,--dynamic-list=$(srcdir)/shim-unit/exports.list
EXTRA_shim_unit_check_shim_DEPENDENCIES = shim-unit/exports.map shim-unit/exports.list
shim_unit_check_shim_LDADD = $(top_builddir)/shim/libtcpcrypt-shim-core.la \
	$(top_builddir)/libtcpcrypt/libtcpcrypt.la $(top_builddir)/libtcpcrypt/libtcpcrypt-core.la \
	$(CHECK_LIBS) $(SODIUM_LIBS) $(CRYPTO_LIBS) -ldl -lpthread
endif

EXTRA_DIST += shim-unit/exports.map shim-unit/exports.list

# No call cycle between the shim's files (its layers: shim/README.md).
TESTS += shim-unit/test_layers.sh
EXTRA_DIST += shim-unit/test_layers.sh

# The shared region as untrusted input (check_region): a forked child
# scribbles over a connection's region while this process uses it. Run
# again under ASan + UBSan by run-all.sh (SANITIZER_TESTS: not valgrind).
if HAVE_CHECK
SANITIZER_TESTS += shim-unit/check_region
check_PROGRAMS += shim-unit/check_region
TESTS += shim-unit/check_region
shim_unit_check_region_SOURCES = shim-unit/check_region.c shim-unit/fake_eno.c shim-unit/fake_eno.h \
	shim-unit/pair.c shim-unit/pair.h
shim_unit_check_region_CPPFLAGS = $(shim_unit_check_shim_CPPFLAGS)
shim_unit_check_region_CFLAGS = $(shim_unit_check_shim_CFLAGS)
shim_unit_check_region_LDFLAGS = $(shim_unit_check_shim_LDFLAGS)
EXTRA_shim_unit_check_region_DEPENDENCIES = $(EXTRA_shim_unit_check_shim_DEPENDENCIES)
shim_unit_check_region_LDADD = $(shim_unit_check_shim_LDADD)
endif

# The saved SYN that the divert backend's table fallback matches
# (shim/saved_syn.c): parser and the kernel's saved SYN over 127.0.0.1.
if HAVE_CHECK
UNIT_TESTS += shim-unit/check_saved_syn
check_PROGRAMS += shim-unit/check_saved_syn
TESTS += shim-unit/check_saved_syn
shim_unit_check_saved_syn_SOURCES = shim-unit/check_saved_syn.c
shim_unit_check_saved_syn_CPPFLAGS = $(shim_unit_check_shim_CPPFLAGS)
shim_unit_check_saved_syn_CFLAGS = $(shim_unit_check_shim_CFLAGS)
shim_unit_check_saved_syn_LDFLAGS = $(shim_unit_check_shim_LDFLAGS)
EXTRA_shim_unit_check_saved_syn_DEPENDENCIES = $(EXTRA_shim_unit_check_shim_DEPENDENCIES)
shim_unit_check_saved_syn_LDADD = $(shim_unit_check_shim_LDADD)
endif
