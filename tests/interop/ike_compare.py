#!/usr/bin/python3
"""Compares l2sec-inspect's "ike" objects with tshark's ISAKMP/IKEv2 dissection,
frame by frame: version, exchange type, SPIs, message id, I/R flags (IKEv2),
the payload sequence (top level, then the decrypted SK content) and the notify
types. Usage: ike_compare.py TSHARK_FIELDS.tsv TSHARK_VERBOSE.txt INSPECT.jsonl
Fields: frame.number isakmp.version isakmp.exchangetype isakmp.ispi isakmp.rspi
isakmp.messageid isakmp.flag_i isakmp.flag_r isakmp.typepayload isakmp.notify.msgtype"""
import json
import re
import sys

PAYLOADS = {"SA": None, "P": 2, "T": 3, "KE": None, "ID": 5, "CERT": None, "CR": 7, "HASH": 8,
            "SIG": 9, "Nonce": None, "N": None, "D": None, "VID": 13, "NAT-D": 20, "NAT-OA": 21,
            "IDi": 35, "IDr": 36, "CERTREQ": 38, "AUTH": 39, "V": 43, "TSi": 44, "TSr": 45,
            "SK": 46, "CP": 47, "EAP": 48, "SKF": 53, "FRAG": 132}
V1 = {"SA": 1, "KE": 4, "CERT": 6, "Nonce": 10, "N": 11, "D": 12}
V2 = {"SA": 33, "KE": 34, "CERT": 37, "Nonce": 40, "N": 41, "D": 42}
EXCHANGES = {"main_mode": 2, "aggressive": 4, "informational": 5, "transaction": 6,
             "quick_mode": 32, "IKE_SA_INIT": 34, "IKE_AUTH": 35, "CREATE_CHILD_SA": 36,
             "INFORMATIONAL": 37, "IKE_INTERMEDIATE": 43}

def num(label, v2):
    base = label.split("(")[0]
    if base in (V2 if v2 else V1):
        return (V2 if v2 else V1)[base]
    return PAYLOADS.get(base)

def main():
    names = {}
    for line in open(sys.argv[2], encoding="utf-8", errors="replace"):
        m = re.search(r"Notify Message Type: (\S+) \((\d+)\)", line)
        if m:
            names[m.group(1)] = int(m.group(2))
    ts = {}
    for line in open(sys.argv[1], encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 10 or not f[0]:
            continue
        ts[int(f[0])] = f
    bad = 0
    seen = 0
    for line in open(sys.argv[3], encoding="utf-8"):
        o = json.loads(line)
        fr = o.get("frame")
        if "ike" not in o:
            if fr in ts:
                print("frame %d: tshark sees IKE, l2sec-inspect does not: %s" % (fr, line.strip()))
                bad += 1
            continue
        seen += 1
        ike = o["ike"]
        if "error" in o:
            print("frame %d: l2sec-inspect error %s" % (fr, o["error"]))
            bad += 1
        t = ts.get(fr)
        if t is None:
            print("frame %d: not IKE for tshark" % fr)
            bad += 1
            continue
        v2 = ike["version"] == 2
        problems = []
        # A reassembled message adds its own header fields after the fragment's: compare the first.
        t = [t[0]] + [x.split(",")[0] for x in t[1:8]] + t[8:]
        tver = int(t[1], 16) if t[1].startswith("0x") else int(t[1] or 0)
        if tver >> 4 != ike["version"]:
            problems.append("version %s vs %s" % (t[1], ike["version"]))
        if EXCHANGES.get(ike["exchange"], ike["exchange"]) != int(t[2]):
            problems.append("exchange %s vs %s" % (ike["exchange"], t[2]))
        if ike["spi_i"] != t[3] or ike["spi_r"] != t[4]:
            problems.append("SPIs %s/%s vs %s/%s" % (ike["spi_i"], ike["spi_r"], t[3], t[4]))
        tmid = int(t[5], 16) if t[5].startswith("0x") else int(t[5])
        if ike["message_id"] != tmid:
            problems.append("message id %s vs %s" % (ike["message_id"], t[5]))
        if v2:
            fi = t[6] in ("1", "True", "true")
            fr_ = t[7] in ("1", "True", "true")
            if ike["initiator"] != fi or ike["response"] != fr_:
                problems.append("flags I=%s R=%s vs %s %s" % (ike["initiator"], ike["response"], t[6], t[7]))
        labels = ike["payloads"] + ike.get("inner_payloads", [])
        mine = [num(l, v2) for l in labels]
        theirs = [int(x) for x in t[8].split(",") if x and int(x) not in (2, 3)]
        if mine != theirs:
            problems.append("payloads %s %s vs %s" % (labels, mine, theirs))
        my_notes = []
        for l in labels:
            m = re.match(r"N\((.+)\)$", l)
            if m:
                my_notes.append(int(m.group(1)) if m.group(1).isdigit() else names.get(m.group(1), m.group(1)))
        their_notes = [int(x) for x in t[9].split(",") if x]
        if my_notes != their_notes:
            problems.append("notify %s vs %s" % (my_notes, their_notes))
        if problems:
            bad += 1
            print("frame %d: %s" % (fr, "; ".join(problems)))
    print("%d IKE frames compared, %d disagree" % (seen, bad))
    return 1 if bad or seen == 0 else 0

sys.exit(main())
