#!/usr/bin/env python3
"""Echo servers and a checking client for tests/apps/test_python.sh.

  pyecho.py asyncio-server HOST PORT SESSFILE
  pyecho.py threading-server HOST PORT SESSFILE
  pyecho.py client HOST PORT NCONN MAXBYTES SESSFILE [--threads]
  pyecho.py epoll-probe HOST PORT NCONN

Servers echo every byte back until EOF, then close; at EOF on each
accepted socket they append the tcpcrypt session ID (getsockopt TCP_CRYPT_SESSID, hex) or
"none: <error>" to SESSFILE.

The client opens NCONN concurrent connections (asyncio, or one blocking
socket and thread each with --threads). On each it checks that
getsockopt(IPPROTO_TCP, TCP_CRYPT_SESSID, 64) returns 33 bytes starting 0x23
after the echo came back (and, with --threads, also right after the
blocking connect() returned), sends a random number (0..MAXBYTES) of
random bytes in writes of random sizes while reading the echo concurrently,
shuts down its sending side, reads to EOF and compares. Exit 0 only if every
connection got exactly its bytes back and had a session ID; the session IDs
go to SESSFILE.
"""
import asyncio
import hashlib
import os
import random
import socket
import socketserver
import sys
import threading

TCP_CRYPT_SESSID = 0x54430001


def sessid(sock):
    try:
        v = sock.getsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SESSID, 64)
    except OSError as e:
        return None, "none: %s" % e
    return v, v.hex()


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", buffering=1)

    def add(self, line):
        with self.lock:
            self.f.write(line + "\n")


