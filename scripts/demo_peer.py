#!/usr/bin/env python3
"""demo_peer.py - an ordinary TCP client and server for the demo.

Nothing in here knows about tcpcrypt except one getsockopt that reads the
session ID (TCP_CRYPT_SESSID, answered by the preloaded shim; without it the
call fails and the peer says the connection is plain).

  demo_peer.py server PORT          accepts one connection, prints what it got, replies
  demo_peer.py client HOST PORT MSG  sends MSG, prints the reply, holds the connection 2 s
"""
import socket
import sys
import time

TCP_CRYPT_SESSID = 0x54430001


def sessid(sock):
    try:
        sid = sock.getsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SESSID, 64)
        return sid.hex()
    except OSError as e:
        return "none (%s): the connection is plain TCP" % e.strerror


def server(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    print("B: listening on port %d" % port, flush=True)
    conn, peer = ls.accept()
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    print("B: received from %s: %s" % (peer[0], data.decode().strip()), flush=True)
    print("B: session ID %s" % sessid(conn), flush=True)
    conn.sendall(b"hello A, B got your message\n")
    conn.recv(1)  # wait for A to close
    conn.close()


def client(host, port, msg):
    s = socket.create_connection((host, port))
    s.sendall(msg.encode() + b"\n")
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    print("A: reply: %s" % reply.decode().strip(), flush=True)
    print("A: session ID %s" % sessid(s), flush=True)
    time.sleep(2)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
