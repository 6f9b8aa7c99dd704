# real applications under tcpcrypt-run (issue 5): servers, event loops and
# browsers, each end to end across two network namespaces (root needed).
apps_scripts = \
	apps/test_nginx.sh \
	apps/test_nginx_wrk.sh \
	apps/test_nginx_late.sh \
	apps/test_redis.sh \
	apps/test_python.sh \
	apps/test_browser.sh \
	apps/test_browser_page.sh \
	apps/test_ssh.sh \
	apps/test_parity_python.sh \
	apps/test_nbsend.sh \
	apps/test_oobinline.sh
TESTS += $(apps_scripts)
EXTRA_DIST += $(apps_scripts) apps/common.sh apps/pyecho.py \
	apps/parity_python.py apps/nbsend.py \
	apps/oobinline.py

# readlog.so: a test-only preload under wrk (see apps/readlog.c)
check_LTLIBRARIES = apps/libreadlog.la
apps_libreadlog_la_SOURCES = apps/readlog.c
apps_libreadlog_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
