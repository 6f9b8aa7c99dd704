#!/usr/bin/env python3
"""divert_ctl_hold - holds connections to a divert daemon's control socket
without sending anything (a user trying to use up the daemon's client
slots), for divert_ctl_slots.sh.

  divert_ctl_hold.py PATH N SECONDS

Keeps up to N connections open for SECONDS (as many as the socket's
backlog lets connect); one the daemon closes is opened again at once.
Prints "held K" after one second (K open), then at the end "reopened K"
(how many times the daemon closed one)."""
import select, socket, sys, time


def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return None
    return s


def main():
    path, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    socks, reopened, told = [], 0, False
    start = time.monotonic()
    end = start + secs
    while time.monotonic() < end:
        while len(socks) < n:
            s = conn(path)
            if s is None:
                break
            socks.append(s)
        if time.monotonic() - start >= 1 and not told:
            print("held %d" % len(socks), flush=True)
            told = True
        r, _, _ = select.select(socks, [], [], 0.01)
        for s in r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if not d:
                socks.remove(s)
                s.close()
                reopened += 1
    print("reopened %d" % reopened, flush=True)


main()
