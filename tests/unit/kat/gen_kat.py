#!/usr/bin/env python3
"""Independent known-answer generator for the tcpcrypt engine (RFC 8548,
TEP TCPCRYPT_ECDHE_Curve25519 0x23, AEADs ChaCha20-Poly1305 0x0010,
AES-128-GCM 0x0001 and AES-256-GCM 0x0002).

Pure standard-library Python, sharing no code with libtcpcrypt (nor with
OpenSSL, which the engine uses for the AEADs):
  * HKDF-SHA256 (RFC 5869) on hmac/hashlib,
  * X25519 (RFC 7748 section 5) as a plain Montgomery ladder,
  * ChaCha20-Poly1305 (RFC 8439) from the RFC's pseudo-code,
  * AES (FIPS 197, the S-box computed from its definition) and GCM
    (NIST SP 800-38D, 96-bit IVs) from the specifications.
Each primitive is checked against its RFC / NIST vectors before anything
is printed. Where Python's `cryptography` module is installed (Debian
python3-cryptography), every AES-GCM output is also compared with it.
The output is tests/unit/kat/kat_vectors.h, which `make check`
regenerates and compares byte for byte (unit/kat/check_header.sh).

Fixed inputs: the X25519 secret keys of RFC 7748 6.1 (Alice = A, Bob = B),
N_A = 0x40..0x5f, N_B = 0x60..0x7f, ENO transcript 45 03 23 45 04 01 23,
A offers [0x0010] (Init1 = 75 bytes), B prefers [0x0002, 0x0010].
Frame offsets count the Init message (RFC-NOTES 2.7): A's first frame is
at 75, B's at 74.

Resumption (RFC 8548 3.5), for each of the three conversations: the chain
ss[1] = HKDF-Expand(ss[0], 0x01, 32), ss[2] from ss[1], resume[i] =
HKDF-Expand(ss[i], 0x06, 18); a session resumed from ss[1] with nonce_a =
0xa0..0xa7 (the original A's) and nonce_b = 0xb0..0xb7: sn = nonce_a |
nonce_b, mk[0] = HKDF-Expand(ss[1], 0x03 | sn, 32), session ID = 0xa3 |
HKDF-Expand(ss[1], 0x02 | sn, 32), k_ab/k_ba from mk[0], no Init messages:
the original A's first frame "resumed hello, B" and the original B's
"resumed hi A" both at offset 0, then A's FINp frame at the offset after
its first; the suboptions each host sends (0xa3 | its half of resume[1] |
its nonce). With ChaCha20-Poly1305 also a session from ss[2] with a 3-byte
nonce_a (c0 c1 c2) and an empty nonce_b (sn of 3 bytes).

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

# ---------------------------------------------------------------- AES-GCM
def _xtime(a):
    return ((a << 1) ^ 0x11b) if a & 0x80 else a << 1


def _gmul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a, b = _xtime(a), b >> 1
    return r


def _make_sbox():
    sbox = []
    for x in range(256):
        inv = 1 if x else 0
        for _ in range(254):            # x^254 = x^-1 in GF(2^8)
            inv = _gmul(inv, x) if x else 0
        s, r = inv, inv
        for _ in range(4):
            r = ((r << 1) | (r >> 7)) & 0xff
            s ^= r
        sbox.append(s ^ 0x63)
    return sbox


SBOX = _make_sbox()


def aes_expand(key):
    nk = len(key) // 4
    nr = nk + 6
    w = [list(key[4 * i:4 * i + 4]) for i in range(nk)]
    rcon = 1
    for i in range(nk, 4 * (nr + 1)):
        t = w[i - 1][:]
        if i % nk == 0:
            t = [SBOX[b] for b in t[1:] + t[:1]]
            t[0] ^= rcon
            rcon = _xtime(rcon)
        elif nk > 6 and i % nk == 4:
            t = [SBOX[b] for b in t]
        w.append([a ^ b for a, b in zip(w[i - nk], t)])
    return [sum(w[4 * r:4 * r + 4], []) for r in range(nr + 1)]


def aes_block(rk, block):
    s = [b ^ k for b, k in zip(block, rk[0])]
    nr = len(rk) - 1
    for r in range(1, nr + 1):
        s = [SBOX[b] for b in s]
        s = [s[((c + row) % 4) * 4 + row] for c in range(4) for row in range(4)]
        if r != nr:
            m = []
            for c in range(4):
                a = s[4 * c:4 * c + 4]
                m += [_gmul(a[0], 2) ^ _gmul(a[1], 3) ^ a[2] ^ a[3],
                      a[0] ^ _gmul(a[1], 2) ^ _gmul(a[2], 3) ^ a[3],
                      a[0] ^ a[1] ^ _gmul(a[2], 2) ^ _gmul(a[3], 3),
                      _gmul(a[0], 3) ^ a[1] ^ a[2] ^ _gmul(a[3], 2)]
            s = m
        s = [b ^ k for b, k in zip(s, rk[r])]
    return bytes(s)


def _gf128_mul(x, y):
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ (0xe1 << 120) if v & 1 else v >> 1
    return z


def _ghash(h, data):
    y = 0
    for i in range(0, len(data), 16):
        y = _gf128_mul(y ^ int.from_bytes(data[i:i + 16], "big"), h)
    return y


def _pad16_gcm(b):
    return bytes((16 - len(b) % 16) % 16)


def aead_aes_gcm_seal(key, iv, plaintext, aad):
    assert len(key) in (16, 32) and len(iv) == 12
    rk = aes_expand(key)
    hk = int.from_bytes(aes_block(rk, bytes(16)), "big")
    ct = bytearray()
    for i in range(0, len(plaintext), 16):
        ks = aes_block(rk, iv + struct.pack(">I", 2 + i // 16))
        ct += bytes(a ^ b for a, b in zip(plaintext[i:i + 16], ks))
    ct = bytes(ct)
    s = _ghash(hk, aad + _pad16_gcm(aad) + ct + _pad16_gcm(ct) +
               struct.pack(">QQ", 8 * len(aad), 8 * len(ct)))
    tag = (s ^ int.from_bytes(aes_block(rk, iv + b"\x00\x00\x00\x01"), "big")).to_bytes(16, "big")
    out = ct + tag
    if _CRYPTOGRAPHY is not None:       # a second, unrelated implementation
        assert _CRYPTOGRAPHY(key).encrypt(iv, plaintext, aad) == out, "AES-GCM vs cryptography"
    return out


try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM as _CRYPTOGRAPHY
except ImportError:                     # the pure implementation alone
    _CRYPTOGRAPHY = None

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
    # FIPS 197 C.1 and C.3
    assert aes_block(aes_expand(bytes(range(16))), h("00112233445566778899aabbccddeeff")) == \
        h("69c4e0d86a7b0430d8cdb78070b4c55a"), "AES-128"
    assert aes_block(aes_expand(bytes(range(32))), h("00112233445566778899aabbccddeeff")) == \
        h("8ea2b7ca516745bfeafc49904b496089"), "AES-256"
    # GCM specification test cases 1-4 (AES-128) and 13-16 (AES-256)
    gpt = h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
    gad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    k128, iv = h("feffe9928665731c6d6a8f9467308308"), h("cafebabefacedbaddecaf888")
    c128 = h("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
             "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985")
    c256 = h("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
             "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad")
    gcm = [
        (bytes(16), bytes(12), b"", b"", h("58e2fccefa7e3061367f1d57a4e7455a")),
        (bytes(16), bytes(12), bytes(16), b"",
         h("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf")),
        (k128, iv, gpt, b"", c128 + h("4d5c2af327cd64a62cf35abd2ba6fab4")),
        (k128, iv, gpt[:60], gad, c128[:60] + h("5bc94fbc3221a5db94fae95ae7121a47")),
        (bytes(32), bytes(12), b"", b"", h("530f8afbc74536b9a963b4f1c4cb738b")),
        (bytes(32), bytes(12), bytes(16), b"",
         h("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919")),
        (k128 + k128, iv, gpt, b"", c256 + h("b094dac5d93471bdec1a502270e3cc6c")),
        (k128 + k128, iv, gpt[:60], gad, c256[:60] + h("76fc6ece0f4e1768cddf8853bb2d551b")),
    ]
    for key, nonce, pt_, ad, want in gcm:
        assert aead_aes_gcm_seal(key, nonce, pt_, ad) == want, "AES-GCM test case"

# ---------------------------------------------------------------- tcpcrypt
CONST_NEXTK, CONST_SESSID, CONST_REKEY, CONST_KEY_A, CONST_KEY_B, CONST_RESUME = 1, 2, 3, 4, 5, 6
AEAD_CHACHA, AEAD_AES128, AEAD_AES256 = 0x0010, 0x0001, 0x0002
KEYLEN = {AEAD_CHACHA: 32, AEAD_AES128: 16, AEAD_AES256: 32}


def init1(aeads, n_a, pub_a):
    body = bytes([len(aeads)]) + b"".join(struct.pack(">H", x) for x in aeads) + n_a + pub_a
    return struct.pack(">II", 0x15101a0e, 8 + len(body)) + body


def init2(aead, n_b, pub_b):
    body = struct.pack(">H", aead) + n_b + pub_b
    return struct.pack(">II", 0x097105e0, 8 + len(body)) + body


def frame(keymat, offset, data, rekey=False, fin=False, aead=AEAD_CHACHA):
    kl = KEYLEN[aead]
    assert len(keymat) == kl + 12
    k, nr = keymat[:kl], keymat[kl:]
    fid = bytes(4) + struct.pack(">Q", offset)
    nonce = bytes(x ^ y for x, y in zip(fid, nr))
    plain = bytes([1 if fin else 0]) + data
    hdr = bytes([1 if rekey else 0]) + struct.pack(">H", len(plain) + 16)
    if aead == AEAD_CHACHA:
        return hdr + aead_chacha20poly1305_seal(k, nonce, plain, hdr)
    return hdr + aead_aes_gcm_seal(k, nonce, plain, hdr)


def aes_set(name, aead, a_sk, b_sk, n_a, n_b, transcript):
    """The same conversation as main()'s, A offering only `aead`."""
    m1 = init1([aead], n_a, x25519_base(a_sk))
    m2 = init2(aead, n_b, x25519_base(b_sk))
    es = x25519(a_sk, x25519_base(b_sk))
    ss0 = hkdf_extract(n_a, transcript + m1 + m2 + es)
    mk0 = hkdf_expand(ss0, bytes([CONST_REKEY]), 32)
    sessid = bytes([0x23]) + hkdf_expand(ss0, bytes([CONST_SESSID]), 32)
    resume = hkdf_expand(ss0, bytes([CONST_RESUME]), 18)
    tl = KEYLEN[aead] + 12
    k_ab0 = hkdf_expand(mk0, bytes([CONST_KEY_A]), tl)
    k_ba0 = hkdf_expand(mk0, bytes([CONST_KEY_B]), tl)
    mk1 = hkdf_expand(mk0, bytes([CONST_REKEY]), 32)
    k_ab1 = hkdf_expand(mk1, bytes([CONST_KEY_A]), tl)
    k_ba1 = hkdf_expand(mk1, bytes([CONST_KEY_B]), tl)
    a_off, b_off = len(m1), len(m2)
    fa1 = frame(k_ab0, a_off, b"hello, B", aead=aead); a_off += len(fa1)
    fb1 = frame(k_ba0, b_off, b"hi A", aead=aead); b_off += len(fb1)
    fa2 = frame(k_ab1, a_off, b"after rekey", rekey=True, aead=aead); a_off += len(fa2)
    fb2 = frame(k_ba1, b_off, b"", rekey=True, aead=aead); b_off += len(fb2)
    fa3 = frame(k_ab1, a_off, b"", fin=True, aead=aead); a_off += len(fa3)
    fb3 = frame(k_ba1, b_off, b"bye", fin=True, aead=aead); b_off += len(fb3)
    fields = [("init1", m1), ("init2", m2), ("ss0", ss0), ("mk0", mk0), ("sessid", sessid),
              ("resume", resume), ("k_ab0", k_ab0), ("k_ba0", k_ba0), ("mk1", mk1),
              ("k_ab1", k_ab1), ("k_ba1", k_ba1), ("fa1", fa1), ("fb1", fb1), ("fa2", fa2),
              ("fb2", fb2), ("fa3", fa3), ("fb3", fb3)]
    for f, val in fields:
        print(c_array("kat_%s_%s" % (name, f), val))
    print("static const struct kat_set kat_set_%s = {\n\t0x%04x," % (name, aead))
    print("\t" + " ".join("KAT_F(kat_%s_%s)," % (name, f) for f, _ in fields))
    print("};")
    return ss0


