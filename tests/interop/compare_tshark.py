#!/usr/bin/python3
"""Compare l2sec-inspect's JSON lines with tshark's dissection (PDML) of the same pcap.

compare_tshark.py INSPECT.jsonl TSHARK.pdml AVP_NAMES.tsv [--checksums] [--secret=S]

For every frame tshark dissects as L2TP, l2sec-inspect must have printed an
"l2tp" object (and vice versa), and these must agree:
  - message type (RFC 2661 abbreviation <-> tshark's Message Type number; ZLB
    when there are no AVPs; "data" for T=0), Tunnel ID, Session ID, Ns, Nr;
  - every AVP, in order: M and H bits, Vendor ID, Attribute Type (for hidden
    AVPs tshark prints only the flags and the attribute's name, which is
    mapped back to its number through `tshark -G values`; with --secret the
    value is unhidden here with hashlib, independently of l2sec), and the value
    through tshark's typed field for that attribute (raw octets otherwise);
  - the PPP frame of data messages: protocol, code, identifier, and for
    Configure-* the option types in order and their values (typed fields for
    MRU, ACCM, Authentication-Protocol, Magic-Number, MRRU, Endpoint
    Discriminator class, IP-Address, DNS/NBNS addresses, Interface-Identifier;
    raw option data otherwise); PAP peer-id/password/message, CHAP value/name/
    message, Echo magic number.
Failures also: any _ws.malformed, any expert info of severity Warning or
Error (Chat and Note are reported but accepted: tshark uses them for
informational items such as "sequence" notes, which say nothing about the
encoding), and with --checksums any IPv4 header or UDP checksum tshark does not
report as Good (the synthetic capture has real checksums; loopback captures
have offloaded, partial ones).
"""
import hashlib
import json
import sys
import xml.etree.ElementTree as ET

MSG_TYPES = {"SCCRQ": 1, "SCCRP": 2, "SCCCN": 3, "StopCCN": 4, "HELLO": 6, "OCRQ": 7,
             "OCRP": 8, "OCCN": 9, "ICRQ": 10, "ICRP": 11, "ICCN": 12, "CDN": 14, "WEN": 15,
             "SLI": 16}
PPP_PROTOCOLS = {"lcp": 0xc021, "ipcp": 0x8021, "ipv6cp": 0x8057, "pap": 0xc023, "chap": 0xc223}
CP_CODES = {"configure_request": 1, "configure_ack": 2, "configure_nak": 3, "configure_reject": 4,
            "terminate_request": 5, "terminate_ack": 6, "code_reject": 7, "protocol_reject": 8,
            "echo_request": 9, "echo_reply": 10, "discard_request": 11, "identification": 12,
            "time_remaining": 13}
PAP_CODES = {"authenticate_request": 1, "authenticate_ack": 2, "authenticate_nak": 3}
CHAP_CODES = {"challenge": 1, "response": 2, "success": 3, "failure": 4}
SEVERITY = {0x00100000: "comment", 0x00200000: "chat", 0x00400000: "note",
            0x00600000: "warning", 0x00800000: "error"}

errors = []
notes = []


def fail(frame, msg):
    errors.append(f"frame {frame}: {msg}")


def as_int(s):
    return int(s, 0) if isinstance(s, str) else int(s)


def text_hex(s):
    return s.encode("utf-8").hex()


def ipv4_hex(s):
    return bytes(int(x) for x in s.split(".")).hex()


def fields(elem):
    """All descendant fields as (name, show, value) in document order."""
    return [(f.get("name"), f.get("show"), f.get("value")) for f in elem.iter("field")
            if f is not elem]


def first(fs, name):
    for n, show, value in fs:
        if n == name:
            return show, value
    return None


# ---------------------------------------------------------------- AVP values
def num(field, key=None):
    return lambda v: [(field, "int", v if key is None else v[key])]


def bits(f_a, f_s):  # (bit 1 = A, bit 0 = S/D) capability-style AVPs
    return lambda v: [(f_a, "int", (v >> 1) & 1), (f_s, "int", v & 1)]


def hexf(field):
    return lambda v: [(field, "hex", v)]


def textf(field):
    return lambda v: [(field, "hex", text_hex(v))]


def result_code(v):
    out = [("l2tp.result_code", "int", v["result"])]
    if "error" in v:
        out.append(("l2tp.avp.error_code", "int", v["error"]))
    if "message" in v:
        out.append(("l2tp.avp.error_message", "hex", text_hex(v["message"])))
    return out


