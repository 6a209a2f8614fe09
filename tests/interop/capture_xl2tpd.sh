#!/usr/bin/env bash
# Captures a real L2TP control exchange between two xl2tpd daemons (one LNS,
# one LAC) inside a private network namespace: SCCRQ/SCCRP/SCCCN, ICRQ/ICRP/
# ICCN, then CDN/StopCCN because pppd cannot run here. The capture goes to
# $L2SEC_BUILD/captures/xl2tpd_lns.pcap (never over the committed
# tests/data/xl2tpd_lns.pcap; copy it there by hand to refresh it).
#   L2SEC_BUILD=build-inspect bash tests/interop/capture_xl2tpd.sh
# With L2SEC_XL2TPD_AUTH=1 (capture_xl2tpd_auth.sh) both sides use RFC 2661
# tunnel authentication (Challenge / Challenge Response, secret "l2sec-tunnel")
# with "hidden bit = yes": xl2tpd_auth.pcap. xl2tpd 1.3.18 then adds a Random
# Vector AVP to every message but sets the H bit on no AVP (it can unhide
# received AVPs, not hide its own), so real hidden AVPs are not in it.
# Exit 0 = captured and checked, 77 = a peer or tool is missing (reason printed).
set -uo pipefail

if [ "${1:-}" != "--in-netns" ]; then
    for tool in xl2tpd dumpcap tshark unshare ip; do
        command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
    unshare -n true 2>/dev/null || { echo "SKIP: cannot create a network namespace (unshare -n)"; exit 77; }
    exec timeout -k 5 100 unshare -n bash "$0" --in-netns
fi

build=${L2SEC_BUILD:-$(pwd)/build}
out_dir=$build/captures
mkdir -p "$out_dir"
out=$out_dir/xl2tpd_lns.pcap
auth=""
if [ -n "${L2SEC_XL2TPD_AUTH:-}" ]; then
    out=$out_dir/xl2tpd_auth.pcap
    auth=$'challenge = yes\nhidden bit = yes'
fi
work=$(mktemp -d /tmp/l2sec-xl2tpd.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

ip link set lo up

# Both daemons use the standard port 1701, on two loopback addresses, so that
# tshark dissects the capture as L2TP without a decode-as rule.
cat >"$work/ppp.options" <<CONF
noauth
nodefaultroute
CONF
cat >"$work/lns.conf" <<CONF
[global]
listen-addr = 127.0.0.1
port = 1701
[lns default]
ip range = 10.99.0.2-10.99.0.20
local ip = 10.99.0.1
require authentication = no
name = l2sec-lns
pppoptfile = $work/ppp.options
$auth
CONF
cat >"$work/lac.conf" <<CONF
[global]
listen-addr = 127.0.0.2
port = 1701
[lac test]
lns = 127.0.0.1
autodial = yes
redial = no
require authentication = no
name = l2sec-lac
pppoptfile = $work/ppp.options
$auth
CONF
# l2tp-secrets: our host name, the peer's host name, the tunnel secret
printf '* * l2sec-tunnel\n' >"$work/secrets"

dumpcap -P -q -i lo -f 'udp port 1701' -w "$work/cap.pcap" >"$work/dumpcap.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/cap.pcap" ] && break; sleep 0.1; done
sleep 0.5

setsid xl2tpd -D -c "$work/lns.conf" -s "$work/secrets" -p "$work/lns.pid" -C "$work/lns.ctl" >"$work/lns.log" 2>&1 &
pids+=($!)
sleep 0.5
setsid xl2tpd -D -c "$work/lac.conf" -s "$work/secrets" -p "$work/lac.pid" -C "$work/lac.ctl" >"$work/lac.log" 2>&1 &
lac=$!
pids+=($lac)

# Wait for the session to come up and be torn down (CDN), then stop the LAC
# so that it closes the tunnel (StopCCN), and let the acks flow.
want="SCCRQ SCCRP SCCCN ICRQ ICRP ICCN CDN"
types() { tshark -r "$work/cap.pcap" -T fields -e l2tp.avp.message_type 2>/dev/null | tr ',' '\n' | sort -u | tr '\n' ' '; }
ok=0
for _ in $(seq 40); do
    sleep 0.5
    got=$(tshark -r "$work/cap.pcap" -Y l2tp -T fields -e l2tp.avp.message_type 2>/dev/null | tr ',\n' '  ')
    # message type numbers: SCCRQ 1, SCCRP 2, SCCCN 3, ICRQ 10, ICRP 11, ICCN 12, CDN 14
    missing=0
    for t in 1 2 3 10 11 12 14; do
        echo " $got " | grep -qw "$t" || missing=1
    done
    [ $missing -eq 0 ] && { ok=1; break; }
done
if [ $ok -ne 1 ]; then
    echo "FAIL: did not see $want; LNS log:"; tail -n 20 "$work/lns.log"; echo "LAC log:"; tail -n 20 "$work/lac.log"
    exit 1
fi
# "d test" on the control pipe disconnects the LAC's tunnel: StopCCN
echo "d test" >"$work/lac.ctl"
for _ in $(seq 20); do
    sleep 0.5
    tshark -r "$work/cap.pcap" -Y 'l2tp.avp.message_type == 4' 2>/dev/null | grep -q . && break
done
sleep 1.5  # the ZLB acknowledging StopCCN
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null
cp "$work/cap.pcap" "$out"
echo "captured $(tshark -r "$out" 2>/dev/null | wc -l) frames into $out"
tshark -r "$out" -T fields -e frame.number -e ip.src -e ip.dst -e l2tp.tunnel -e l2tp.session -e l2tp.avp.message_type 2>/dev/null
if ! tshark -r "$out" -Y 'l2tp.avp.message_type == 4' 2>/dev/null | grep -q .; then
    echo "FAIL: no StopCCN in the capture"; exit 1
fi
if [ -n "${L2SEC_XL2TPD_AUTH:-}" ]; then
    for f in 'l2tp.avp.type == 11' 'l2tp.avp.type == 13' 'l2tp.avp.type == 36'; do
        tshark -r "$out" -Y "$f" 2>/dev/null | grep -q . || { echo "FAIL: no '$f' in the capture"; exit 1; }
    done
fi
echo "OK: $want StopCCN"
exit 0
