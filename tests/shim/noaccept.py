"""noaccept.py - connect() under the shim returns when TCP's handshake
completes, as over plain TCP, not when the server program accepts.

  noaccept.py server PORT DELAY   listen, wait DELAY s, then accept one
                                  connection and echo it until EOF
  noaccept.py client HOST PORT    connect (blocking), print the time it
                                  took, send 4 KiB, read the echo, print
                                  "ok" and the session ID (or "plain")
  noaccept.py self HOST PORT      one thread: listen, connect to itself,
                                  only then accept; echo; print the time
                                  connect() took, "ok", and the session
                                  IDs of both ends
"""
import os
import socket
import sys
import time

TCP_CRYPT_SESSID = 0x54430001


def sessid(s):
    try:
        return s.getsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SESSID, 64).hex()
    except OSError:
        return "plain"


def echo_one(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)


def exchange(s):
    data = os.urandom(4096)
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        d = s.recv(65536)
        if not d:
            break
        got += d
    return got == data


def main():
    mode = sys.argv[1]
    if mode == "server":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("", int(sys.argv[2])))
        ls.listen(8)
        time.sleep(float(sys.argv[3]))
        c, _ = ls.accept()
        echo_one(c)
        c.close()
        return
    if mode == "client":
        s = socket.socket()             # blocking (a timeout would make it non-blocking)
        t0 = time.monotonic()
        s.connect((sys.argv[2], int(sys.argv[3])))
        print("connect %.3f" % (time.monotonic() - t0), flush=True)
        ok = exchange(s)
        print("ok" if ok else "bad", sessid(s), flush=True)
        s.close()
        return
    # self: one thread, connect before accept
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[2], int(sys.argv[3])))
    ls.listen(8)
    s = socket.socket()
    t0 = time.monotonic()
    s.connect((sys.argv[2], int(sys.argv[3])))
    print("connect %.3f" % (time.monotonic() - t0), flush=True)
    s.sendall(b"x" * 100)               # before the server program accepted
    c, _ = ls.accept()
    got = b""
    while len(got) < 100:
        got += c.recv(100 - len(got))
    c.sendall(got)
    back = b""
    while len(back) < 100:
        back += s.recv(100 - len(back))
    print("ok" if back == b"x" * 100 else "bad", sessid(s), sessid(c), flush=True)
    s.close()
    c.close()


main()
