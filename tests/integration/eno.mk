# tcpcryptd / ENO-on-the-wire integration tests
