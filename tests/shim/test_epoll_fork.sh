#!/bin/bash
# test_epoll_fork.sh - fork() while other threads are inside epoll_ctl()
# on encrypted sockets (tests/shim/epoll_fork.c), both ends under
# tcpcrypt-run.
#
# Asserts:
#  1. the client's 8 connections carry tcpcrypt sessions (so its epoll_ctl
#     calls go through the shim's registration table and its lock);
#  2. 2000 children, each forked while two threads call epoll_ctl on those
#     connections without pause, all call epoll_ctl once and exit within
#     5 s: none inherited the shim's epoll lock held (a deadlock).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns.sh"
tc_require_root

P=$TC_TOP_BUILDDIR/tests/shim/epoll_fork
RUN=$TC_TOP_BUILDDIR/tcpcrypt-run
[ -x "$P" ] || tc_fail "epoll_fork not built at $P"
[ -x "$RUN" ] || tc_fail "tcpcrypt-run not built at $RUN"

tc_netns_setup
tc_daemon_start
export TCPCRYPT_CONTROL=$TC_CONTROL
PORT=7650 N=8 FORKS=${EPOLL_FORK_COUNT:-2000}

tc_bg "$NS_B" timeout 300 "$RUN" "$P" server $PORT $N 2> "$TC_TMP/server.err"
tc_wait_port "$NS_B" $PORT
out=$(tc_run "$NS_A" timeout 300 "$RUN" "$P" client "$IP_B" $PORT $N "$FORKS" 2> "$TC_TMP/client.err")
rc=$?
[ $rc = 0 ] && [ "$out" = "epoll_fork ok $FORKS" ] ||
	tc_fail "epoll_ctl after fork: exit $rc, output '$out': $(head -5 "$TC_TMP/client.err" | tr '\n' ' ')"
echo "PASS: $FORKS children forked during epoll_ctl on $N encrypted connections all ran epoll_ctl"
