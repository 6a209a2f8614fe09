#!/usr/bin/env bash
# l2sec-client (on the host side) against the real Linux L2TP/IPsec server in
# a QEMU guest: strongSwan responder (IKEv1 PSK, kernel ESP in transport mode,
# local_ts = dynamic[udp/1701], remote_ts = dynamic[udp]), xl2tpd LNS in
# kernel-L2TP mode, pppd authenticating from chap-secrets/pap-secrets
# (docs/vm-interop.md, docs/l2tp-ipsec-interop.md). One guest booted once;
# l2sec-client connects, pings the server's PPP address through the tunnel
# (--ping, exit 0 only when every echo came back) and tears down:
#   mschapv2-direct  from the server's segment: raw ESP (IP protocol 50)
#   mschapv2-nat     from a namespace behind the NAT (masquerade): ESP in UDP 4500
#   chap-direct, pap-nat   the other two PPP authentications
# Asserted on both sides: the client's exit status and --json reports (ike_established,
# esp_sa with udp_encap as expected, ppp_up with a pool address, every
# echo answered); the guest's pppd (ip-up for the user) and kernel SAs (as
# `ip xfrm monitor` saw them installed: transport mode, espinudp only behind
# NAT; l2sec-client tears down right after its pings, before a look at
# `ip xfrm state` from the guest's slow ip-up hook could see them).
# Then two refusals that must exit non-zero and say why: a wrong password
# (PPP authentication failed) and a wrong PSK (charon cannot decrypt Main
# Mode message 5; l2sec-client names the IKE phase or the PSK).
# Exit 0 = passed, 77 = no QEMU / kernel / namespaces here (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/vm.sh
. "$(dirname "$0")/vm/vm.sh"

build=${L2SEC_BUILD:-$(pwd)/build}

# --- the l2sec side: all this script knows of l2sec-client ------------------------
client_bin=$build/examples/client/l2sec-client
psk=l2sec-vm-client-psk
# run_client NS AUTH USER PASSWORD LOG: l2sec-client in namespace NS to the
# Linux server, 3 pings to its PPP address; its exit status.
run_client() {
    ip netns exec "$1" timeout 90 "$client_bin" --server "$vm_server_ip" --psk "$psk" --user "$3" \
        --password "$4" --auth "$2" --no-tun --ping "$ppp_local" --count 3 --timeout 40 --json \
        --keylog "$5.keys" >"$5" 2>&1
}
client_event() { grep -F "\"event\":\"$2\"" "$1" | grep -qE "$3"; }
# ---------------------------------------------------------------------------------

need_built "$client_bin" "cmake --build --preset default --target l2sec-client"
need_tools dumpcap tshark
vm_need
bound_runtime 240
make_workdir vm-client-linux-server
vm_net
vm_boot srv wan
vm_host_ns behind lan 10.97.2.50 || { echo "FAIL: no namespace behind the NAT"; exit 1; }
vm_wait_ready srv || { echo "FAIL: the VM did not boot"; exit 1; }
vm_server srv psk="$psk" users="alice:wonder-land bob:the-builder carol:chr1stmas" ||
    { echo "FAIL: the Linux server did not start"; exit 1; }
line=$(vm_status srv server_ready srv)
ppp_local=$(vm_field "$line" local)
echo "Linux server at $vm_server_ip, PPP $ppp_local, kernel L2TP $(vm_field "$line" kernel_l2tp)"
[ "$(vm_field "$line" kernel_l2tp)" = yes ] || { echo "FAIL: the server's xl2tpd is not in kernel-L2TP mode"; exit 1; }
# Every SA the guest kernel installs, as it installs it.
vm_run srv 10 'ip xfrm monitor >/run/vm/srv/xfrm.monitor 2>&1 &' >/dev/null

failed=0
summary=()
status_lines() { wc -l <"${vm_dir[srv]}/status.log"; }
# tty_drops: how many PPP frames the server's xl2tpd dropped because its pppd
# was not attached yet (issue 10: l2sec's first LCP Configure-Request, sent at
# ICCN, used to be lost this way and cost the 3 s restart timer).
tty_drops() { grep -c 'tty is not open yet' "${vm_dir[srv]}/srv/xl2tpd.log" 2>/dev/null; }
xfrm_lines() { cat "${vm_dir[srv]}/srv/xfrm.monitor" 2>/dev/null | wc -l; }
# server_up_since MARK USER: the server's pppd reported ip-up for USER since
# status line MARK (its ip-up hook is a bash over 9p: seconds under load, so
# wait for it); sets up.
server_up_since() {
    local i
    for ((i = 0; i < 200; i++)); do
        up=$(tail -n +"$1" "${vm_dir[srv]}/status.log" | grep -E "^STATUS ppp_up s=srv .*user=$2 " | head -n 1)
        [ -n "$up" ] && return 0
        sleep 0.1
    done
    return 1
}

