#!/usr/bin/env python3
"""divert_tab - looks up one connection in the divert daemon's shared
handshake table (include/tcpcrypt/divert_proto.h, struct tcd_tab), for the
tests: by a linear scan, so that it does not depend on how the daemon
hashes keys.

  divert_tab.py TABFILE LADDR LPORT RADDR RPORT

Prints "state=N acked=N reason=N flags=0xNN isn=N isn_b=N" (isn: A's
ISN, isn_b: B's, as the daemon recorded them) for the live slot of that
IPv4 4-tuple (the newest when several match), or "none"."""
import socket, struct, sys, time

SLOTS = 16384
HDR = 16            # magic, nslots, judged_ms
TTL_MS = 120000


def main():
    path, laddr, lport, raddr, rport = sys.argv[1:6]
    key = struct.pack("<BBHH16s16s", socket.AF_INET, 0, int(lport), int(rport),
                      socket.inet_aton(laddr), socket.inet_aton(raddr))
    data = open(path, "rb").read()
    size = (len(data) - HDR) // SLOTS
    now = int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1000)
    best = None
    off = data.find(key, HDR)
    while off >= 0:
        if (off - HDR) % size == 0:
            t_ms, state, acked, _ac, _sd, _oid = struct.unpack_from("<QBBbBH", data, off + 40)
            ver, flags, reason = struct.unpack_from("<BBB", data, off + 56)
            isn, isn_b = struct.unpack_from("<II", data, off + size - 8)
            if t_ms and now - t_ms < TTL_MS and (best is None or t_ms > best[0]):
                best = (t_ms, state, acked, reason, flags, isn, isn_b)
        off = data.find(key, off + 1)
    if best is None:
        print("none")
    else:
        print("state=%d acked=%d reason=%d flags=0x%02x isn=%d isn_b=%d" % best[1:])


main()
