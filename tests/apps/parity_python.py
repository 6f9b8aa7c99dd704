#!/usr/bin/env python3
"""parity_python.py - helpers of tests/apps/test_parity_python.sh.

  results XML...            per-test results of regrtest --junit-xml files,
                            one line each: "<test id> pass|fail|error|skip"
  compare PLAIN TC KNOWN    compares two results files (see below)
  pcap FILE MARKER...       what a capture on lo shows, one "key value" a line:
                            syn, syn_eno (SYNs without ACK, and those that
                            carry TCP-ENO, option kind 69), synack,
                            synack_eno, urg (segments with the URG flag),
                            and "marker<TAB><count><TAB><text>" for each MARKER: how
                            many times that plaintext occurs in the capture

compare: the tests compared are those that passed in PLAIN. Each must pass
in TC too. KNOWN lists test ids (first word of each line; # comments) whose
difference is known: they are still compared and printed, but do not count
as failures. Prints a summary; exit status 1 if some compared test did not
pass under tcpcrypt and is not in KNOWN, 0 otherwise.
"""
import struct
import sys
import xml.etree.ElementTree as ET


def results(files):
    out = {}
    for f in files:
        root = ET.parse(f).getroot()
        for tc in root.iter("testcase"):
            name = tc.get("name")
            st = "pass"
            for child in tc:
                if child.tag in ("failure", "error"):
                    st = "fail" if child.tag == "failure" else "error"
                    break
                if child.tag == "skipped":
                    st = "skip"
            if tc.get("status") == "notrun" and st == "pass":
                st = "skip"
            # a test id seen twice (a subTest, a rerun): the worst result
            prev = out.get(name)
            if prev is None or prev == "pass" or (prev == "skip" and st != "pass"):
                out[name] = st
    for name in sorted(out):
        print(name, out[name])


def load(path):
    d = {}
    with open(path) as fh:
        for line in fh:
            w = line.split()
            if len(w) == 2:
                d[w[0]] = w[1]
    return d


def compare(plain_path, tc_path, known_path):
    plain, tc = load(plain_path), load(tc_path)
    known = set()
    with open(known_path) as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if line:
                known.add(line.split()[0])
    compared = sorted(t for t, s in plain.items() if s == "pass")
    notplain = sorted(t for t, s in plain.items() if s != "pass")
    diff = [t for t in compared if tc.get(t) != "pass"]
    bad = [t for t in diff if t not in known]
    fixed = [t for t in known if plain.get(t) == "pass" and tc.get(t) == "pass"]
    print("%d tests ran plain: %d passed (compared), %d skipped or failed plain (not compared)"
          % (len(plain), len(compared), len(notplain)))
    print("under tcpcrypt: %d of the %d compared tests passed, %d differ "
          "(%d known, %d new)" % (len(compared) - len(diff), len(compared),
                                  len(diff), len(diff) - len(bad), len(bad)))
    for t in diff:
        print("DIFF%s %s: plain pass, tcpcrypt %s"
              % (" (known)" if t in known else "", t, tc.get(t, "missing")))
    for t in fixed:
        print("NOW-PASSES %s: listed in KNOWN_DIFF but passed under tcpcrypt"
              % t)
    return 1 if bad else 0


def pcap(path, markers):
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 24:
        raise SystemExit("pcap: %s: too short" % path)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        raise SystemExit("pcap: %s: not a pcap file" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    n = {"syn": 0, "syn_eno": 0, "synack": 0, "synack_eno": 0, "urg": 0}
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:              # Ethernet (lo)
            if len(pkt) < 14:
                continue
            etype = struct.unpack("!H", pkt[12:14])[0]
            p = pkt[14:]
        elif linktype == 113:          # Linux cooked
            if len(pkt) < 16:
                continue
            etype = struct.unpack("!H", pkt[14:16])[0]
            p = pkt[16:]
        else:
            raise SystemExit("pcap: link type %d not handled" % linktype)
        if etype == 0x0800 and len(p) >= 20 and p[9] == 6:
            t = p[(p[0] & 15) * 4:]
        elif etype == 0x86DD and len(p) >= 40 and p[6] == 6:
            t = p[40:]
        else:
            continue
        if len(t) < 20:
            continue
        flags = t[13]
        if flags & 0x20:
            n["urg"] += 1
        if not flags & 0x02:
            continue
        hl = (t[12] >> 4) * 4
        opts, i, eno = t[20:hl], 0, False
        while i < len(opts):
            k = opts[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            if i + 1 >= len(opts) or opts[i + 1] < 2:
                break
            if k == 69:
                eno = True
            i += opts[i + 1]
        key = "synack" if flags & 0x10 else "syn"
        n[key] += 1
        n[key + "_eno"] += eno
    for k in ("syn", "syn_eno", "synack", "synack_eno", "urg"):
        print(k, n[k])
    for m in markers:
        print("marker\t%d\t%s" % (data.count(m.encode()),
                                   m.encode("unicode_escape").decode()))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "results":
        results(sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "compare":
        sys.exit(compare(*sys.argv[2:]))
    elif len(sys.argv) >= 3 and sys.argv[1] == "pcap":
        pcap(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