def q931(v):
    out = [("l2tp.avp.cause_code", "int", v["cause"]), ("l2tp.avp.cause_msg", "int", v["msg"])]
    if "advisory" in v:
        out.append(("l2tp.avp.advisory_msg", "hex", text_hex(v["advisory"])))
    return out


def disconnect_cause(v):
    out = [("l2tp.avp.disconnect_code", "int", v["code"]),
           ("l2tp.avp.control_protocol_number", "int", v["protocol"]),
           ("l2tp.avp.cause_code_direction", "int", v["direction"])]
    if "message" in v:
        out.append(("l2tp.avp.cause_code_message", "hex", text_hex(v["message"])))
    return out


AVP_FIELDS = {
    0: num("l2tp.avp.message_type"),
    1: result_code,
    2: lambda v: [("l2tp.avp.protocol_version", "int", v["version"]),
                  ("l2tp.avp.protocol_revision", "int", v["revision"])],
    3: bits("l2tp.avp.async_framing_supported", "l2tp.avp.sync_framing_supported"),
    4: bits("l2tp.avp.analog_access_supported", "l2tp.avp.digital_access_supported"),
    5: hexf("l2tp.tie_breaker"),
    6: num("l2tp.avp.firmware_revision"),
    7: textf("l2tp.avp.host_name"),
    8: textf("l2tp.avp.vendor_name"),
    9: num("l2tp.avp.assigned_tunnel_id"),
    10: num("l2tp.avp.receive_window_size"),
    11: hexf("l2tp.avp.chap_challenge"),
    12: q931,
    13: hexf("l2tp.avp.chap_challenge_response"),
    14: num("l2tp.avp.assigned_session_id"),
    15: num("l2tp.avp.call_serial_number"),
    16: num("l2tp.avp.minimum_bps"),
    17: num("l2tp.avp.maximum_bps"),
    18: bits("l2tp.avp.analog_bearer_type", "l2tp.avp.digital_bearer_type"),
    19: bits("l2tp.avp.async_framing_type", "l2tp.avp.sync_framing_type"),
    21: textf("l2tp.avp.called_number"),
    22: textf("l2tp.avp.calling_number"),
    23: textf("l2tp.avp.sub_address"),
    24: num("l2tp.avp.connect_speed"),
    25: num("l2tp.avp.physical_channel"),
    26: hexf("l2tp.avp.initial_received_lcp_confreq"),
    27: hexf("l2tp.avp.last_sent_lcp_confreq"),
    28: hexf("l2tp.avp.last_received_lcp_confreq"),
    29: num("l2tp.avp.proxy_authen_type"),
    30: textf("l2tp.avp.proxy_authen_name"),
    31: hexf("l2tp.avp.proxy_authen_challenge"),
    32: num("l2tp.avp.proxy_authen_id", "id"),
    33: hexf("l2tp.avp.proxy_authen_response"),
    34: lambda v: [("l2tp.avp.crc_errors", "int", v["crc_errors"]),
                   ("l2tp.avp.framing_errors", "int", v["framing_errors"]),
                   ("l2tp.avp.hardware_overruns", "int", v["hardware_overruns"]),
                   ("l2tp.avp.buffer_overruns", "int", v["buffer_overruns"]),
                   ("l2tp.avp.time_out_errors", "int", v["timeout_errors"]),
                   ("l2tp.avp.alignment_errors", "int", v["alignment_errors"])],
    35: lambda v: [("l2tp.avp.send_accm", "int", v["send"]),
                   ("l2tp.avp.receive_accm", "int", v["recv"])],
    36: hexf("l2tp.avp.random_vector"),
    37: hexf("l2tp.avp.private_group_id"),
    38: num("l2tp.avp.rx_connect_speed"),
    39: lambda v: [],
    46: disconnect_cause,
}


def check_value(frame, what, fs, expected):
    for field, kind, want in expected:
        got = first(fs, field)
        if got is None:
            fail(frame, f"{what}: tshark has no {field} (l2sec: {want})")
            continue
        show, value = got
        if kind == "int":
            try:
                ok = as_int(show) == int(want)
            except ValueError:
                ok = False
            if not ok:
                fail(frame, f"{what}: {field} tshark={show} l2sec={want}")
        else:
            if (value or "").lower() != want.lower():
                fail(frame, f"{what}: {field} tshark={value} l2sec={want}")


