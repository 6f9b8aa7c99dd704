#!/usr/bin/env python3
"""hidden_wakeups.py - readiness with many handshakes ending one by one.

server PORT N: accepts N connections per phase, one every 5 ms (so that
  each client's Init2 wakes the client on its own), reads nothing; after
  each phase waits for the client's "go" on a control connection, writes
  one byte on each of the phase's connections, and closes them.
client HOST PORT N: three phases (epoll, poll, select). In each, opens N
  non-blocking connections, waits 3 s for readability of any of them with
  that call (the server sends nothing yet: over plain TCP none is
  readable), then tells the server to write, and waits until each
  connection has been readable and read its byte. Prints per phase:
    <call> quiet: N readable, K of them EAGAIN
    <call> data: R of N
A socket reported readable whose read answers EAGAIN is what a program
such as wrk counts as an error (readable must mean a read does not block).
"""
import errno
import select
import socket
import sys
import time

PHASES = ("epoll", "poll", "select")


def server(port, n):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4 * n)
    ctl, _ = ls.accept()
    for _ in PHASES:
        conns = []
        for _ in range(n):
            c, _ = ls.accept()
            conns.append(c)
            time.sleep(0.005)
        if ctl.recv(3) != b"go\n":
            sys.exit("server: no go")
        for c in conns:
            c.sendall(b"x")
        ctl.sendall(b"ok\n")
        if ctl.recv(5) != b"done\n":
            sys.exit("server: no done")
        for c in conns:
            c.close()
    ctl.close()


def ready(call, socks, timeout):
    """The sockets the call reports readable within timeout seconds."""
    if call == "epoll":
        ep = select.epoll()
        fds = {}
        for s in socks:
            ep.register(s.fileno(), select.EPOLLIN)
            fds[s.fileno()] = s
        got = [fds[fd] for fd, ev in ep.poll(timeout) if ev & select.EPOLLIN]
        ep.close()
        return got
    if call == "poll":
        p = select.poll()
        fds = {}
        for s in socks:
            p.register(s.fileno(), select.POLLIN)
            fds[s.fileno()] = s
        return [fds[fd] for fd, ev in p.poll(timeout * 1000) if ev & select.POLLIN]
    r, _, _ = select.select(socks, [], [], timeout)
    return r


def quiet(call, socks, secs):
    """Waits secs for readability; returns (readable, EAGAIN) counts."""
    end = time.monotonic() + secs
    seen = set()
    eagain = 0
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        for s in ready(call, [s for s in socks if s not in seen], left):
            seen.add(s)
            try:
                if s.recv(1, socket.MSG_DONTWAIT) == b"":
                    pass
            except BlockingIOError:
                eagain += 1
    return len(seen), eagain


def client(host, port, n):
    ctl = socket.create_connection((host, port))
    for call in PHASES:
        socks = []
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect((host, port))
            except BlockingIOError:
                pass
            socks.append(s)
        nready, eagain = quiet(call, socks, 3.0)
        print(f"{call} quiet: {nready} readable, {eagain} of them EAGAIN", flush=True)
        ctl.sendall(b"go\n")
        if ctl.recv(3) != b"ok\n":
            sys.exit("client: no ok")
        got = 0
        end = time.monotonic() + 10
        left = list(socks)
        while left and time.monotonic() < end:
            for s in ready(call, left, end - time.monotonic()):
                try:
                    if s.recv(1) == b"x":
                        got += 1
                    left.remove(s)
                except BlockingIOError:
                    pass
        print(f"{call} data: {got} of {n}", flush=True)
        ctl.sendall(b"done\n")
        for s in socks:
            s.close()
    ctl.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), int(sys.argv[3]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
