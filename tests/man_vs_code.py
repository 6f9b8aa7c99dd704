#!/usr/bin/env python3
"""man_vs_code.py SRCDIR PROGRAM... - the manual pages against the code
(test_man.sh runs it), in both directions:

  * every PROGRAM (each program the build installs) has a page
    man/PROGRAM.[1-8];
  * the options of each program's page (every PROGRAM's, and every page of
    sections 1 and 8, whether this configuration builds its program or not) (the tags of its OPTIONS section)
    are exactly the options its code parses: the getopt_long table and
    option string of PROGRAM.c (else of the C file that calls getopt_long
    and prints "PROGRAM ... VERSION"), or the case patterns of PROGRAM.in;
  * every TCPCRYPT_* / TCPCRYPTD_* environment variable the code reads
    (getenv, secure_getenv, env_flag) is documented in some page, and every
    such variable a page names in an ENVIRONMENT section exists in the code.

Prints one FAIL line per mismatch and exits 1 if there is any."""
import glob
import os
import re
import sys

SKIP_DIRS = ("/_", "/.git", "/debian/", "/tests/")


def sources(src, exts):
    """Source files of the product (no build trees, no tests)."""
    out = []
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(("_", ".")) and d not in ("tests", "debian")]
        for f in files:
            if f.endswith(exts):
                out.append(os.path.join(root, f))
    return sorted(out)


def roff_text(s):
    """A roff line with font escapes removed and \\- turned into -."""
    s = re.sub(r"\\f[BIRP]|\\f\(..|\\&", "", s)
    return s.replace("\\-", "-")


def page_options(page):
    """Long and short options named in the tags (.TP next line) of OPTIONS."""
    lines = open(page, encoding="utf-8").read().split("\n")
    longs, shorts, in_opts = set(), set(), False
    for i, l in enumerate(lines):
        if l.startswith(".SH"):
            in_opts = l.strip() == ".SH OPTIONS"
            continue
        if not in_opts or l.strip() != ".TP" or i + 1 >= len(lines):
            continue
        tag = roff_text(lines[i + 1])
        longs |= set(re.findall(r"--([a-z][a-z0-9-]*)", tag))
        shorts |= set(re.findall(r"(?<![-\w])-([A-Za-z0-9])\b", tag))
    return longs, shorts


