#!/usr/bin/python3
"""Accept-all RADIUS responder for interop tests (RFC 2865/2866).

radius_accept.py SECRET [ADDRESS]: listens on ADDRESS (default 127.0.0.1) ports
1812 and 1813, answers every Access-Request with an Access-Accept and every
Accounting-Request with an Accounting-Response, with a correct Response
Authenticator: MD5(Code | Identifier | Length | Request Authenticator |
Attributes | Secret). Runs until killed.
"""
import hashlib
import select
import socket
import struct
import sys

secret = sys.argv[1].encode()
address = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
socks = []
for port in (1812, 1813):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, port))
    socks.append(s)
replies = {1: 2, 4: 5}  # Access-Request -> Access-Accept, Accounting-Request -> -Response
while True:
    readable, _, _ = select.select(socks, [], [])
    for s in readable:
        data, peer = s.recvfrom(4096)
        if len(data) < 20 or data[0] not in replies:
            continue
        code, ident = replies[data[0]], data[1]
        attrs = b""
        head = struct.pack("!BBH", code, ident, 20 + len(attrs))
        auth = hashlib.md5(head + data[4:20] + attrs + secret).digest()
        s.sendto(head + auth + attrs, peer)
        print("radius: request code", data[0], "answered with", code, flush=True)