def resume_set(name, aead, ss0):
    """Resumption from the conversation's ss[0] (RFC 8548 3.5): the chain,
    a session from ss[1] and its first frames, the SYN suboptions."""
    ss1 = hkdf_expand(ss0, bytes([CONST_NEXTK]), 32)
    ss2 = hkdf_expand(ss1, bytes([CONST_NEXTK]), 32)
    resume1 = hkdf_expand(ss1, bytes([CONST_RESUME]), 18)
    resume2 = hkdf_expand(ss2, bytes([CONST_RESUME]), 18)
    nonce_a, nonce_b = bytes(range(0xa0, 0xa8)), bytes(range(0xb0, 0xb8))
    sn = nonce_a + nonce_b
    mk0 = hkdf_expand(ss1, bytes([CONST_REKEY]) + sn, 32)
    sessid = bytes([0x23 | 0x80]) + hkdf_expand(ss1, bytes([CONST_SESSID]) + sn, 32)
    tl = KEYLEN[aead] + 12
    k_ab = hkdf_expand(mk0, bytes([CONST_KEY_A]), tl)
    k_ba = hkdf_expand(mk0, bytes([CONST_KEY_B]), tl)
    fa = frame(k_ab, 0, b"resumed hello, B", aead=aead)
    fb = frame(k_ba, 0, b"resumed hi A", aead=aead)
    fa2 = frame(k_ab, len(fa), b"bye", fin=True, aead=aead)
    sub_a = bytes([0xa3]) + resume1[:9] + nonce_a
    sub_b = bytes([0xa3]) + resume1[9:] + nonce_b
    fields = [("ss1", ss1), ("ss2", ss2), ("resume1", resume1), ("resume2", resume2), ("sn", sn),
              ("mk0", mk0), ("sessid", sessid), ("k_ab", k_ab), ("k_ba", k_ba), ("fa", fa),
              ("fb", fb), ("fa2", fa2), ("sub_a", sub_a), ("sub_b", sub_b)]
    for f, val in fields:
        print(c_array("kat_r_%s_%s" % (name, f), val))
    print("static const struct kat_rset kat_rset_%s = {\n\t0x%04x," % (name, aead))
    print("\t" + " ".join("KAT_F(kat_r_%s_%s)," % (name, f) for f, _ in fields))
    print("};")
    return ss2


