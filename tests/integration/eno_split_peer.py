#!/usr/bin/env python3
"""eno_split_peer - one end of a connection for eno_flood.sh, run under
tcpcrypt-run (or not, for a plain end). Prints one result line.

  eno_split_peer.py server PORT BACKLOG MARKER
      accepts one connection, sends MARKER + newline at once, then reads
      until a newline, EOF, an error or 45 s;
  eno_split_peer.py client ADDR PORT MARKER
      connects, sends MARKER + newline, reads the same way.

Result line: "ROLE accept=ok|ERRNAME recv=HEX|- sessid=HEX|- err=ERRNAME|-"
(recv: every byte the application received; sessid: TCP_CRYPT_SESSID, "-"
when the shim has none, i.e. the connection is plain)."""
import errno, socket, sys

TCP_CRYPT_SESSID = 0x54430001
TIMEOUT = 45


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if isinstance(e, OSError) and e.errno else type(e).__name__


def sessid(s):
    try:
        return s.getsockopt(socket.IPPROTO_TCP, TCP_CRYPT_SESSID, 64).hex() or "-"
    except OSError:
        return "-"


def exchange(role, s, marker, accepted="ok"):
    got, err = b"", "-"
    s.settimeout(TIMEOUT)
    try:
        s.sendall(marker.encode() + b"\n")
        while not got.endswith(b"\n"):
            b = s.recv(4096)
            if not b:
                err = "EOF"
                break
            got += b
    except Exception as e:  # noqa: BLE001 - reported, never raised
        err = ename(e)
    print("%s accept=%s recv=%s sessid=%s err=%s" % (role, accepted, got.hex() or "-", sessid(s), err), flush=True)


def main():
    if sys.argv[1] == "server":
        port, backlog, marker = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", port))
        ls.listen(backlog)
        ls.settimeout(TIMEOUT + 15)
        try:
            c, _ = ls.accept()
        except Exception as e:  # noqa: BLE001
            print("server accept=%s recv=- sessid=- err=-" % ename(e), flush=True)
            return 0
        exchange("server", c, marker)
        c.close()
        return 0
    addr, port, marker = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    try:
        s.connect((addr, port))
    except Exception as e:  # noqa: BLE001
        print("client accept=%s recv=- sessid=- err=-" % ename(e), flush=True)
        return 0
    exchange("client", s, marker)
    s.close()
    return 0


sys.exit(main())
