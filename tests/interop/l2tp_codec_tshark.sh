#!/usr/bin/env bash
# tshark reads what the L2TP codecs encode: tests/interop/l2tp_codec_tshark.cpp
# (compiled here) builds all 14 control message types carrying every IETF AVP,
# a ZLB, a Broadband Forum vendor AVP, hidden AVPs and data messages with and
# without L/S/O/P into a pcap, and prints per frame what a reader must find.
# tshark must dissect every frame without a warning or malformed mark and give
# exactly those message types, AVP types, IDs, sequence numbers and values.
# Exit 0 = passed, 1 = failed, 77 = skipped (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

src=${L2SEC_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
need_tools tshark
need_cxx
bound_runtime 120

make_workdir l2tp-tshark
compile_peer "$src/tests/interop/l2tp_codec_tshark.cpp" "$work/gen"
"$work/gen" "$work/l2tp.pcap" >"$work/expected.txt" || { echo "FAIL: the generator failed"; exit 1; }

ts() { timeout 60 tshark -r "$work/l2tp.pcap" "$@" 2>/dev/null; }
ts -T fields -E separator=/t -e l2tp.avp.message_type -e l2tp.avp.type -e l2tp.tunnel -e l2tp.session \
    -e l2tp.Ns -e l2tp.Nr -e l2tp.avp.assigned_tunnel_id -e l2tp.avp.assigned_session_id \
    -e l2tp.avp.called_number -e l2tp.avp.calling_number -e l2tp.tie_breaker -e ppp.protocol >"$work/got.txt"
frames=$(wc -l <"$work/expected.txt")
if ! diff "$work/expected.txt" "$work/got.txt"; then
    echo "FAIL: tshark reads our encoding differently (< ours, > tshark)"; exit 1
fi
expert=$(ts -q -z expert,warn)
if ts -Y '_ws.malformed || _ws.expert.severity >= "warning"' | grep -q .; then
    echo "$expert"; echo "FAIL: tshark warns about frames we encoded"; exit 1
fi
ts | sed 's/^/  /'
echo "OK: tshark agrees on all $frames frames, no warnings"
exit 0
