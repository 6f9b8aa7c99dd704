#!/usr/bin/env python3
"""Independent known-answer generator for the tcpcrypt engine (RFC 8548,
TEP TCPCRYPT_ECDHE_Curve25519 0x23, AEAD ChaCha20-Poly1305 0x0010).

Pure standard-library Python, sharing no code with libtcpcrypt:
  * HKDF-SHA256 (RFC 5869) on hmac/hashlib,
  * X25519 (RFC 7748 section 5) as a plain Montgomery ladder,
  * ChaCha20-Poly1305 (RFC 8439) from the RFC's pseudo-code.
Each primitive is checked against its RFC vectors before anything is
printed. The output is pasted as constants into tests/unit/check_kat.c.

Fixed inputs: the X25519 secret keys of RFC 7748 6.1 (Alice = A, Bob = B),
N_A = 0x40..0x5f, N_B = 0x60..0x7f, ENO transcript 45 03 23 45 04 01 23,
A offers [0x0010] (Init1 = 75 bytes), B prefers [0x0002, 0x0010].
Frame offsets count the Init message (RFC-NOTES 2.7): A's first frame is
at 75, B's at 74.

Usage: python3 gen_kat.py   (prints C initialisers on stdout)
"""
import hashlib
import hmac
import struct
import sys

# ---------------------------------------------------------------- HKDF
def hkdf_extract(salt, ikm):
    if not salt:
        salt = bytes(32)
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):
    out, t, n = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([n]), hashlib.sha256).digest()
        out += t
        n += 1
    return out[:length]

# ---------------------------------------------------------------- X25519
P25519 = 2**255 - 19
A24 = 121665


def x25519(k, u):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = int.from_bytes(k, "little")
    u = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(255)):
        kt = (k >> t) & 1
        swap ^= kt
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = kt
        a, b = (x2 + z2) % P25519, (x2 - z2) % P25519
        aa, bb = a * a % P25519, b * b % P25519
        e = (aa - bb) % P25519
        c, d = (x3 + z3) % P25519, (x3 - z3) % P25519
        da, cb = d * a % P25519, c * b % P25519
        x3 = (da + cb) ** 2 % P25519
        z3 = x1 * (da - cb) ** 2 % P25519
        x2 = aa * bb % P25519
        z2 = e * (aa + A24 * e) % P25519
    if swap:
        x2, x3, z2, z3 = x3, x2, z3, z2
    return (x2 * pow(z2, P25519 - 2, P25519) % P25519).to_bytes(32, "little")


def x25519_base(k):
    return x25519(k, (9).to_bytes(32, "little"))

# ---------------------------------------------------------------- ChaCha20-Poly1305
def _rotl(v, c):
    return ((v << c) & 0xffffffff) | (v >> (32 - c))


def _qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_block(key, counter, nonce):
    st = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    st += list(struct.unpack("<8I", key)) + [counter] + list(struct.unpack("<3I", nonce))
    w = st[:]
    for _ in range(10):
        _qr(w, 0, 4, 8, 12); _qr(w, 1, 5, 9, 13); _qr(w, 2, 6, 10, 14); _qr(w, 3, 7, 11, 15)
        _qr(w, 0, 5, 10, 15); _qr(w, 1, 6, 11, 12); _qr(w, 2, 7, 8, 13); _qr(w, 3, 4, 9, 14)
    return struct.pack("<16I", *[(w[i] + st[i]) & 0xffffffff for i in range(16)])