def c_options(path):
    """The options of a C program: its struct option table and optstring."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"struct option\s+\w+\[\]\s*=\s*\{(.*?)\n\s*\};", text, re.S)
    if not m:
        return None
    longs = set(re.findall(r'\{\s*"([a-z][a-z0-9-]*)"', m.group(1)))
    shorts = set()
    for opts in re.findall(r'getopt_long\s*\([^,]+,[^,]+,\s*"([^"]*)"', text):
        shorts |= set(c for c in opts if c.isalnum())
    return longs, shorts


def sh_options(path):
    """The options of a shell launcher: the patterns of its case arms."""
    longs, shorts = set(), set()
    for pat in re.findall(r"^\s*((?:-[^\s)]*\|?)+)\)", open(path, encoding="utf-8").read(), re.M):
        for alt in pat.split("|"):
            if alt.startswith("--") and len(alt) > 2:
                longs.add(re.sub(r"[=*].*$", "", alt[2:]))
            elif re.fullmatch(r"-[A-Za-z0-9]\??\*?", alt):
                shorts.add(alt[1])
    return longs, shorts


def env_read_by_code(src):
    """TCPCRYPT*_ variables the code reads (getenv of a literal, or of a
    macro #defined as one in the same file), with the file reading each."""
    found = {}
    call = re.compile(r'(?:secure_getenv|getenv|env_flag)\s*\(\s*("TCPCRYPTD?_[A-Z0-9_]+"|[A-Z_][A-Z0-9_]*)\s*\)')
    for f in sources(src, (".c", ".h")):
        text = open(f, encoding="utf-8", errors="replace").read()
        macros = dict(re.findall(r'^#define\s+([A-Z_][A-Z0-9_]*)\s+"(TCPCRYPTD?_[A-Z0-9_]+)"', text, re.M))
        for arg in call.findall(text):
            v = arg.strip('"') if arg.startswith('"') else macros.get(arg)
            if v:
                found.setdefault(v, os.path.relpath(f, src))
    return found


def env_in_pages(pages):
    """TCPCRYPT*_ variables named in the tags of ENVIRONMENT sections."""
    names = {}
    for page in pages:
        lines = open(page, encoding="utf-8").read().split("\n")
        in_env = False
        for i, l in enumerate(lines):
            if l.startswith(".SH"):
                in_env = l.strip() == ".SH ENVIRONMENT"
                continue
            if in_env and l.strip() == ".TP" and i + 1 < len(lines):
                for v in re.findall(r"TCPCRYPTD?_[A-Z0-9_]+", roff_text(lines[i + 1]).replace("\\", "")):
                    names.setdefault(v, os.path.basename(page))
    return names


def main():
    src, programs = sys.argv[1], sys.argv[2:]
    pages = sorted(glob.glob(os.path.join(src, "man", "*.[1-8]")))
    all_pages_text = "".join(roff_text(open(p, encoding="utf-8").read()) for p in pages).replace("\\", "")
    code_text = "".join(open(f, encoding="utf-8", errors="replace").read()
                        for f in sources(src, (".c", ".h", ".in", ".sh", ".bpf.c")))
    fails = []
    checked = 0
    # the programs of section 1 and 8 pages too, built in this configuration
    # or not: their options are compared from the sources all the same
    others = [os.path.basename(p)[:-2] for p in pages if p.endswith((".1", ".8"))]
    for prog in programs + sorted(set(others) - set(programs)):
        page = [p for p in pages if re.fullmatch(re.escape(prog) + r"\.[1-8]", os.path.basename(p))]
        if not page:
            fails.append(f"{prog} is built and installed but has no page man/{prog}.[1-8]")
            continue
        page = page[0]
        cands = [f for f in sources(src, (".c", ".in")) if os.path.basename(f) in (prog + ".c", prog + ".in")]
        if not cands:   # else: the C file that parses options and prints "PROG ... VERSION"
            ver = re.compile(r'getopt_long[\s\S]*printf\("' + re.escape(prog) + r'[ (]')
            cands = [f for f in sources(src, (".c",)) if ver.search(open(f, encoding="utf-8", errors="replace").read())]
        if len(cands) != 1:
            fails.append(f"{prog}: cannot find its option parser (one {prog}.c or {prog}.in), found {cands}")
            continue
        code = c_options(cands[0]) if cands[0].endswith(".c") else sh_options(cands[0])
        if not code or not code[0]:
            fails.append(f"{prog}: no options found in {os.path.relpath(cands[0], src)}")
            continue
        plong, pshort = page_options(page)
        clong, cshort = code
        name, where = os.path.basename(page), os.path.relpath(cands[0], src)
        for o in sorted(plong - clong):
            fails.append(f"{name} documents --{o}, which {where} does not parse")
        for o in sorted(clong - plong):
            fails.append(f"{where} parses --{o}, which {name} (OPTIONS) does not document")
        for o in sorted(pshort - cshort):
            fails.append(f"{name} documents -{o}, which {where} does not parse")
        for o in sorted(cshort - pshort):
            fails.append(f"{where} parses -{o}, which {name} (OPTIONS) does not document")
        checked += 1
    read = env_read_by_code(src)
    for v, f in sorted(read.items()):
        if not re.search(r"\b" + v + r"\b", all_pages_text):
            fails.append(f"{f} reads {v}, which no manual page documents")
    for v, page in sorted(env_in_pages(pages).items()):
        if not re.search(r"\b" + v + r"\b", code_text):
            fails.append(f"{page} documents the variable {v}, which the code never names")
    for f in fails:
        print("FAIL: " + f)
    print(f"# man vs code: {checked} programs' options, {len(read)} environment variables read by the code")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
