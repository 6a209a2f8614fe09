#!/usr/bin/python3
"""A minimal PPP client standing in for pppd under xl2tpd (interop captures only).

xl2tpd starts "/usr/sbin/pppd TTY passive nodetach : name NAME file OPTS" and
relays async-HDLC frames (RFC 1662) between that pty and L2TP data messages.
The real pppd cannot run here (no /dev/ppp), so capture_l2tpns.sh bind-mounts
this script over /usr/sbin/pppd inside a private mount namespace. It speaks
just enough PPP to take a session through l2tpns to the network phase:
  LCP: sends Configure-Request (MRU 1400, Magic-Number); Configure-Rejects
       MRRU and Endpoint Discriminator, Acks the rest; answers Echo-Requests;
  PAP: Authenticate-Request (peer-id / password from $L2SEC_PPP_USER/_PASS),
  or CHAP-MD5 when the peer asks for it (RFC 1994: MD5(id | secret | challenge));
  IPCP: Acks the peer's request; requests 0.0.0.0 and both DNS servers, takes
       the Nak'ed values, until Ack;
stays in the network phase $L2SEC_PPP_HOLD seconds (default 1; answering
LCP Echo-Requests), then sends LCP Terminate-Request, waits for the Ack, exits. Every decoded
frame is logged to $L2SEC_FAKEPPP_LOG. Gives up after 25 s (plus the hold).
"""
import hashlib
import os
import select
import struct
import sys
import time
import tty

LOG = open(os.environ.get("L2SEC_FAKEPPP_LOG", "/dev/null"), "a", buffering=1)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=LOG)


def fcs16(data):
    fcs = 0xFFFF
    for b in data:
        fcs ^= b
        for _ in range(8):
            fcs = (fcs >> 1) ^ 0x8408 if fcs & 1 else fcs >> 1
    return fcs ^ 0xFFFF


def hdlc_encode(frame):
    body = frame + struct.pack("<H", fcs16(frame))
    out = bytearray(b"\x7e")
    for b in body:
        if b < 0x20 or b in (0x7E, 0x7D):
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    out.append(0x7E)
    return bytes(out)


class Deframer:
    def __init__(self):
        self.buf = bytearray()
        self.esc = False

    def feed(self, data):
        frames = []
        for b in data:
            if b == 0x7E:
                if len(self.buf) >= 4 and fcs16(bytes(self.buf[:-2])) == \
                        struct.unpack("<H", bytes(self.buf[-2:]))[0]:
                    frames.append(bytes(self.buf[:-2]))
                elif self.buf:
                    log("dropped frame", self.buf.hex())
                self.buf.clear()
                self.esc = False
            elif b == 0x7D:
                self.esc = True
            else:
                self.buf.append(b ^ 0x20 if self.esc else b)
                self.esc = False
        return frames


LCP, PAP, IPCP, CHAP = 0xC021, 0xC023, 0x8021, 0xC223


def options(data):
    out, i = [], 0
    while i + 2 <= len(data):
        t, n = data[i], data[i + 1]
        if n < 2 or i + n > len(data):
            break
        out.append((t, data[i + 2:i + n]))
        i += n
    return out


def opts_bytes(opts):
    return b"".join(bytes((t, len(v) + 2)) + v for t, v in opts)


