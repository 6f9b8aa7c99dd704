#!/usr/bin/env python3
"""oobinline.py N - N connections to a local server that sets SO_OOBINLINE
on the accepted socket at once (as CPython's test_ftplib FTP server does);
the client sends b"NOOP\\r\\n", then b"ABOR\\r\\n" with MSG_OOB (ftplib's
abort()). With SO_OOBINLINE the server must read b"NOOP\\r\\nABOR\\r\\n",
the urgent byte in the stream. Prints how many connections lost it; exits
1 if any did."""
import socket
import sys

N = int(sys.argv[1])
lst = socket.create_server(('127.0.0.1', 0))
bad = 0
for i in range(N):
    c = socket.create_connection(lst.getsockname())
    s, _ = lst.accept()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
    c.sendall(b"NOOP\r\n")
    c.sendall(b"ABOR\r\n", socket.MSG_OOB)
    s.settimeout(1)
    got = b""
    try:
        while got.count(b"\r\n") < 2:
            d = s.recv(100)
            if not d:
                break
            got += d
    except TimeoutError:
        pass
    if got != b"NOOP\r\nABOR\r\n":
        bad += 1
        if bad <= 3:
            print("connection %d: the server read %r" % (i, got))
    c.close()
    s.close()
print("%d of %d connections lost the inline urgent byte" % (bad, N))
sys.exit(1 if bad else 0)