async def asyncio_server(host, port, log):
    async def handle(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            # At EOF the key exchange is certainly over (the peer's FIN
            # came in an authenticated frame): the session ID must be there.
            log.add(sessid(writer.get_extra_info("socket"))[1])
        finally:
            writer.close()
    srv = await asyncio.start_server(handle, host, port, backlog=1024)
    async with srv:
        await srv.serve_forever()


def threading_server(host, port, log):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            while True:
                data = self.request.recv(65536)
                if not data:
                    break
                self.request.sendall(data)
            log.add(sessid(self.request)[1])

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = 1024

    with Server((host, port), Handler) as srv:
        srv.serve_forever()


def plan(rng, maxbytes):
    total = rng.randint(0, maxbytes)
    data = rng.randbytes(total)
    cuts, off = [], 0
    while off < total:
        n = min(total - off, rng.choice([1, 7, 100, 1000, 1460, 4096, 16384, 70000]))
        cuts.append(data[off:off + n])
        off += n
    return data, cuts


async def aclient_one(host, port, rng, maxbytes, i):
    data, cuts = plan(rng, maxbytes)
    reader, writer = await asyncio.open_connection(host, port)
    errs = []

    async def send():
        for c in cuts:
            writer.write(c)
            await writer.drain()
            if rng.random() < 0.1:
                await asyncio.sleep(0)
        writer.write_eof()

    async def recv():
        got = bytearray()
        while True:
            d = await reader.read(rng.choice([1, 100, 4096, 65536]))
            if not d:
                return bytes(got)
            got += d
    _, got = await asyncio.gather(send(), recv())
    # After the echo came back the keys certainly exist.
    sid, text = sessid(writer.get_extra_info("socket"))
    if sid is None or len(sid) != 33 or sid[0] != 0x23:
        errs.append("conn %d: TCP_CRYPT_SESSID after the echo gave %s" % (i, text if sid is None else sid.hex()))
    writer.close()
    if got != data:
        errs.append("conn %d: sent %d bytes (sha256 %s), got %d back (sha256 %s)" % (
            i, len(data), hashlib.sha256(data).hexdigest()[:16], len(got),
            hashlib.sha256(got).hexdigest()[:16]))
    return text, errs, len(data)


async def aclient(host, port, n, maxbytes, seed):
    rngs = [random.Random(seed * 100003 + i) for i in range(n)]
    res = await asyncio.wait_for(asyncio.gather(
        *(aclient_one(host, port, rngs[i], maxbytes, i) for i in range(n)),
        return_exceptions=True), 75)
    return res


def tclient(host, port, n, maxbytes, seed):
    res = [None] * n

    def one(i):
        rng = random.Random(seed * 100003 + i)
        try:
            data, cuts = plan(rng, maxbytes)
            s = socket.create_connection((host, port), timeout=60)
            errs = []
            # A blocking socket whose connect() returned: the application
            # may ask for the session ID at once (as it may read at once,
            # which waits for the key exchange).
            sid, text = sessid(s)
            if sid is None or len(sid) != 33 or sid[0] != 0x23:
                errs.append("conn %d: TCP_CRYPT_SESSID right after connect() gave %s" % (
                    i, text if sid is None else sid.hex()))
            got = bytearray()

            def reader():
                while True:
                    d = s.recv(65536)
                    if not d:
                        return
                    got.extend(d)
            t = threading.Thread(target=reader)
            t.start()
            for c in cuts:
                s.sendall(c)
            s.shutdown(socket.SHUT_WR)
            t.join(70)
            sid2, text = sessid(s)
            if sid2 is None or len(sid2) != 33 or sid2[0] != 0x23:
                errs.append("conn %d: TCP_CRYPT_SESSID after the echo gave %s" % (
                    i, text if sid2 is None else sid2.hex()))
            elif sid is not None and sid != sid2:
                errs.append("conn %d: session ID changed" % i)
            s.close()
            if bytes(got) != data:
                errs.append("conn %d: sent %d bytes, got %d back, different" % (i, len(data), len(got)))
            res[i] = (text, errs, len(data))
        except Exception as e:  # reported below
            res[i] = e
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(80)
    return res


def epoll_probe(host, port, n):
    """wrk's and redis-benchmark's pattern: non-blocking connect, write a
    request as soon as the socket is writable, then read once for each
    EPOLLIN (level-triggered). On a kernel TCP socket a read after EPOLLIN
    never fails with EAGAIN: wrk counts that as a read error and drops the
    connection. Returns the number of connections where it happened."""
    import select
    bad = 0
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        ep = select.epoll()
        ep.register(s.fileno(), select.EPOLLOUT)
        if not ep.poll(10):
            print("conn %d: connect did not complete" % i)
            bad += 1
            continue
        msg = b"x" * 100
        try:
            s.send(msg)
        except OSError as e:
            print("conn %d: send() failed: %s" % (i, e))
            bad += 1
            continue
        ep.modify(s.fileno(), select.EPOLLIN)
        got, spurious = b"", 0
        while len(got) < len(msg):
            if not ep.poll(10):
                print("conn %d: no echo within 10 s" % i)
                break
            try:
                d = os.read(s.fileno(), 65536)
            except BlockingIOError:
                spurious += 1
                continue
            except OSError as e:
                print("conn %d: read() after EPOLLIN failed: %s" % (i, e))
                break
            if not d:
                break
            got += d
        if spurious or got != msg:
            bad += 1
            print("conn %d: EPOLLIN then read() -> EAGAIN %d time(s); echo %s" % (
                i, spurious, "ok" if got == msg else "WRONG (%d bytes)" % len(got)))
        ep.close()
        s.close()
    print("%d connections, %d with a read() EAGAIN after EPOLLIN or a wrong echo" % (n, bad))
    return 1 if bad else 0


def main():
    mode = sys.argv[1]
    if mode == "epoll-probe":
        return epoll_probe(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if mode in ("asyncio-server", "threading-server"):
        host, port, log = sys.argv[2], int(sys.argv[3]), Log(sys.argv[4])
        if mode == "asyncio-server":
            asyncio.run(asyncio_server(host, port, log))
        else:
            threading_server(host, port, log)
        return 0
    host, port, n, maxbytes, sessfile = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
        int(sys.argv[5]), sys.argv[6]
    seed = int.from_bytes(os.urandom(4), "big")
    if "--threads" in sys.argv:
        res = tclient(host, port, n, maxbytes, seed)
    else:
        res = asyncio.run(aclient(host, port, n, maxbytes, seed))
    bad, total = 0, 0
    with open(sessfile, "w") as f:
        for i, r in enumerate(res):
            if r is None or isinstance(r, BaseException):
                bad += 1
                print("conn %d: %r" % (i, r))
                continue
            text, errs, nbytes = r
            total += nbytes
            f.write(text + "\n")
            for e in errs:
                bad += 1
                print(e)
    print("%d connections, %d bytes echoed, %d errors (seed %d)" % (n, total, bad, seed))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
