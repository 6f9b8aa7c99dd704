#!/usr/bin/env python3
"""divert_ctl.py CONTROL KIND - sends one divert-backend request to tcpcryptd
(include/tcpcrypt/divert_proto.h) with a file descriptor of the given kind
attached, and prints the daemon's error as an errno name (OK for 0).

KIND: tcp (fresh TCP socket, opt-in), udp, unix, pipe (opt-in of a non-TCP
fd), connected (opt-in of a connected TCP socket: ADDR PORT follow),
result (result of a fresh TCP socket that was never opted in),
badoffer (opt-in with version 9), nofd (opt-in without a descriptor),
offer:HEX (opt-in of a fresh TCP socket with this offer content)."""
import errno
import os
import socket
import struct
import sys

MAGIC = 0x54434431


def request(ctl, op, fd, version=1, content=b"\x23"):
    offer = struct.pack("=BBBB36s", version, 0, len(content), 0, content)
    req = struct.pack("=IB3x", MAGIC, op) + offer
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(ctl)
    if fd is None:
        s.sendall(req)
    else:
        socket.send_fds(s, [req], [fd])
    resp = b""
    while len(resp) < 8 + 88:
        chunk = s.recv(200)
        if not chunk:
            break
        resp += chunk
    s.close()
    magic, err = struct.unpack("=Ii", resp[:8])
    assert magic == MAGIC, "bad magic"
    return err


def main():
    ctl, kind = sys.argv[1], sys.argv[2]
    op, version = 1, 1
    keep = None
    content = b"\x23"
    if kind == "tcp":
        keep = socket.socket()
    elif kind == "udp":
        keep = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    elif kind == "unix":
        keep = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    elif kind == "pipe":
        r, w = os.pipe()
        fd = r
    elif kind == "connected":
        keep = socket.create_connection((sys.argv[3], int(sys.argv[4])))
    elif kind == "result":
        keep = socket.socket()
        op = 2
    elif kind == "badoffer":
        keep = socket.socket()
        version = 9
    elif kind == "nofd":
        fd = None
    elif kind.startswith("offer:"):
        keep = socket.socket()
        content = bytes.fromhex(kind[6:])
    if keep is not None:
        fd = keep.fileno()
    err = request(ctl, op, fd, version, content)
    print("OK" if err == 0 else errno.errorcode.get(err, str(err)))


main()
