"""epoll_edge.py - edge-triggered and one-shot epoll registrations on TCP
connections: each wake-up is reported as on plain TCP, none is lost.

  epoll_edge.py server PORT       for each of N connections: accept, register
                                  EPOLLIN|EPOLLONESHOT at once, wait (3 s at
                                  most) for the client's data (sent 300 ms
                                  after its connect), answer "k"; then one
                                  more connection: read, 1 s later send "x"
  epoll_edge.py client HOST PORT  N connections: connect, 300 ms, "hello",
                                  wait for "k"; then one non-blocking connect
                                  registered EPOLLIN|EPOLLOUT|EPOLLET: one
                                  EPOLLOUT edge, then the events of 0.6 s
                                  (the key exchange happens meanwhile under
                                  tcpcrypt), "hello", then the server's "x"
Both print one line per observation; test_epoll_edge.sh compares plain TCP
and tcpcrypt.
"""
import select
import socket
import sys
import time

N = 10


def names(ev):
    out = []
    for bit, n in ((select.EPOLLIN, "in"), (select.EPOLLOUT, "out"), (select.EPOLLHUP, "hup"),
                   (select.EPOLLERR, "err")):
        if ev & bit:
            out.append(n)
    return "+".join(out) or "-"


def events(ep, t):
    r = ep.poll(t)
    return " ".join(names(e) for _, e in r) or "none"


def server(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", port))
    ls.listen(16)
    seen = 0
    for _ in range(N):
        c, _ = ls.accept()
        c.setblocking(False)
        ep = select.epoll()
        ep.register(c.fileno(), select.EPOLLIN | select.EPOLLONESHOT)
        if events(ep, 3) == "in":
            seen += 1
        c.setblocking(True)
        c.recv(100)
        c.send(b"k")
        c.close()
        ep.close()
    print("server oneshot: data reported on %d of %d connections" % (seen, N), flush=True)
    c, _ = ls.accept()
    print("server read: %r" % c.recv(100), flush=True)
    time.sleep(1)
    c.send(b"x")
    c.recv(100)


def client(host, port):
    for _ in range(N):
        s = socket.create_connection((host, port))
        time.sleep(0.3)
        s.send(b"hello")
        s.recv(1)
        s.close()
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    ep = select.epoll()
    ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLET)
    print("client first: %s" % events(ep, 3), flush=True)
    print("client quiet: %s" % events(ep, 0.6), flush=True)
    s.send(b"hello")
    print("client data: %s" % events(ep, 3), flush=True)
    print("client read: %r" % s.recv(100), flush=True)
    s.close()


if sys.argv[1] == "server":
    server(int(sys.argv[2]))
else:
    client(sys.argv[2], int(sys.argv[3]))
