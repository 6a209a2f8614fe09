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
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_tools xl2tpd dumpcap tshark unshare ip
enter_netns 100

build=${L2SEC_BUILD:-$(pwd)/build}
out_dir=$build/captures
mkdir -p "$out_dir"
out=$out_dir/xl2tpd_lns.pcap
auth=""
if [ -n "${L2SEC_XL2TPD_AUTH:-}" ]; then
    out=$out_dir/xl2tpd_auth.pcap
    auth=$'challenge = yes\nhidden bit = yes'
fi
make_workdir xl2tpd

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

start_capture "$work/cap.pcap" 'udp port 1701'
start_xl2tpd lns "$work/secrets"
sleep 0.5
start_xl2tpd lac "$work/secrets"

# Wait for the session to come up and be torn down (CDN), then stop the LAC
# so that it closes the tunnel (StopCCN), and let the acks flow.
want="SCCRQ SCCRP SCCCN ICRQ ICRP ICCN CDN"
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
retry 20 0.5 pcap_has "$work/cap.pcap" 'l2tp.avp.message_type == 4'
sleep 1.5  # the ZLB acknowledging StopCCN
stop_capture
cp "$work/cap.pcap" "$out"
echo "captured $(tshark -r "$out" 2>/dev/null | wc -l) frames into $out"
tshark -r "$out" -T fields -e frame.number -e ip.src -e ip.dst -e l2tp.tunnel -e l2tp.session -e l2tp.avp.message_type 2>/dev/null
if ! pcap_has "$out" 'l2tp.avp.message_type == 4'; then
    echo "FAIL: no StopCCN in the capture"; exit 1
fi
if [ -n "${L2SEC_XL2TPD_AUTH:-}" ]; then
    for f in 'l2tp.avp.type == 11' 'l2tp.avp.type == 13' 'l2tp.avp.type == 36'; do
        pcap_has "$out" "$f" || { echo "FAIL: no '$f' in the capture"; exit 1; }
    done
fi
echo "OK: $want StopCCN"
exit 0
