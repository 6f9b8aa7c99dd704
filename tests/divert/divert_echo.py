#!/usr/bin/env python3
"""divert_echo.py server PORT | client HOST PORT N [LEN]

server: a threaded echo server. client: N sequential connections, each
sends LEN (default 2048) random bytes and reads them back, then prints
"I ok|bad|err:NAME SECONDS" (one line per connection, flushed)."""
import os
import socket
import sys
import threading
import time


def serve(port):
    srv = socket.create_server(("", port), backlog=512, reuse_port=False)

    def echo(c):
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                c.sendall(d)

    while True:
        c, _ = srv.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def client(host, port, n, length):
    for i in range(n):
        t0 = time.monotonic()
        try:
            s = socket.create_connection((host, port), timeout=10)
            data = os.urandom(length)
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                d = s.recv(65536)
                if not d:
                    break
                got += d
            s.close()
            st = "ok" if got == data else "bad"
        except OSError as e:
            st = "err:%s(%s)" % (type(e).__name__, e.strerror or e)
        print(i, st, "%.3f" % (time.monotonic() - t0), flush=True)


if sys.argv[1] == "server":
    serve(int(sys.argv[2]))
else:
    client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
           int(sys.argv[5]) if len(sys.argv) > 5 else 2048)