TEXT_AVPS = {7, 8, 21, 22, 23, 30}
SECRET = None


def unhide(attr_type, secret, rv, hidden):
    """RFC 2661 section 4.3: MD5 key stream over 16-octet chunks."""
    out = b""
    prev = None
    for i in range(0, len(hidden), 16):
        chunk = hidden[i:i + 16]
        if prev is None:
            key = hashlib.md5(attr_type.to_bytes(2, "big") + secret + rv).digest()
        else:
            key = hashlib.md5(secret + prev).digest()
        out += bytes(x ^ y for x, y in zip(chunk, key))
        prev = chunk
    if len(out) < 2 or int.from_bytes(out[:2], "big") > len(out) - 2:
        return None
    return out[2:2 + int.from_bytes(out[:2], "big")]


def check_avps(frame, mine, avp_elems, avp_names):
    random_vector = b""
    if len(mine) != len(avp_elems):
        fail(frame, f"AVP count tshark={len(avp_elems)} l2sec={len(mine)}")
        return
    for i, (a, e) in enumerate(zip(mine, avp_elems)):
        fs = fields(e)
        what = f"AVP #{i} ({a['name']})"
        for flag, key in (("l2tp.avp.mandatory", "mandatory"), ("l2tp.avp.hidden", "hidden")):
            got = first(fs, flag)
            if got is None or (got[0] == "1") != a[key]:
                fail(frame, f"{what}: {flag} tshark={got and got[0]} l2sec={a[key]}")
        raw = (e.get("value") or "").lower()
        if not a["hidden"] and a["vendor"] == 0 and a["type"] == 36:
            random_vector = bytes.fromhex(raw[12:])
        if a["hidden"]:
            # tshark shows only the flags and "<name> AVP" for hidden AVPs
            label = (e.get("show") or "").removesuffix(" AVP")
            if avp_names.get(label) != a["type"] or a["vendor"] != 0:
                fail(frame, f"{what}: hidden AVP label '{label}' is not type {a['type']}")
            if SECRET is not None:
                # unhide independently (RFC 2661 4.3, hashlib MD5) and compare
                plain = unhide(a["type"], SECRET, random_vector, bytes.fromhex(raw[12:]))
                if plain is None:
                    fail(frame, f"{what}: cannot unhide with the given secret")
                else:
                    v = a["value"]
                    mine_hex = text_hex(v) if a["type"] in TEXT_AVPS else v
                    if not isinstance(mine_hex, str) or mine_hex != plain.hex():
                        fail(frame, f"{what}: unhidden value {plain.hex()} l2sec={v}")
            continue
        vendor = first(fs, "l2tp.avp.vendor_id")
        if vendor is not None and int(vendor[1] or "0", 16) != a["vendor"]:
            fail(frame, f"{what}: vendor tshark={vendor[1]} l2sec={a['vendor']}")
        if raw and len(raw) >= 12 and int(raw[4:8], 16) != a["vendor"]:
            fail(frame, f"{what}: vendor in AVP bytes {raw[4:8]} l2sec={a['vendor']}")
        if a["vendor"] != 0:
            if raw and int(raw[8:12], 16) != a["type"]:
                fail(frame, f"{what}: vendor AVP type {raw[8:12]} l2sec={a['type']}")
            if isinstance(a["value"], str) and raw[12:] != a["value"]:
                fail(frame, f"{what}: vendor AVP value {raw[12:]} l2sec={a['value']}")
            continue
        t = first(fs, "l2tp.avp.type")
        if t is None or as_int(t[0]) != a["type"]:
            fail(frame, f"{what}: type tshark={t and t[0]} l2sec={a['type']}")
            continue
        if a["type"] in AVP_FIELDS:
            check_value(frame, what, fs, AVP_FIELDS[a["type"]](a["value"]))
        elif isinstance(a["value"], str) and raw[12:] != a["value"]:
            fail(frame, f"{what}: raw value tshark={raw[12:]} l2sec={a['value']}")


