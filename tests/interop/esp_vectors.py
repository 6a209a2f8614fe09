"""Builds ESP packets with Python's `cryptography` and `hmac`, independently
of l2sec (RFC 4303 framing, RFC 4106 / RFC 7634 nonces and AAD, RFC 2404 /
RFC 4868 truncated HMACs, RFC 2410 NULL), and prints one test line per packet:
suite spi esn enckeyhex integkeyhex packethex payloadhex next_header seq
"""
import hashlib
import hmac
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

INTEG = {  # name: (hash, key length, ICV length)
    "sha1": (hashlib.sha1, 20, 12),
    "sha256": (hashlib.sha256, 32, 16),
    "sha384": (hashlib.sha384, 48, 24),
    "sha512": (hashlib.sha512, 64, 32),
    "md5": (hashlib.md5, 16, 12),
}


def trailer(payload_len, align, next_header):
    pad = (-(payload_len + 2)) % align
    return bytes(range(1, pad + 1)) + bytes([pad, next_header])


def esp_packet(suite, spi, seq, esn, payload, nh, ek, ik):
    seq_lo = seq & 0xFFFFFFFF
    seq_hi = seq >> 32
    hdr = struct.pack(">II", spi, seq_lo)
    if suite.endswith("-gcm") or suite == "chacha20-poly1305":
        key, salt = ek[:-4], ek[-4:]
        iv = os.urandom(8)
        aad = struct.pack(">III", spi, seq_hi, seq_lo) if esn else hdr
        plain = payload + trailer(len(payload), 4, nh)
        aead = ChaCha20Poly1305(key) if suite.startswith("chacha") else AESGCM(key)
        return hdr + iv + aead.encrypt(salt + iv, plain, aad)
    enc, integ = suite.rsplit("-", 1)
    hfn, _, icv_len = INTEG[integ]
    if enc == "null":
        body = payload + trailer(len(payload), 4, nh)
    else:
        iv = os.urandom(16)
        plain = payload + trailer(len(payload), 16, nh)
        e = Cipher(algorithms.AES(ek), modes.CBC(iv)).encryptor()
        body = iv + e.update(plain) + e.finalize()
    covered = hdr + body + (struct.pack(">I", seq_hi) if esn else b"")
    icv = hmac.new(ik, covered, hfn).digest()[:icv_len]
    return hdr + body + icv


def main():
    suites = {
        "aes128-gcm": 16 + 4, "aes256-gcm": 32 + 4, "chacha20-poly1305": 32 + 4,
        "aes128-cbc-sha1": 16, "aes256-cbc-sha256": 32, "aes192-cbc-sha384": 24,
        "aes256-cbc-sha512": 32, "aes128-cbc-md5": 16, "null-sha1": 0, "null-sha256": 0,
    }
    spi = 0x20000
    for suite, eklen in suites.items():
        integ = suite.rsplit("-", 1)[1]
        iklen = INTEG[integ][1] if integ in INTEG else 0
        for esn in (0, 1):
            spi += 1
            ek, ik = os.urandom(eklen), os.urandom(iklen)
            for seq, size in ((1, 0), (2, 1), (3, 63), (7, 1400)):
                payload = os.urandom(size)
                nh = 4
                pkt = esp_packet(suite, spi, seq, esn, payload, nh, ek, ik)
                print(suite, hex(spi), esn, ek.hex() or "-", ik.hex() or "-", pkt.hex(),
                      payload.hex() or "-", nh, seq)
    return 0


if __name__ == "__main__":
    sys.exit(main())
