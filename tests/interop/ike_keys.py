#!/usr/bin/python3
"""Extracts the secrets a charon logged at "ike 4"/"chd 4" (lines like
`... [IKE] SKEYSEED => 32 bytes @ 0x...` followed by hex dump lines) into
`name hex` lines; repeated names get #2, #3... Usage: ike_keys.py charon.log"""
import re
import sys

head = re.compile(r"^\S+ \d+\[(\w+)\] (.+?) => (\d+) bytes @ 0x[0-9a-f]+$")
dump = re.compile(r"^\S+ \d+\[\w+\]\s+(\d+): ((?:[0-9A-F]{2} ?)+)")
seen = {}
cur = None
out = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    m = head.match(line)
    if m:
        name = re.sub(r"[^a-z0-9]+", "_", m.group(2).lower()).strip("_")
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name += "#%d" % seen[name]
        cur = [name, int(m.group(3)), ""]
        out.append(cur)
        continue
    m = dump.match(line)
    if m and cur is not None and len(cur[2]) < 2 * cur[1]:
        cur[2] += m.group(2)[:48].replace(" ", "").lower()
        continue
    cur = None
for name, n, hx in out:
    if len(hx) == 2 * n and n <= 4096:
        print(name, hx)