# ---------------------------------------------------------------- PPP
def option_expectations(proto, opt):
    t, v = opt["type"], opt["value"]
    if proto == "lcp":
        if t in (1, 17):
            return [("lcp.opt.mru" if t == 1 else "lcp.opt.mrru", "int", v)]
        if t == 2:
            return [("lcp.opt.asyncmap", "int", v)]
        if t == 5:
            return [("lcp.opt.magic_number", "int", v)]
        if t == 3:
            out = [("lcp.opt.auth_protocol", "int", v["protocol"])]
            if "algorithm" in v:
                out.append(("lcp.opt.algorithm", "int", v["algorithm"]))
            return out
        if t == 19:
            return [("lcp.opt.ep_disc_class", "int", v["class"])]
    if proto == "ipcp":
        name = {3: "ipcp.opt.ip_address", 129: "ipcp.opt.pri_dns_address",
                131: "ipcp.opt.sec_dns_address", 130: "ipcp.opt.pri_nbns_address",
                132: "ipcp.opt.sec_nbns_address"}.get(t)
        if name:
            return [(name, "hex", ipv4_hex(v))]
    if proto == "ipv6cp" and t == 1:
        return [("ipv6cp.interface_identifier", "hex", v)]
    return None


def option_data_hex(opt):
    """The option's data octets as l2sec printed them, when printed raw."""
    v = opt["value"]
    if v is None:
        return ""
    if isinstance(v, str) and all(c in "0123456789abcdef" for c in v):
        return v
    if isinstance(v, dict) and "address" in v and "class" in v:
        return "%02x" % v["class"] + v["address"]
    return None


def check_ppp(frame, mine, pkt):
    protos = {p.get("name"): p for p in pkt}
    ppp = protos.get("ppp")
    if ppp is None:
        fail(frame, "tshark found no PPP in a data message")
        return
    pf = first(fields(ppp), "ppp.protocol")
    want_proto = PPP_PROTOCOLS.get(mine["protocol"]) or int(mine["protocol"], 16)
    if pf is None or as_int(pf[0]) != want_proto:
        fail(frame, f"PPP protocol tshark={pf and pf[0]} l2sec={mine['protocol']}")
        return
    name = mine["protocol"]
    if name in ("lcp", "ipcp", "ipv6cp"):
        body = protos.get(name)
        if body is None:
            fail(frame, f"tshark has no {name} layer")
            return
        fs = fields(body)
        code = first(fs, "ppp.code")
        want = CP_CODES.get(mine["code"], mine["code"])
        if code is None or as_int(code[0]) != want:
            fail(frame, f"{name} code tshark={code and code[0]} l2sec={mine['code']}")
        ident = first(fs, "ppp.identifier")
        if ident is None or as_int(ident[0]) != mine["id"]:
            fail(frame, f"{name} id tshark={ident and ident[0]} l2sec={mine['id']}")
        if "options" in mine:
            # each option is a field whose children start with <proto>.opt.type
            containers = []
            for f in body.iter("field"):
                kids = list(f)
                if kids and kids[0].get("name") == f"{name}.opt.type":
                    containers.append(f)
            if [as_int(c[0].get("show")) for c in containers] != [o["type"] for o in mine["options"]]:
                fail(frame, f"{name} option types tshark={[c[0].get('show') for c in containers]} "
                            f"l2sec={[o['type'] for o in mine['options']]}")
                return
            for o, c in zip(mine["options"], containers):
                what = f"{name} option {o['type']} ({o['name']})"
                exp = option_expectations(name, o)
                data = (c.get("value") or "")[4:]
                mine_hex = option_data_hex(o)
                if exp is not None:
                    check_value(frame, what, fields(c), exp)
                if (exp is None or mine_hex is not None) and (mine_hex is None or data != mine_hex):
                    fail(frame, f"{what}: data tshark={data} l2sec={o['value']}")
        if mine.get("code") in ("echo_request", "echo_reply"):
            check_value(frame, f"{name} echo", fs, [("lcp.magic_number", "int", mine["magic"])])
    elif name == "pap":
        fs = fields(protos.get("pap", ppp))
        exp = [("pap.code", "int", PAP_CODES[mine["code"]]), ("pap.identifier", "int", mine["id"])]
        if "peer_id" in mine:
            exp += [("pap.peer_id", "hex", text_hex(mine["peer_id"])),
                    ("pap.password", "hex", text_hex(mine["password"]))]
        elif mine.get("message"):
            exp += [("pap.message", "hex", text_hex(mine["message"]))]
        check_value(frame, "pap", fs, exp)
    elif name == "chap":
        fs = fields(protos.get("chap", ppp))
        exp = [("chap.code", "int", CHAP_CODES[mine["code"]]),
               ("chap.identifier", "int", mine["id"])]
        if "value" in mine:
            exp.append(("chap.value", "hex", mine["value"]))
            if mine["name"]:
                exp.append(("chap.name", "hex", text_hex(mine["name"])))
        elif mine.get("message"):
            exp.append(("chap.message", "hex", text_hex(mine["message"])))
        check_value(frame, "chap", fs, exp)


