#!/usr/bin/env bash
# l2sec-inspect --esp-sa on l2sec-protected ESP (every suite, raw and in UDP
# 4500): every frame must be decrypted with a good ICV, its SPI and sequence
# number must match what tshark reads from the same frame, and the inner L2TP
# Hello must be decoded; a wrong key must give icv_ok false.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
BUILD=${L2SEC_BUILD:-$(dirname "$0")/../../build}
TEST_BIN="$BUILD/tests/l2sec-test-esp"
INSPECT="$BUILD/examples/inspect/l2sec-inspect"
need_built "$TEST_BIN"
need_built "$INSPECT"
need_tools tshark
bound_runtime 120
make_workdir esp-inspect
L2SEC_ESP_PCAP_OUT="$work" timeout 60 "$TEST_BIN" -tc="interop: write*" >/dev/null

args=()
while read -r spi suite ek ik variant; do
    spec="$spi:$suite"
    if [ "$ek" != "-" ]; then spec="$spec:$ek"; fi
    if [ "$ik" != "-" ]; then spec="$spec:$ik"; fi
    args+=(--esp-sa "$spec")
done <"$work/esp.keys"
timeout 60 "$INSPECT" "${args[@]}" "$work/esp.pcap" >"$work/inspect.jsonl"
timeout 60 tshark -r "$work/esp.pcap" -T fields -e frame.number -e esp.spi -e esp.sequence \
    2>/dev/null >"$work/tshark.tsv"
# One wrong key: the ICV must fail.
first=$(head -1 "$work/esp.keys")
set -- $first
bad_key=$(printf '%s' "$3" | sed 's/^./f/; s/^ff/00/')
timeout 60 "$INSPECT" --esp-sa "$1:$2:$bad_key" "$work/esp.pcap" >"$work/bad_all.jsonl"
sed -n 1p "$work/bad_all.jsonl" >"$work/bad.jsonl"

/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
frames = [json.loads(l) for l in open(f"{work}/inspect.jsonl")]
ts = {}
for line in open(f"{work}/tshark.tsv"):
    n, spi, seq = line.rstrip("\n").split("\t")
    ts[int(n)] = (int(spi, 16), int(seq))
bad = 0
hellos = 0
for f in frames:
    e = f.get("esp")
    if not e or not e["decrypted"] or not e["icv_ok"] or e["next_header"] != 4:
        print("FAIL: frame", f); bad += 1; continue
    if ts.get(f["frame"]) != (e["spi"], e["seq"]):
        print("FAIL: tshark reads", ts.get(f["frame"]), "for", f); bad += 1
    if "l2tp" in f:
        if f["l2tp"]["type"] != "HELLO" or "error" in f:
            print("FAIL: inner L2TP", f); bad += 1
        hellos += 1
b = json.loads(open(f"{work}/bad.jsonl").readline())
if b["esp"]["icv_ok"] or b.get("error", {}).get("code") != "integrity check value mismatch":
    print("FAIL: wrong key not detected", b); bad += 1
if len(frames) != len(ts) or hellos * 3 != len(frames):
    print("FAIL: counts", len(frames), len(ts), hellos); bad += 1
print(f"{len(frames)} ESP frames decrypted by l2sec-inspect (ICV ok, SPI/seq as tshark reads them),"
      f" {hellos} inner L2TP Hellos decoded; wrong key -> icv_ok false")
sys.exit(1 if bad else 0)
PY
echo "PASS"
