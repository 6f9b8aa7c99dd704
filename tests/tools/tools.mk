# tcpcrypt-test, install (issue 6)
