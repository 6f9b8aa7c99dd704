#!/usr/bin/env python3
"""eno_rawsyn - plays one end of a connection with hand-made segments (raw
socket), to show the other end options no conforming stack sends.

  eno_rawsyn.py SRC_IP SRC_PORT DST_IP DST_PORT SYN_OPTS_HEX [SYN_DATA]
  eno_rawsyn.py fake-b LOCAL_IP PORT SYNACK_OPTS_HEX

Second form (host B): prints "ready", waits for a SYN to PORT, prints
"syn eno=HEX|-", answers with a SYN-ACK carrying the given options area,
prints "ack eno=HEX|-" for A's first non-SYN segment, answers A's "ping\n"
with "pong\n" and exits. The caller must drop the RSTs B's kernel sends.

First form (host A):
Sends a SYN with the given TCP options area (hex, padded with NOPs to a
multiple of 4) and optional payload, waits for B's SYN-ACK, prints
"synack eno=HEX|-" (B's kind-69 options), then completes the handshake with
an ACK that carries 45 02 and the line "ping\\n". The caller must drop the
RSTs A's kernel would send (A has no socket for this connection)."""
import os, random, socket, struct, sys, time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def segment(src, dst, sport, dport, seq, ack, flags, opts, payload):
    opts += b"\x01" * (-len(opts) % 4)
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
    c = csum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def eno_opts(tcp):
    off = (tcp[12] >> 4) * 4
    o, i, out = tcp[20:off], 0, []
    while i < len(o):
        k = o[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(o) or o[i + 1] < 2:
            break
        if k == 69:
            out.append(o[i:i + o[i + 1]].hex())
        i += o[i + 1]
    return ",".join(out) or "-"


def main():
    src, sport, dst, dport, opts = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), bytes.fromhex(sys.argv[5])
    data = sys.argv[6].encode() if len(sys.argv) > 6 else b""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    isn = random.randrange(1 << 32)
    s.sendto(segment(src, dst, sport, dport, isn, 0, 0x02, opts, data), (dst, 0))
    deadline = time.time() + 5
    s.settimeout(1)
    while time.time() < deadline:
        try:
            pkt = s.recv(65535)
        except socket.timeout:
            continue
        ihl = (pkt[0] & 15) * 4
        tcp = pkt[ihl:]
        sp, dp, seq = struct.unpack("!HHI", tcp[:8])
        if sp == dport and dp == sport and tcp[13] & 0x12 == 0x12:
            print("synack eno=" + eno_opts(tcp), flush=True)
            ack = (seq + 1) & 0xFFFFFFFF
            s.sendto(segment(src, dst, sport, dport, isn + 1, ack, 0x18, b"\x45\x02", b"ping\n"), (dst, 0))
            return 0
    print("no SYN-ACK", file=sys.stderr)
    return 1


def fake_b():
    local, port, opts = sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.settimeout(1)
    print("ready", flush=True)
    isn = random.randrange(1 << 32)
    peer = None
    acked = False
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            pkt, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        ihl = (pkt[0] & 15) * 4
        tcp = pkt[ihl:]
        sp, dp, seq = struct.unpack("!HHI", tcp[:8])
        if dp != port:
            continue
        payload = tcp[(tcp[12] >> 4) * 4:]
        if tcp[13] & 0x02:
            if peer is None:
                print("syn eno=" + eno_opts(tcp), flush=True)
            peer = (addr[0], sp, seq)
            s.sendto(segment(local, peer[0], port, sp, isn, (seq + 1) & 0xFFFFFFFF, 0x12, opts, b""), (peer[0], 0))
            continue
        if peer is None or sp != peer[1]:
            continue
        if not acked:
            print("ack eno=" + eno_opts(tcp), flush=True)
            acked = True
        if payload:
            ack = (seq + len(payload)) & 0xFFFFFFFF
            s.sendto(segment(local, peer[0], port, sp, isn + 1, ack, 0x18, b"", b"pong\n"), (peer[0], 0))
            return 0
    print("no exchange", file=sys.stderr)
    return 1


sys.exit(fake_b() if sys.argv[1] == "fake-b" else main())
