#!/usr/bin/env python3
"""nbsend.py N - N times: a non-blocking connect() to a local server, send()
at once (before the connection, and before tcpcrypt's key exchange, is
done) three times, close(): what asyncore/asynchat clients do (CPython's
test_asynchat). The server accepts and keeps every connection, so plain TCP
gives no error. Prints "N connections; send errors: {...}"; exits 1 on any
send error other than EAGAIN (a send before TCP's handshake ended)."""
import errno
import socket
import sys
import threading

N = int(sys.argv[1])
lst = socket.create_server(('127.0.0.1', 0), backlog=1024)
kept = []


def server():
    while True:
        try:
            c, _ = lst.accept()
        except OSError:
            return
        kept.append(c)


threading.Thread(target=server, daemon=True).start()
errs = {}
for i in range(N):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(lst.getsockname())
    except BlockingIOError:
        pass
    for j in range(3):
        try:
            c.send(b"x")
        except OSError as e:
            errs[e.errno] = errs.get(e.errno, 0) + 1
    c.close()
print("%d connections; send errors: %s"
      % (N, {errno.errorcode.get(k, k): v for k, v in errs.items()}))
sys.exit(1 if set(errs) - {errno.EAGAIN} else 0)
