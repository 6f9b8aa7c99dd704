"""stalls.py - calls that must not wait for a peer longer than plain TCP's.

  stalls.py hold PORT                   listen (backlog 1024), never accept
  stalls.py sink PORT                   accept one connection, never read
  stalls.py recv PORT                   accept one connection; print
                                        "got T" (time.monotonic()) when its
                                        first bytes arrive
  stalls.py parked HOST HOLD RECV N     N connections to HOLD (their key
                                        exchange never ends: nobody accepts),
                                        then one to RECV: write "hello",
                                        print "wrote T", sleep 3 s without
                                        reading (only the shim's progress
                                        thread can send it), close
  stalls.py late PORT DELAY             accept one connection, wait DELAY s,
                                        then read it to the end: print
                                        "read N eof" (or the error)
  stalls.py closer HOST PORT [epoll]    write until the socket would block
                                        (the peer does not read yet), close:
                                        print "close S after N bytes", exit;
                                        with "epoll", the socket is in an epoll
                                        set (EPOLLIN|EPOLLOUT) when closed, and
                                        then 2.5 s of epoll_wait must see no
                                        event: print "events E" before exit
  stalls.py sndtimeo HOST HOLD          connect to HOLD (the key exchange
                                        never ends), SO_SNDTIMEO 0.5 s, blocking
                                        writes until one fails: print
                                        "gave up S after N bytes ERR"
  stalls.py trickle PORT N              accept one connection, read N bytes
                                        with poll + non-blocking recv: print
                                        "reads R eagain E median M max X"
                                        (milliseconds inside recv)
  stalls.py bigwrite HOST PORT N        connect, one write of N bytes, wait
                                        for the peer to close
  stalls.py rstpeer PORT [LATE]         accept one connection (after LATE
                                        s: 0), wait 1 s, read to the end:
                                        print "read N eof" or "read N ERRNO"
  stalls.py abort HOST PORT             connect, wait for the keys, send
                                        "hello", SO_LINGER {1, 0}, close:
                                        print "close S"
  stalls.py abortnow HOST PORT          connect, send "hello" at once (before
                                        the keys when the peer accepts
                                        late), SO_LINGER {1, 0}, close:
                                        print "close S"
  stalls.py shutdown HOST SINK          fill the connection (non-blocking
                                        writes until EAGAIN), make the
                                        socket blocking, shutdown(SHUT_WR):
                                        print "shutdown S" (seconds it took)
"""
import errno
import select
import socket
import struct
import sys
import time


def listener(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", port))
    ls.listen(1024)
    return ls


def fill(s):
    """Non-blocking writes until the socket would block; the bytes written."""
    s.setblocking(False)
    sent = 0
    try:
        while True:
            sent += s.send(b"y" * 65536)
    except BlockingIOError:
        pass
    s.setblocking(True)
    return sent


def main():
    mode = sys.argv[1]
    if mode == "hold":
        ls = listener(int(sys.argv[2]))
        time.sleep(3600)
    elif mode == "sink":
        c, _ = listener(int(sys.argv[2])).accept()
        time.sleep(3600)
    elif mode == "recv":
        c, _ = listener(int(sys.argv[2])).accept()
        c.recv(100)
        print("got %.3f" % time.monotonic(), flush=True)
        time.sleep(5)
    elif mode == "late":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)   # the writer fills it soon
        ls.bind(("", int(sys.argv[2])))
        ls.listen(8)
        c, _ = ls.accept()
        time.sleep(float(sys.argv[3]))
        n = 0
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                n += len(d)
            print("read %d eof" % n, flush=True)
        except OSError as e:
            print("read %d error %s" % (n, e.strerror), flush=True)
    elif mode == "closer":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        s.connect((sys.argv[2], int(sys.argv[3])))
        s.sendall(b"x")               # the key exchange done (the first frame went)
        time.sleep(0.5)
        sent = 1 + fill(s)
        ep = None
        if len(sys.argv) > 4 and sys.argv[4] == "epoll":
            ep = select.epoll()
            ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT)
        t0 = time.monotonic()
        s.close()
        print("close %.3f after %d bytes" % (time.monotonic() - t0, sent), flush=True)
        if ep:
            events, end = 0, time.monotonic() + 2.5
            while time.monotonic() < end:
                events += len(ep.poll(0.1))
            print("events %d" % events, flush=True)
    elif mode == "parked":
        host, hold, recv, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        parked = []
        for _ in range(n):
            s = socket.socket()
            s.connect((host, hold))
            parked.append(s)
        s = socket.socket()
        s.connect((host, recv))
        s.send(b"hello")
        print("wrote %.3f" % time.monotonic(), flush=True)
        time.sleep(3)
        s.close()
    elif mode == "sndtimeo":
        s = socket.socket()
        s.connect((sys.argv[2], int(sys.argv[3])))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 0, 500000))
        sent, t0, err = 0, time.monotonic(), "none"
        try:
            while sent < (64 << 20):
                t0 = time.monotonic()
                sent += s.send(b"z" * 65536)
        except OSError as e:
            err = errno.errorcode.get(e.errno, str(e.errno))
        print("gave up %.3f after %d bytes %s" % (time.monotonic() - t0, sent, err), flush=True)
    elif mode == "trickle":
        c, _ = listener(int(sys.argv[2])).accept()
        want, got, eagain, times = int(sys.argv[3]), 0, 0, []
        c.setblocking(False)
        p = select.poll()
        p.register(c, select.POLLIN)
        while got < want:
            if not p.poll(5000):
                break
            t0 = time.monotonic()
            try:
                d = c.recv(65536)
                if not d:
                    break
                got += len(d)
            except BlockingIOError:
                eagain += 1
            times.append((time.monotonic() - t0) * 1000)
        times.sort()
        print("reads %d eagain %d median %.3f max %.3f got %d" %
              (len(times), eagain, times[len(times) // 2], times[-1], got), flush=True)
    elif mode == "bigwrite":
        s = socket.socket()
        s.connect((sys.argv[2], int(sys.argv[3])))
        s.sendall(b"t" * int(sys.argv[4]))
        s.recv(1)
    elif mode == "rstpeer":
        ls = listener(int(sys.argv[2]))
        time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 0)
        c, _ = ls.accept()
        time.sleep(1)
        n = 0
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    print("read %d eof" % n, flush=True)
                    break
                n += len(d)
        except OSError as e:
            print("read %d %s" % (n, errno.errorcode.get(e.errno, str(e.errno))), flush=True)
    elif mode in ("abort", "abortnow"):
        s = socket.socket()
        s.connect((sys.argv[2], int(sys.argv[3])))
        if mode == "abort":
            time.sleep(0.5)
        s.sendall(b"hello")
        if mode == "abort":
            time.sleep(0.2)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        t0 = time.monotonic()
        s.close()
        print("close %.3f" % (time.monotonic() - t0), flush=True)
    elif mode == "shutdown":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        s.connect((sys.argv[2], int(sys.argv[3])))
        s.sendall(b"x")               # the key exchange done (the first frame went)
        time.sleep(0.5)
        sent = fill(s)
        t0 = time.monotonic()
        s.shutdown(socket.SHUT_WR)
        print("shutdown %.3f after %d bytes" % (time.monotonic() - t0, sent), flush=True)


main()