def main():
    tty_path = sys.argv[1]
    fd = os.open(tty_path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    user = os.environ.get("L2SEC_PPP_USER", "l2sec").encode()
    password = os.environ.get("L2SEC_PPP_PASS", "secret").encode()
    deframer = Deframer()
    ident = [0]

    def send(proto, code, ident_, data):
        pkt = struct.pack("!BBH", code, ident_, 4 + len(data)) + data
        frame = b"\xff\x03" + struct.pack("!H", proto) + pkt
        os.write(fd, hdlc_encode(frame))
        log("sent", hex(proto), code, ident_, data.hex())

    def next_id():
        ident[0] = (ident[0] + 1) & 0xFF
        return ident[0]

    magic = os.urandom(4)
    lcp_req = [(1, struct.pack("!H", 1400)), (5, magic)]
    ipcp_req = [(3, bytes(4)), (129, bytes(4)), (131, bytes(4))]
    hold = float(os.environ.get("L2SEC_PPP_HOLD", "1"))
    auth_proto = [PAP]
    term_at = [None]
    state = {"lcp_acked": False, "lcp_peer_ok": False, "auth": False, "auth_sent": False,
             "ipcp_acked": False, "ipcp_peer_ok": False, "terminating": False}
    lcp_id = next_id()
    send(LCP, 1, lcp_id, opts_bytes(lcp_req))
    last_lcp = time.time()
    ipcp_id = None
    deadline = time.time() + 25
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            if not state["lcp_acked"] and time.time() - last_lcp > 3:
                send(LCP, 1, lcp_id, opts_bytes(lcp_req))
                last_lcp = time.time()
            if term_at[0] is not None and time.time() >= term_at[0] and not state["terminating"]:
                state["terminating"] = True
                send(LCP, 5, next_id(), b"l2sec done")
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        for f in deframer.feed(data):
            if f[:2] == b"\xff\x03":
                f = f[2:]
            proto = struct.unpack("!H", f[:2])[0]
            code, pid, length = struct.unpack("!BBH", f[2:6])
            body = f[6:2 + length]
            log("recv", hex(proto), code, pid, body.hex())
            if proto == LCP:
                if code == 1:  # Configure-Request
                    opts = options(body)
                    rej = [(t, v) for t, v in opts if t in (17, 19, 13)]
                    for t, v in opts:
                        if t == 3 and len(v) >= 2:
                            auth_proto[0] = struct.unpack("!H", v[:2])[0]
                    if rej:
                        send(LCP, 4, pid, opts_bytes(rej))
                    else:
                        send(LCP, 2, pid, body)
                        state["lcp_peer_ok"] = True
                elif code == 2 and pid == lcp_id:
                    state["lcp_acked"] = True
                elif code in (3, 4) and pid == lcp_id:  # Nak/Reject: take/drop and retry
                    theirs = dict(options(body))
                    if code == 3:
                        lcp_req = [(t, theirs.get(t, v)) for t, v in lcp_req]
                    else:
                        lcp_req = [(t, v) for t, v in lcp_req if t not in theirs]
                    lcp_id = next_id()
                    send(LCP, 1, lcp_id, opts_bytes(lcp_req))
                elif code == 9:  # Echo-Request
                    send(LCP, 10, pid, magic + body[4:])
                elif code == 5:  # Terminate-Request
                    send(LCP, 6, pid, b"")
                    return 0
                elif code == 6 and state["terminating"]:
                    log("terminated")
                    time.sleep(0.3)
                    return 0
            elif proto == PAP:
                if code == 2:
                    state["auth"] = True
                    log("PAP ok")
                elif code == 3:
                    log("PAP refused")
                    return 1
            elif proto == CHAP:
                if code == 1:  # Challenge: Value-Size, Value, Name
                    value = body[1:1 + body[0]]
                    digest = hashlib.md5(bytes((pid,)) + password + value).digest()
                    send(CHAP, 2, pid, bytes((16,)) + digest + user)
                elif code == 3:
                    state["auth"] = True
                    log("CHAP ok")
                elif code == 4:
                    log("CHAP refused")
                    return 1
            elif proto == IPCP:
                if code == 1:
                    send(IPCP, 2, pid, body)
                    state["ipcp_peer_ok"] = True
                elif code == 3 and pid == ipcp_id:
                    theirs = dict(options(body))
                    ipcp_req = [(t, theirs.get(t, v)) for t, v in ipcp_req]
                    ipcp_id = next_id()
                    send(IPCP, 1, ipcp_id, opts_bytes(ipcp_req))
                elif code == 4 and pid == ipcp_id:
                    theirs = dict(options(body))
                    ipcp_req = [(t, v) for t, v in ipcp_req if t not in theirs]
                    ipcp_id = next_id()
                    send(IPCP, 1, ipcp_id, opts_bytes(ipcp_req))
                elif code == 2 and pid == ipcp_id:
                    state["ipcp_acked"] = True
            elif proto != LCP and code == 1:
                # another NCP (IPV6CP, CCP): reject the protocol
                send(LCP, 8, next_id(), struct.pack("!H", proto) + f[2:2 + length])
        if state["lcp_acked"] and state["lcp_peer_ok"] and not state["auth_sent"]:
            state["auth_sent"] = True
            if auth_proto[0] == PAP:
                send(PAP, 1, next_id(),
                     bytes((len(user),)) + user + bytes((len(password),)) + password)
            # CHAP: wait for the authenticator's Challenge
        if state["auth"] and ipcp_id is None:
            ipcp_id = next_id()
            send(IPCP, 1, ipcp_id, opts_bytes(ipcp_req))
        if state["ipcp_acked"] and state["ipcp_peer_ok"] and term_at[0] is None:
            log("network phase reached:", ipcp_req)
            term_at[0] = time.time() + hold
            deadline = max(deadline, term_at[0] + 5)
        if term_at[0] is not None and time.time() >= term_at[0] and not state["terminating"]:
            state["terminating"] = True
            send(LCP, 5, next_id(), b"l2sec done")
    log("timeout")
    return 1


if __name__ == "__main__":
    sys.exit(main())
