#!/usr/bin/env python3
"""partial_init.py - a peer that sends only part of its Init message.

server PORT MODE FLAG: a hostile B. Opts its listener in to ENO directly
  (TCPCRYPT_ENO_SOCKOPT, no shim), so the kernel negotiates tcpcrypt, then
  plays B by hand: reads the client's Init1 and answers with the first 6
  bytes of an Init2 (its magic and half of its length field). MODE stall:
  holds the connection until the file FLAG exists, then closes it. MODE
  fin: half-closes at once (the Init2 will never be whole), holds until
  FLAG exists.
client HOST PORT MODE FLAG: runs under tcpcrypt-run. MODE stall: a
  non-blocking connection, then three 2-second waits for readability
  (epoll, level-triggered; poll; select), each printing
    <call>: readable=N cpu=SECONDS
  (the CPU this process used during the wait: a wait that spins on the
  partial message uses about a core), then creates FLAG and reads once
  the server has closed:
    end: ERRNAME|data|EOF
  MODE fin: a blocking read, printing the same "end:" line and its CPU.
"""
import errno
import os
import resource
import select
import socket
import struct
import sys
import time

TCPCRYPT_ENO_SOCKOPT = 0x54435001
INIT2_PART = bytes.fromhex("097105e0") + b"\x00\x00"


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def wait_flag(flag, secs=60):
    end = time.time() + secs
    while not os.path.exists(flag) and time.time() < end:
        time.sleep(0.05)


def server(port, mode, flag):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    content = bytes([0x01, 0x23])   # b=1, TEP tcpcrypt X25519
    offer = struct.pack("BBBB", 1, 0, len(content), 0) + content.ljust(36, b"\0")
    ls.setsockopt(socket.SOL_TCP, TCPCRYPT_ENO_SOCKOPT, offer)
    ls.bind(("0.0.0.0", port))
    ls.listen(4)
    c, _ = ls.accept()
    c.settimeout(30)
    init1 = c.recv(4096)
    print("server: Init1 %d bytes, magic %s" % (len(init1), init1[:4].hex()), flush=True)
    c.sendall(INIT2_PART)
    if mode == "fin":
        c.shutdown(socket.SHUT_WR)
    wait_flag(flag)
    c.close()


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def readable(call, s, secs):
    if call == "epoll":
        ep = select.epoll()
        ep.register(s.fileno(), select.EPOLLIN)
        n = len(ep.poll(secs))
        ep.close()
        return n
    if call == "poll":
        p = select.poll()
        p.register(s.fileno(), select.POLLIN)
        return len(p.poll(secs * 1000))
    return len(select.select([s], [], [], secs)[0])


def end_line(s):
    try:
        d = s.recv(100)
        return "data" if d else "EOF"
    except OSError as e:
        return ename(e)


def client(host, port, mode, flag):
    s = socket.socket()
    if mode == "fin":
        s.settimeout(20)
        s.connect((host, port))
        t = cpu()
        print("end: %s cpu=%.3f" % (end_line(s), cpu() - t), flush=True)
        open(flag, "w").close()
        return
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    select.select([], [s], [], 10)
    for call in ("epoll", "poll", "select"):
        t = cpu()
        n = readable(call, s, 2.0)
        print("%s: readable=%d cpu=%.3f" % (call, n, cpu() - t), flush=True)
    open(flag, "w").close()
    readable("poll", s, 20.0)     # the server's close
    print("end: %s" % end_line(s), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
