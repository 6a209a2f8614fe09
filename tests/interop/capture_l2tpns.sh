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
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" != "--in-netns" ]; then
    for tool in l2tpns xl2tpd dumpcap tshark unshare ip; do
        command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
    done
    [ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing (RADIUS responder)"; exit 77; }
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
    [ -c /dev/net/tun ] || { echo "SKIP: l2tpns needs /dev/net/tun"; exit 77; }
    unshare -n true 2>/dev/null || { echo "SKIP: cannot create a network namespace (unshare -n)"; exit 77; }
    if [ -n "${L2SEC_L2TPNS_PPP:-}" ]; then
        unshare -m true 2>/dev/null || { echo "SKIP: cannot create a mount namespace (unshare -m)"; exit 77; }
        exec timeout -k 5 110 unshare -n -m bash "$0" --in-netns
    fi
    exec timeout -k 5 110 unshare -n bash "$0" --in-netns
fi

build=${L2SEC_BUILD:-$(pwd)/build}
out_dir=$build/captures
mkdir -p "$out_dir"
out=$out_dir/l2tpns.pcap
[ -n "${L2SEC_L2TPNS_PPP:-}" ] && out=$out_dir/l2tpns_ppp.pcap
authtypes=""
if [ "${L2SEC_L2TPNS_AUTH:-}" = chap ]; then
    out=$out_dir/l2tpns_chap.pcap
    authtypes='set radius_authtypes "chap"'
    export L2SEC_PPP_HOLD=12
fi
work=$(mktemp -d /tmp/l2sec-l2tpns.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    [ -n "${L2SEC_KEEP:-}" ] && { echo "kept $work"; return; }
    rm -rf "$work"
}
trap cleanup EXIT

ip link set lo up
if [ -n "${L2SEC_L2TPNS_PPP:-}" ]; then
    mount --make-rprivate / && mount --bind "$here/fake_pppd.py" /usr/sbin/pppd ||
        { echo "SKIP: cannot bind-mount fake_pppd.py over /usr/sbin/pppd"; exit 77; }
    export L2SEC_FAKEPPP_LOG=$work/fake_pppd.log
fi
# l2tpns's cluster heartbeat needs an interface with an address: a veth pair.
ip link add l2s0 type veth peer name l2s1 || { echo "SKIP: cannot create a veth pair"; exit 77; }
ip addr add 10.77.0.1/24 dev l2s0
ip link set l2s0 up
ip link set l2s1 up

cat >"$work/l2tpns.cfg" <<CONF
set debug 3
set log_file "$work/l2tpns.log"
set pid_file "$work/l2tpns.pid"
set primary_dns 10.0.0.1
set secondary_dns 10.0.0.2
set primary_radius 127.0.0.1
set radius_secret "l2sec"
set radius_accounting no
set bind_address 127.0.0.1
set cli_bind_address 127.0.0.1
set cluster_interface "l2s0"
set ppp_keepalive yes
$authtypes
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
CONF
printf 'noauth\nnodefaultroute\n' >"$work/ppp.options"
: >"$work/secrets"

dumpcap -P -q -i lo -f 'udp port 1701' -w "$work/cap.pcap" >"$work/dumpcap.log" 2>&1 &
pids+=($!)
dump=$!
/usr/bin/python3 "$here/radius_accept.py" l2sec >"$work/radius.log" 2>&1 &
pids+=($!)
setsid l2tpns -c "$work/l2tpns.cfg" >"$work/l2tpns.out" 2>&1 &
pids+=($!)
lns=$!

# l2tpns ignores SCCRQ until it has elected itself cluster master (~16 s).
ready=0
for _ in $(seq 60); do
    grep -q "declaring myself the master" "$work/l2tpns.log" 2>/dev/null && { ready=1; break; }
    kill -0 "$lns" 2>/dev/null || break
    sleep 0.5
done
if [ $ready -ne 1 ]; then
    echo "SKIP: l2tpns did not become ready; its log:"; tail -n 20 "$work/l2tpns.log" "$work/l2tpns.out" 2>/dev/null
    exit 77
fi

setsid xl2tpd -D -c "$work/lac.conf" -s "$work/secrets" -p "$work/lac.pid" -C "$work/lac.ctl" >"$work/lac.log" 2>&1 &
pids+=($!)

has() { tshark -r "$work/cap.pcap" -Y "$1" 2>/dev/null | grep -q .; }
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
for _ in $(seq 20); do
    sleep 0.5
    has 'l2tp.avp.message_type == 4' && break
done
sleep 1.5
kill "$dump"; wait "$dump" 2>/dev/null
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
