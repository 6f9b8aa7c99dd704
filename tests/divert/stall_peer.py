#!/usr/bin/env python3
"""stall_peer.py server PORT | client HOST PORT N GAP_MS TAG

Run under tcpcrypt-run. server: for each connection, reads one marker line,
then answers "<status> <marker>" where status is enc (the shim gives a
session ID, TCP_CRYPT_SESSID) or plain. client: N connections started
GAP_MS apart, each in its own thread; each sends "MARK-TAG-I-<random>",
reads the answer and prints one line (flushed):
  I ok|bad|err:NAME client=enc|plain server=enc|plain|? SECONDS MARKER connect=SECONDS
(the last: how long connect() took)"""
import os
import socket
import sys
import threading
import time

TCP_CRYPT_SESSID = 0x54430001


def status(s):
    try:
        s.getsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SESSID, 64)
        return "enc"
    except OSError:
        return "plain"


def readline(s):
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(256)
        if not d:
            break
        buf += d
    return buf


def serve(port):
    srv = socket.create_server(("", port), backlog=512)

    def one(c):
        with c:
            line = readline(c).strip()
            c.sendall(status(c).encode() + b" " + line + b"\n")

    while True:
        c, _ = srv.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def client(host, port, n, gap, tag):
    lock = threading.Lock()

    def one(i):
        marker = "MARK-%s-%d-%s" % (tag, i, os.urandom(6).hex())
        t0 = time.monotonic()
        st, me, peer, tc = "ok", "?", "?", -1.0
        try:
            s = socket.create_connection((host, port), timeout=20)
            tc = time.monotonic() - t0
            s.sendall(marker.encode() + b"\n")
            ans = readline(s).decode(errors="replace").split()
            me = status(s)
            s.close()
            if len(ans) == 2 and ans[1] == marker:
                peer = ans[0]
            else:
                st = "bad"
        except OSError as e:
            st = "err:" + type(e).__name__
        with lock:
            print(i, st, "client=" + me, "server=" + peer, "%.3f" % (time.monotonic() - t0), marker,
                  "connect=%.3f" % tc, flush=True)

    ts = []
    for i in range(n):
        t = threading.Thread(target=one, args=(i,))
        t.start()
        ts.append(t)
        time.sleep(gap / 1000.0)
    for t in ts:
        t.join()


if sys.argv[1] == "server":
    serve(int(sys.argv[2]))
else:
    client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