def resume_short_nonces(ss2):
    """A session from ss[2] (ChaCha20-Poly1305) with nonce_a = c0 c1 c2 and
    an empty nonce_b: sn is their 3-byte concatenation."""
    sn = h("c0c1c2")
    mk0 = hkdf_expand(ss2, bytes([CONST_REKEY]) + sn, 32)
    sessid = bytes([0xa3]) + hkdf_expand(ss2, bytes([CONST_SESSID]) + sn, 32)
    k_ab = hkdf_expand(mk0, bytes([CONST_KEY_A]), 44)
    k_ba = hkdf_expand(mk0, bytes([CONST_KEY_B]), 44)
    print(c_array("kat_r2_sessid", sessid))
    print(c_array("kat_r2_fa", frame(k_ab, 0, b"second resumption")))
    print(c_array("kat_r2_fb", frame(k_ba, 0, b"ok")))


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
    print("static const struct kat_set kat_set_chacha = {\n\t0x%04x," % AEAD_CHACHA)
    print("\t" + " ".join("KAT_F(kat_%s)," % f for f in [
        "init1", "init2", "ss0", "mk0", "sessid", "resume", "k_ab0", "k_ba0", "mk1", "k_ab1",
        "k_ba1", "fa1", "fb1", "fa2", "fb2", "fa3", "fb3"]))
    print("};")
    # The conversation again with A offering only AES-128-GCM, then only
    # AES-256-GCM (B prefers [0x0002, 0x0010] as above, or [0x0001]). The
    # C file defines struct kat_set and KAT_F(a) (a, sizeof a).
    ss0_128 = aes_set("aes128", AEAD_AES128, a_sk, b_sk, n_a, n_b, transcript)
    ss0_256 = aes_set("aes256", AEAD_AES256, a_sk, b_sk, n_a, n_b, transcript)
    # Resumption from each conversation's ss[0]. The C file defines struct
    # kat_rset, with the fields in this order.
    ss2 = resume_set("chacha", AEAD_CHACHA, ss0)
    resume_set("aes128", AEAD_AES128, ss0_128)
    resume_set("aes256", AEAD_AES256, ss0_256)
    resume_short_nonces(ss2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
