# tools/ tests (issue 6): tcpcrypt-test against shimmed, plain and
# daemon-less peers; make install / uninstall with DESTDIR and the
# installed programs making an encrypted connection; the README's demo;
# the Debian packages built, linted, installed, used and purged.
tools_scripts = \
	tools/test_tcpcrypt_test.sh \
	tools/test_tct_features.sh \
	tools/test_test_page.sh \
	tools/test_install.sh \
	tools/test_debian.sh \
	tools/test_demo.sh \
	tools/test_wireshark.sh
TESTS += $(tools_scripts)
EXTRA_DIST += $(tools_scripts)