# run_case ID NS ENCAP AUTH USER PASSWORD
run_case() {
    local id=$1 ns=$2 encap=$3 auth=$4 user=$5 password=$6 log=$work/client-$1.log ok=1 rc
    echo "== $id"
    local mark xmark t0 t1
    mark=$(($(status_lines) + 1))
    xmark=$(($(xfrm_lines) + 1))
    local drops
    drops=$(tty_drops)
    t0=$(date +%s.%N)
    run_client "$ns" "$auth" "$user" "$password" "$log"
    rc=$?
    t1=$(date +%s.%N)
    [ $rc -eq 0 ] || { echo "FAIL ($id): l2sec-client exit $rc"; ok=0; }
    local want_udp=false
    [ "$encap" = yes ] && want_udp=true
    client_event "$log" ike_established "\"peer\":\"$vm_server_ip:" || { echo "FAIL ($id): no ike_established"; ok=0; }
    client_event "$log" esp_sa "\"udp_encap\":$want_udp" || { echo "FAIL ($id): no esp_sa with udp_encap $want_udp"; ok=0; }
    client_event "$log" ppp_up "\"local_ip\":\"10\\.97\\.8\\.[0-9]+\",\"peer_ip\":\"$ppp_local\"" ||
        { echo "FAIL ($id): no ppp_up with a pool address and the server's $ppp_local"; ok=0; }
    grep -q '"event":"ping","sent":[0-9]*,"answered":3,"count":3' "$log" || { echo "FAIL ($id): not every echo answered"; ok=0; }
    # The server's pppd saw the user (ip-up); its kernel SA at that moment.
    local up="" spi_in
    server_up_since "$mark" "$user" || { echo "FAIL ($id): the server's pppd had no session for $user"; ok=0; }
    # The SA the guest kernel installed to send to us: our inbound SPI (one
    # record of ip xfrm monitor: a "src" line and its indented lines).
    spi_in=$(grep -F '"event":"esp_sa"' "$log" | head -n 1 | sed -n 's/.*"spi_in":"\([0-9a-f]*\)".*/\1/p')
    local x
    x=$(tail -n +"$xmark" "${vm_dir[srv]}/srv/xfrm.monitor" 2>/dev/null |
        awk -v spi="spi 0x$spi_in " '/^[^ \t]/ { if (keep) exit; rec = $0 "\n"; next }
            { rec = rec $0 "\n" } index($0, spi) && rec ~ /^src [0-9.]+ dst [0-9.]+\n/ { keep = 1 } END { if (keep) printf "%s", rec }')
    [ -n "$x" ] || { echo "FAIL ($id): the guest kernel installed no SA with our SPI $spi_in"; ok=0; }
    grep -q 'mode transport' <<<"$x" || { echo "FAIL ($id): the guest's SA to us is not in transport mode"; ok=0; }
    if [ "$encap" = yes ]; then
        grep -q 'encap type espinudp sport 4500' <<<"$x" || { echo "FAIL ($id): the server's SA is not ESP in UDP 4500"; ok=0; }
    else
        ! grep -q 'encap type espinudp' <<<"$x" || { echo "FAIL ($id): the server's SA is UDP-encapsulated without NAT"; ok=0; }
    fi
    [ "$(tty_drops)" -eq "$drops" ] ||
        { echo "FAIL ($id): the server's xl2tpd dropped our PPP frame before its pppd was attached (tty is not open yet)"; ok=0; }
    local esp
    esp=$(grep -F '"event":"esp_sa"' "$log" | head -n 1 | sed -n 's/.*"suite":"\([^"]*\)".*/\1/p')
    local tun sess echoes
    tun=$(grep -F '"event":"l2tp_tunnel_up"' "$log" | head -n 1 | sed -n 's/.*"t_ms":\([0-9]*\).*/\1/p')
    sess=$(grep -F '"event":"ppp_up"' "$log" | head -n 1 | sed -n 's/.*"t_ms":\([0-9]*\).*/\1/p')
    echoes=$(grep -F '"event":"ping"' "$log" | sed -n 's/.*"sent":\([0-9]*\),"answered":\([0-9]*\).*/\2 of \1/p')
    summary+=("$(printf '%-16s exit %s, %s, l2tp_tunnel_up to ppp_up %s ms, echoes answered %s, %.2f s connect to teardown' \
        "$id" "$rc" "${esp:-?}" "$((${sess:-0} - ${tun:-0}))" "${echoes:-?}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")")
    if [ $ok -eq 1 ]; then
        echo "PASS ($id)"
    else
        failed=1
        echo "--- l2sec-client output:"
        tail -n 20 "$log"
        vm_show_failure srv srv
    fi
}

# Everything on the server's wire, for decryption with l2sec-client's --keylog.
start_capture "$work/srv.pcap" "udp or esp" "${vm_tap[srv]}" "$vm_wan_ns"
run_case mschapv2-direct "$vm_wan_ns" no mschapv2 alice wonder-land
run_case mschapv2-nat "${vm_host[behind]}" yes mschapv2 bob the-builder
run_case chap-direct "$vm_wan_ns" no chap carol chr1stmas
run_case pap-nat "${vm_host[behind]}" yes pap alice wonder-land
stop_capture

# The ESP SA keys l2sec-client wrote (Wireshark's esp_sa table) must decrypt
# the capture: L2TP, PPP and the pings inside ESP, raw and in UDP 4500. The
# addresses become "*": behind the NAT the client logs its own address, the
# wire shows the NAT's.
echo "== the capture decrypted with l2sec-client's --keylog"
tshark_esp=(-o esp.enable_encryption_decode:TRUE)
while IFS= read -r kl; do
    tshark_esp+=(-o "uat:esp_sa:$(sed 's/^"\(IPv[46]\)","[^"]*","[^"]*",/"\1","*","*",/' <<<"$kl")")
done < <(cat "$work"/client-*.log.keys 2>/dev/null)
esp_n=$(vm_pcap_count "$work/srv.pcap" esp)
l2tp_n=$(tshark -r "$work/srv.pcap" "${tshark_esp[@]}" -Y l2tp 2>/dev/null | wc -l)
req_n=$(tshark -r "$work/srv.pcap" "${tshark_esp[@]}" -Y "icmp.type == 8 && ip.dst == $ppp_local" 2>/dev/null | wc -l)
rep_n=$(tshark -r "$work/srv.pcap" "${tshark_esp[@]}" -Y "icmp.type == 0 && ip.src == $ppp_local" 2>/dev/null | wc -l)
# L2TP in the clear from l2sec-client: none. The Linux server's pppd resends
# its LCP Terminate-Request 3 s after l2sec-client has gone (xl2tpd hangs it
# up on StopCCN, nobody acknowledges), after charon removed the SA and policy
# on the Delete: that one leaves in the clear, the server's doing; counted.
clear_n=$(vm_pcap_count "$work/srv.pcap" "udp.port == 1701 && !esp && ip.dst == $vm_server_ip")
clear_srv=$(vm_pcap_count "$work/srv.pcap" "udp.port == 1701 && !esp && ip.src == $vm_server_ip")
echo "  $esp_n ESP packets; decrypted: $l2tp_n L2TP, $req_n echo requests, $rep_n echo replies; L2TP in the clear: $clear_n from l2sec-client, $clear_srv from the Linux server (its late LCP Terminate-Requests)"
# 4 sessions x 3 answered pings, at least.
if [ "$rep_n" -ge 12 ] && [ "$req_n" -ge "$rep_n" ] && [ "$l2tp_n" -gt 0 ] && [ "$clear_n" -eq 0 ]; then
    echo "PASS (keylog: the capture decrypts, the pings are inside, no L2TP in the clear)"
else
    echo "FAIL: the capture did not decrypt as expected with l2sec-client's keys"
    failed=1
fi
# On the wire, inside ESP: ICCN to IPCP up per session, and each side's first
# LCP Configure-Request after ICCN (l2sec-client is the side that sends ICCN).
while IFS= read -r t; do
    echo "  session: ICCN -> IPCP up $(vm_field "$t" iccn_to_ipcp_ms) ms, first LCP ConfReq after ICCN (l2sec/Linux LNS): $(vm_field "$t" lcp_first_ms) ms"
done < <(vm_iccn_to_ipcp "$work/srv.pcap" "${tshark_esp[@]}")

# Refusals: the client must fail (non-zero exit) and say what failed.
# refusal ID NS EXPECT AUTH USER PASSWORD PSK: EXPECT, an extended regexp, must
# be in l2sec-client's output.
refusal() {
    local id=$1 ns=$2 expect=$3 log=$work/client-$1.log rc
    echo "== $id"
    ip netns exec "$ns" timeout 60 "$client_bin" --server "$vm_server_ip" --psk "$7" --user "$5" \
        --password "$6" --auth "$4" --no-tun --ping "$ppp_local" --count 1 --timeout 20 --json >"$log" 2>&1
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qE "$expect" "$log"; then
        echo "PASS ($id: exit $rc, $(grep -m 1 -oE "$expect" "$log"))"
    else
        echo "FAIL ($id): exit $rc, no /$expect/ in its output:"
        tail -n 10 "$log"
        failed=1
    fi
}
refusal wrong-password "$vm_wan_ns" 'auth_failed|authentication failed' mschapv2 alice not-her-password "$psk"
refusal wrong-psk "${vm_host[behind]}" '\(ike\)|PSK|pre-shared' mschapv2 alice wonder-land wrong-psk

echo "== summary (guest under TCG)"
printf '  %s\n' "${summary[@]}"
vm_stop srv
[ $failed -eq 0 ] || exit 1
echo "OK"
