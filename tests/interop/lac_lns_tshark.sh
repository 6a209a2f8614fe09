#!/usr/bin/env bash
# What our engines put on the wire, as tshark reads it: l2sec-lac against
# l2sec-lns over loopback in a private network namespace (tunnel secret, PPP
# with CHAP-MD5 and then MS-CHAPv2, IPCP, pings, teardown), captured with
# dumpcap; tshark must dissect every message type we sent and flag nothing as
# malformed or as an expert error.
# Exit 0 = passed, 77 = tshark/dumpcap or a namespace is unavailable.
set -uo pipefail

if [ "${1:-}" != "--in-netns" ]; then
    for tool in tshark dumpcap; do
        command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
    unshare -n true 2>/dev/null || { echo "SKIP: cannot create a network namespace (unshare -n)"; exit 77; }
    exec timeout -k 5 100 unshare -n bash "$0" --in-netns
fi

build=${L2SEC_BUILD:-$(pwd)/build}
lac=$build/examples/l2tp_lac/l2sec-lac
lns=$build/examples/l2tp_lns/l2sec-lns
[ -x "$lac" ] && [ -x "$lns" ] || { echo "SKIP: examples not built in $build"; exit 77; }
work=$(mktemp -d /tmp/l2sec-tshark.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
ip link set lo up
printf 'alice wonderland\n' >"$work/users"

dumpcap -P -q -i lo -f 'udp port 1701' -w "$work/cap.pcap" >"$work/dumpcap.log" 2>&1 &
dump=$!
pids+=($dump)
for _ in $(seq 50); do [ -s "$work/cap.pcap" ] && break; sleep 0.1; done
sleep 0.5

for auth in chap mschapv2; do
    "$lns" --bind 127.0.0.1:1701 --users "$work/users" --auth "$auth" --secret tshark --sessions 1 \
        --timeout 30 >"$work/lns-$auth.out" 2>&1 &
    l=$!
    pids+=($l)
    sleep 0.3
    "$lac" --lns 127.0.0.1:1701 --bind 127.0.0.2:1701 --secret tshark --ppp --user alice \
        --password wonderland --pings 2 --hold 1 --timeout 30 >"$work/lac-$auth.out" 2>&1 ||
        { echo "FAIL: l2sec-lac ($auth)"; cat "$work/lac-$auth.out" "$work/lns-$auth.out"; exit 1; }
    wait "$l" || { echo "FAIL: l2sec-lns ($auth)"; cat "$work/lns-$auth.out"; exit 1; }
    grep -q "2 of 2 echo requests answered" "$work/lac-$auth.out" || { echo "FAIL: pings ($auth)"; exit 1; }
done
sleep 1
kill "$dump"; wait "$dump" 2>/dev/null

frames=$(tshark -r "$work/cap.pcap" 2>/dev/null | wc -l)
echo "captured $frames frames"
bad=$(tshark -r "$work/cap.pcap" -Y '_ws.malformed || _ws.expert.severity >= "error"' 2>/dev/null)
if [ -n "$bad" ]; then
    echo "FAIL: tshark flags these frames:"; echo "$bad"
    tshark -r "$work/cap.pcap" -Y '_ws.malformed || _ws.expert.severity >= "error"' -V 2>/dev/null | head -80
    exit 1
fi
has() { tshark -r "$work/cap.pcap" -Y "$1" 2>/dev/null | grep -q .; }
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
