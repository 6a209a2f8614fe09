#!/usr/bin/env bash
# Captures a real L2TP + PPP exchange between xl2tpd (LAC) and l2tpns (LNS with
# its own userspace PPP) inside a private network namespace: SCCRQ/SCCRP/
# SCCCN, ICRQ/ICRP/ICCN, l2tpns's LCP Configure-Request, then CDN (the LAC's
# pppd cannot run here) and StopCCN. l2tpns needs a cluster interface (a veth
# pair here), a RADIUS server (a tiny accept-all responder, radius_accept.py)
# and answers only after ~16 s, when it has elected itself cluster master.
# The capture goes to $L2SEC_BUILD/captures/l2tpns.pcap (never over the
# committed tests/data/l2tpns.pcap; copy it there by hand to refresh it).
#   L2SEC_BUILD=build-inspect bash tests/interop/capture_l2tpns.sh
# With L2SEC_L2TPNS_PPP=1 (capture_l2tpns_ppp.sh) the LAC's pppd is replaced,
# in a private mount namespace, by fake_pppd.py, a minimal PPP client: the
# capture (l2tpns_ppp.pcap) then holds a whole PPP session with l2tpns: LCP
# negotiation with Configure-Reject, PAP through RADIUS, IPCP with DNS, Echo,
# Terminate. With L2SEC_L2TPNS_AUTH=chap as well (capture_l2tpns_chap.sh),
# l2tpns asks for CHAP-MD5 instead of PAP and the client stays connected
# 12 s so that l2tpns's LCP Echo-Requests are in the capture (l2tpns_chap.pcap).
# Exit 0 = captured and checked, 77 = a peer or tool is missing (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_tools l2tpns xl2tpd dumpcap tshark unshare ip
need_python3 "RADIUS responder"
[ -c /dev/net/tun ] || skip "l2tpns needs /dev/net/tun"
if [ -n "${L2SEC_L2TPNS_PPP:-}" ]; then
    enter_netns 110 --mount
else
    enter_netns 110
fi

build=${L2SEC_BUILD:-$(pwd)/build}
out_dir=$build/captures
mkdir -p "$out_dir"
out=$out_dir/l2tpns.pcap
[ -n "${L2SEC_L2TPNS_PPP:-}" ] && out=$out_dir/l2tpns_ppp.pcap
authtypes=()
if [ "${L2SEC_L2TPNS_AUTH:-}" = chap ]; then
    out=$out_dir/l2tpns_chap.pcap
    authtypes=('set radius_authtypes "chap"')
    export L2SEC_PPP_HOLD=12
fi
make_workdir l2tpns

if [ -n "${L2SEC_L2TPNS_PPP:-}" ]; then
    use_fake_pppd || skip "cannot bind-mount fake_pppd.py over /usr/sbin/pppd"
    export L2SEC_FAKEPPP_LOG=$work/fake_pppd.log
fi
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
CONF
printf 'noauth\nnodefaultroute\n' >"$work/ppp.options"
: >"$work/secrets"

start_capture "$work/cap.pcap" 'udp port 1701'
start_l2tpns "${authtypes[@]}"
start_xl2tpd lac "$work/secrets"

has() { pcap_has "$work/cap.pcap" "$1"; }
ok=0
for _ in $(seq 80); do
    sleep 0.5
    # CDN (14) and l2tpns's LCP Configure-Request
    if has 'l2tp.avp.message_type == 14' && has 'lcp && ppp.code == 1'; then ok=1; break; fi
done
if [ $ok -ne 1 ]; then
    echo "FAIL: no LCP Configure-Request + CDN seen"; tail -n 20 "$work/l2tpns.log" "$work/lac.log"
    [ -f "$work/fake_pppd.log" ] && tail -n 30 "$work/fake_pppd.log"
    exit 1
fi
echo "d test" >"$work/lac.ctl"   # close the tunnel: StopCCN
retry 20 0.5 has 'l2tp.avp.message_type == 4'
sleep 1.5
stop_capture
cp "$work/cap.pcap" "$out"
tshark -r "$out" 2>/dev/null
for t in 1 2 3 4 10 11 12 14; do
    has "l2tp.avp.message_type == $t" || { echo "FAIL: message type $t missing"; exit 1; }
done
if [ -n "${L2SEC_L2TPNS_PPP:-}" ]; then
    # LCP Ack both ways, PAP Ack (RADIUS accepted), IPCP Ack, LCP Terminate-Ack
    auth_ok='pap.code == 2'
    [ "${L2SEC_L2TPNS_AUTH:-}" = chap ] && auth_ok='chap.code == 3'
    for f in 'lcp && ppp.code == 2' 'lcp && ppp.code == 4' "$auth_ok" 'ipcp && ppp.code == 3' \
        'ipcp && ppp.code == 2' 'lcp && ppp.code == 6'; do
        has "$f" || { echo "FAIL: no '$f' in the PPP session"; tail -n 30 "$work/fake_pppd.log"; exit 1; }
    done
fi
if [ "${L2SEC_L2TPNS_AUTH:-}" = chap ]; then
    for f in 'chap.code == 1' 'chap.code == 3' 'lcp && ppp.code == 9' 'lcp && ppp.code == 10'; do
        has "$f" || { echo "FAIL: no '$f' in the CHAP session"; tail -n 30 "$work/fake_pppd.log"; exit 1; }
    done
fi
echo "OK: captured $(tshark -r "$out" 2>/dev/null | wc -l) frames into $out"
exit 0
