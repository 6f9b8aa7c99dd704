#!/usr/bin/env python3
"""divert_forge - sends one hand-made TCP segment (raw socket, SO_MARK
0x7e57 so that the test's hold rules let it through), for divert_forged.sh.

  divert_forge.py SRC_IP SRC_PORT DST_IP DST_PORT FLAGS SEQ ACK

FLAGS: "ack" or "synack". No options, no payload."""
import socket, struct, sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    src, sport, dst, dport, kind, seq, ack = sys.argv[1:8]
    flags = {"ack": 0x10, "synack": 0x12}[kind]
    hdr = struct.pack("!HHIIBBHHH", int(sport), int(dport), int(seq) & 0xFFFFFFFF,
                      int(ack) & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    c = csum(pseudo + hdr)
    hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0x7e57)
    s.sendto(hdr, (dst, 0))


main()
