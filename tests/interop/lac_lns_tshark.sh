#!/usr/bin/env bash
# What our engines put on the wire, as tshark reads it: l2sec-lac against
# l2sec-lns over loopback in a private network namespace (tunnel secret, PPP
# with CHAP-MD5 and then MS-CHAPv2, IPCP, pings, teardown), captured with
# dumpcap; tshark must dissect every message type we sent and flag nothing as
# malformed or as an expert error.
# Exit 0 = passed, 77 = tshark/dumpcap or a namespace is unavailable.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_tools tshark dumpcap
enter_netns 100

build=${L2SEC_BUILD:-$(pwd)/build}
lac=$build/examples/l2tp_lac/l2sec-lac
lns=$build/examples/l2tp_lns/l2sec-lns
[ -x "$lac" ] && [ -x "$lns" ] || skip "examples not built in $build"
make_workdir tshark
printf 'alice wonderland\n' >"$work/users"

start_capture "$work/cap.pcap" 'udp port 1701'

for auth in chap mschapv2; do
    "$lns" --bind 127.0.0.1:1701 --users "$work/users" --auth "$auth" --secret tshark --sessions 1 \
        --timeout 30 >"$work/lns-$auth.out" 2>&1 &
    l=$!
    pids+=("$l")
    sleep 0.3
    "$lac" --lns 127.0.0.1:1701 --bind 127.0.0.2:1701 --secret tshark --ppp --user alice \
        --password wonderland --pings 2 --hold 1 --timeout 30 >"$work/lac-$auth.out" 2>&1 ||
        { echo "FAIL: l2sec-lac ($auth)"; cat "$work/lac-$auth.out" "$work/lns-$auth.out"; exit 1; }
    wait "$l" || { echo "FAIL: l2sec-lns ($auth)"; cat "$work/lns-$auth.out"; exit 1; }
    grep -q "2 of 2 echo requests answered" "$work/lac-$auth.out" || { echo "FAIL: pings ($auth)"; exit 1; }
done
sleep 1
stop_capture

frames=$(tshark -r "$work/cap.pcap" 2>/dev/null | wc -l)
echo "captured $frames frames"
bad=$(tshark -r "$work/cap.pcap" -Y '_ws.malformed || _ws.expert.severity >= "error"' 2>/dev/null)
if [ -n "$bad" ]; then
    echo "FAIL: tshark flags these frames:"; echo "$bad"
    tshark -r "$work/cap.pcap" -Y '_ws.malformed || _ws.expert.severity >= "error"' -V 2>/dev/null | head -80
    exit 1
fi
has() { pcap_has "$work/cap.pcap" "$1"; }
for t in 1 2 3 4 10 11 12 14; do
    has "l2tp.avp.message_type == $t" || { echo "FAIL: no L2TP message type $t"; exit 1; }
done
for f in 'l2tp.avp.type == 13' 'lcp && ppp.code == 1' 'lcp && ppp.code == 2' 'lcp && ppp.code == 5' \
    'lcp && ppp.code == 6' 'chap.code == 1' 'chap.code == 2' 'chap.code == 3' 'ipcp && ppp.code == 3' \
    'ipcp && ppp.code == 2' 'icmp.type == 8' 'icmp.type == 0'; do
    has "$f" || { echo "FAIL: tshark sees no '$f'"; exit 1; }
done
# MS-CHAPv2: tshark recognises the algorithm in LCP and the 49-byte Response.
has 'lcp.opt.algorithm == 0x81' || { echo "FAIL: no MS-CHAPv2 in LCP"; exit 1; }
echo "OK: tshark dissects everything our LAC and LNS sent, nothing malformed"
exit 0