# ---------------------------------------------------------------- frames
def check_frame(frame, mine, pkt, avp_names):
    protos = {p.get("name"): p for p in pkt}
    l2 = protos.get("l2tp")
    if l2 is None:
        fail(frame, "tshark did not dissect L2TP")
        return
    m = mine["l2tp"]
    top = [(f.get("name"), f.get("show")) for f in l2 if f.tag == "field"]
    flat = fields(l2)
    t = first(flat, "l2tp.type")
    control = t is not None and t[0] == "1"
    if control != (m["type"] != "data"):
        fail(frame, f"T bit tshark={t and t[0]} l2sec={m['type']}")
    for key, field in (("tunnel_id", "l2tp.tunnel"), ("session_id", "l2tp.session"),
                       ("ns", "l2tp.Ns"), ("nr", "l2tp.Nr")):
        got = first(flat, field)
        if key in m:
            if got is None or as_int(got[0]) != m[key]:
                fail(frame, f"{field} tshark={got and got[0]} l2sec={m[key]}")
        elif got is not None:
            fail(frame, f"{field}={got[0]} in tshark but not in l2sec output")
    if control:
        avp_elems = [f for f in l2 if f.tag == "field" and (f.get("show") or "").endswith("AVP")]
        if m["type"] == "ZLB":
            if avp_elems:
                fail(frame, f"l2sec says ZLB, tshark shows {len(avp_elems)} AVPs")
        else:
            mt = first(flat, "l2tp.avp.message_type")
            if mt is None or as_int(mt[0]) != MSG_TYPES.get(m["type"], -1):
                fail(frame, f"message type tshark={mt and mt[0]} l2sec={m['type']}")
        check_avps(frame, m["avps"], avp_elems, avp_names)
    elif "ppp" in mine:
        check_ppp(frame, mine["ppp"], pkt)
    elif "error" not in mine:
        fail(frame, "data message without a ppp object")
    del top


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    inspect_path, pdml_path, names_path = sys.argv[1:4]
    checksums = "--checksums" in sys.argv[4:]
    global SECRET
    for arg in sys.argv[4:]:
        if arg.startswith("--secret="):
            SECRET = arg.split("=", 1)[1].encode()
    avp_names = {}
    with open(names_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4 and parts[0] == "V" and parts[1] == "l2tp.avp.type":
                avp_names[parts[3]] = int(parts[2])
    mine = {}
    with open(inspect_path) as f:
        for line in f:
            obj = json.loads(line)
            mine[obj["frame"]] = obj
    packets = ET.parse(pdml_path).getroot().findall("packet")
    checked = 0
    for pkt in packets:
        fs = fields(pkt)
        frame = as_int(first(fs, "frame.number")[0])
        names = {p.get("name") for p in pkt}
        if "_ws.malformed" in names:
            fail(frame, "tshark: malformed packet")
        for e in pkt.iter("field"):
            if e.get("name") == "_ws.expert":
                sev = first(fields(e), "_ws.expert.severity")
                msg = first(fields(e), "_ws.expert.message")
                level = SEVERITY.get(as_int(sev[0]) if sev else 0, "?")
                text = f"frame {frame}: tshark expert {level}: {msg and msg[0]}"
                if level in ("warning", "error"):
                    errors.append(text)
                else:
                    notes.append(text)
        if checksums:
            for field in ("ip.checksum.status", "udp.checksum.status"):
                st = first(fs, field)
                if st is None or st[0] != "1":
                    fail(frame, f"{field} is {st and st[0]} (1 = Good)")
        o = mine.get(frame)
        if "l2tp" in names:
            if o is None or "l2tp" not in o:
                fail(frame, f"tshark dissects L2TP, l2sec-inspect printed {o}")
                continue
            if "error" in o:
                fail(frame, f"l2sec-inspect reports an error: {o['error']}")
            check_frame(frame, o, pkt, avp_names)
            checked += 1
        elif o is not None and "l2tp" in o:
            fail(frame, "l2sec-inspect decoded L2TP where tshark did not")
    for n in notes:
        print("note:", n)
    for e in errors:
        print("MISMATCH:", e)
    print(f"{checked} L2TP frames compared, {len(errors)} mismatches, {len(notes)} notes")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