def chacha20_xor(key, counter, nonce, data):
    out = bytearray()
    for i in range(0, len(data), 64):
        ks = chacha20_block(key, counter + i // 64, nonce)
        out += bytes(x ^ y for x, y in zip(data[i:i + 64], ks))
    return bytes(out)


def poly1305(key, msg):
    r = int.from_bytes(key[:16], "little") & 0x0ffffffc0ffffffc0ffffffc0fffffff
    s = int.from_bytes(key[16:], "little")
    p, acc = (1 << 130) - 5, 0
    for i in range(0, len(msg), 16):
        n = int.from_bytes(msg[i:i + 16] + b"\x01", "little")
        acc = (acc + n) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _pad16(b):
    return bytes((16 - len(b) % 16) % 16)


def aead_chacha20poly1305_seal(key, nonce, plaintext, aad):
    otk = chacha20_block(key, 0, nonce)[:32]
    ct = chacha20_xor(key, 1, nonce, plaintext)
    mac = aad + _pad16(aad) + ct + _pad16(ct) + struct.pack("<QQ", len(aad), len(ct))
    return ct + poly1305(otk, mac)

# ---------------------------------------------------------------- self-checks
def h(s):
    return bytes.fromhex(s.replace(" ", "").replace("\n", ""))


def check_primitives():
    # RFC 5869 A.1 - A.3
    vecs = [
        (h("0b" * 22), h("000102030405060708090a0b0c"), h("f0f1f2f3f4f5f6f7f8f9"), 42,
         "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
        (bytes(range(0x00, 0x50)), bytes(range(0x60, 0xb0)), bytes(range(0xb0, 0x100)), 82,
         "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
         "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
         "cc30c58179ec3e87c14c01d5c1f3434f1d87"),
        (h("0b" * 22), b"", b"", 42,
         "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
    ]
    for ikm, salt, info, length, prk, okm in vecs:
        p = hkdf_extract(salt, ikm)
        assert p == h(prk), "HKDF-Extract"
        assert hkdf_expand(p, info, length) == h(okm), "HKDF-Expand"
    # RFC 7748 6.1
    a_sk = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b_sk = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    assert x25519_base(a_sk) == h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    assert x25519_base(b_sk) == h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    k = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    assert x25519(a_sk, x25519_base(b_sk)) == k and x25519(b_sk, x25519_base(a_sk)) == k
    # RFC 8439 2.8.2
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one "
          b"tip for the future, sunscreen would be it.")
    sealed = aead_chacha20poly1305_seal(bytes(range(0x80, 0xa0)), h("070000004041424344454647"),
                                        pt, h("50515253c0c1c2c3c4c5c6c7"))
    assert sealed == h(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b6116"
        "1ae10b594f09e26a7e902ecbd0600691"), "ChaCha20-Poly1305"

# ---------------------------------------------------------------- tcpcrypt
CONST_NEXTK, CONST_SESSID, CONST_REKEY, CONST_KEY_A, CONST_KEY_B, CONST_RESUME = 1, 2, 3, 4, 5, 6
AEAD_CHACHA = 0x0010


def init1(aeads, n_a, pub_a):
    body = bytes([len(aeads)]) + b"".join(struct.pack(">H", x) for x in aeads) + n_a + pub_a
    return struct.pack(">II", 0x15101a0e, 8 + len(body)) + body


def init2(aead, n_b, pub_b):
    body = struct.pack(">H", aead) + n_b + pub_b
    return struct.pack(">II", 0x097105e0, 8 + len(body)) + body


def frame(key44, offset, data, rekey=False, fin=False):
    k, nr = key44[:32], key44[32:]
    fid = bytes(4) + struct.pack(">Q", offset)
    nonce = bytes(x ^ y for x, y in zip(fid, nr))
    plain = bytes([1 if fin else 0]) + data
    hdr = bytes([1 if rekey else 0]) + struct.pack(">H", len(plain) + 16)
    return hdr + aead_chacha20poly1305_seal(k, nonce, plain, hdr)


def c_array(name, b):
    lines = []
    for i in range(0, len(b), 12):
        lines.append("\t" + " ".join("0x%02x," % x for x in b[i:i + 12]))
    return "static const uint8_t %s[%d] = {\n%s\n};" % (name, len(b), "\n".join(lines))


def main():
    check_primitives()
    a_sk = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b_sk = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    n_a, n_b = bytes(range(0x40, 0x60)), bytes(range(0x60, 0x80))
    transcript = h("45032345040123")
    m1 = init1([AEAD_CHACHA], n_a, x25519_base(a_sk))
    m2 = init2(AEAD_CHACHA, n_b, x25519_base(b_sk))
    es = x25519(a_sk, x25519_base(b_sk))
    ss0 = hkdf_extract(n_a, transcript + m1 + m2 + es)
    mk0 = hkdf_expand(ss0, bytes([CONST_REKEY]), 32)
    sessid = bytes([0x23]) + hkdf_expand(ss0, bytes([CONST_SESSID]), 32)
    resume = hkdf_expand(ss0, bytes([CONST_RESUME]), 18)
    k_ab0 = hkdf_expand(mk0, bytes([CONST_KEY_A]), 44)
    k_ba0 = hkdf_expand(mk0, bytes([CONST_KEY_B]), 44)
    mk1 = hkdf_expand(mk0, bytes([CONST_REKEY]), 32)
    k_ab1 = hkdf_expand(mk1, bytes([CONST_KEY_A]), 44)
    k_ba1 = hkdf_expand(mk1, bytes([CONST_KEY_B]), 44)

    # The conversation: A "hello, B" | B "hi A" | A rekeys: "after rekey" |
    # B answers with an empty rekey frame | A: FINp, empty | B: FINp "bye".
    a_off, b_off = len(m1), len(m2)
    fa1 = frame(k_ab0, a_off, b"hello, B"); a_off += len(fa1)
    fb1 = frame(k_ba0, b_off, b"hi A"); b_off += len(fb1)
    fa2 = frame(k_ab1, a_off, b"after rekey", rekey=True); a_off += len(fa2)
    fb2 = frame(k_ba1, b_off, b"", rekey=True); b_off += len(fb2)
    fa3 = frame(k_ab1, a_off, b"", fin=True); a_off += len(fa3)
    fb3 = frame(k_ba1, b_off, b"bye", fin=True); b_off += len(fb3)

    # Trailing bytes (RFC 8548 4.1: accepted, part of the transcript): Init1
    # with 3 more bytes (ee ee ee), then Init2 with 2 more (dd dd); M counts them.
    m1t = bytearray(m1 + b"\xee\xee\xee")
    m1t[4:8] = struct.pack(">I", len(m1t))
    m1t = bytes(m1t)
    ss0_t1 = hkdf_extract(n_a, transcript + m1t + m2 + es)
    sessid_t1 = bytes([0x23]) + hkdf_expand(ss0_t1, bytes([CONST_SESSID]), 32)
    m2t = bytearray(m2 + b"\xdd\xdd")
    m2t[4:8] = struct.pack(">I", len(m2t))
    m2t = bytes(m2t)
    ss0_t2 = hkdf_extract(n_a, transcript + m1 + m2t + es)
    sessid_t2 = bytes([0x23]) + hkdf_expand(ss0_t2, bytes([CONST_SESSID]), 32)
    # B's first frame after the longer Init1 is unchanged; A's first frame
    # "hello, B" now starts at offset 78 with the keys of this transcript.
    k_ab0_t1 = hkdf_expand(hkdf_expand(ss0_t1, bytes([CONST_REKEY]), 32), bytes([CONST_KEY_A]), 44)
    fa1_t1 = frame(k_ab0_t1, len(m1t), b"hello, B")

    print("/* generated by tests/unit/kat/gen_kat.py; do not edit */")
    for name, val in [("kat_init1", m1), ("kat_init2", m2), ("kat_es", es), ("kat_ss0", ss0),
                      ("kat_mk0", mk0), ("kat_sessid", sessid), ("kat_resume", resume),
                      ("kat_k_ab0", k_ab0), ("kat_k_ba0", k_ba0), ("kat_mk1", mk1),
                      ("kat_k_ab1", k_ab1), ("kat_k_ba1", k_ba1),
                      ("kat_fa1", fa1), ("kat_fb1", fb1), ("kat_fa2", fa2), ("kat_fb2", fb2),
                      ("kat_fa3", fa3), ("kat_fb3", fb3),
                      ("kat_init1_trailing", m1t), ("kat_sessid_t1", sessid_t1),
                      ("kat_fa1_t1", fa1_t1),
                      ("kat_init2_trailing", m2t), ("kat_sessid_t2", sessid_t2)]:
        print(c_array(name, val))
    print("#define KAT_ES_HEX \"%s\"" % es.hex())
    print("#define KAT_SS0_HEX \"%s\"" % ss0.hex())
    print("#define KAT_SESSID_HEX \"%s\"" % sessid.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
