#!/usr/bin/env bash
# The VM harness proving itself, with no l2sec code involved: the real Linux
# L2TP/IPsec client (strongSwan + xl2tpd LAC + pppd, as NetworkManager-l2tp
# configures them) in one QEMU guest behind a NAT, against the real Linux
# server (strongSwan responder + xl2tpd LNS + pppd) in another guest on the
# "internet" side. One boot of each; four sessions in a row, each a full
# connect (IKEv1 Main + Quick Mode, NAT-T, kernel ESP in UDP 4500 in transport
# mode, kernel L2TP, PPP, pings, teardown):
#   MS-CHAPv2 with NetworkManager-l2tp's proposals, pinging an address behind
#             the server, with a Quick Mode rekey mid-session (PPP must stay up)
#   CHAP      with Windows 10/11's proposals
#   PAP       with Android's proposals
#   MS-CHAPv2 with macOS/iOS's proposals
# A capture on the NAT's public side must show IKE on 500, ESP in UDP on
# 4500, and no L2TP in the clear; decrypted with the SPIs and keys of the
# guest kernel's SAs (ip xfrm state), L2TP, PPP and the pings inside.
# With L2SEC_KEEP=1 the work directory keeps that capture and the tshark
# options that decrypt it.
# Exit 0 = passed, 77 = no QEMU / kernel / namespaces here (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/vm.sh
. "$(dirname "$0")/vm/vm.sh"

need_tools dumpcap tshark
vm_need
bound_runtime 420
make_workdir vm-selftest
vm_net

vm_boot server wan
vm_boot client lan
vm_wait_ready server client || { echo "FAIL: a VM did not boot"; exit 1; }

psk=l2sec-vm-selftest-psk
vm_server server psk="$psk" users="alice:wonder-land bob:the-builder carol:chr1stmas" ||
    { echo "FAIL: the Linux server did not start"; exit 1; }
behind=10.97.9.1
echo "Linux server at $vm_server_ip (PPP $(vm_field "$(vm_status server server_ready srv)" local), behind it $behind)"

start_capture "$work/nat-public.pcap" "udp" nat0 "$vm_wan_ns"

failed=0
# run_case NAME KEY=VALUE...: one client session; checks it came up behind
# the NAT (UDP encapsulation), that every ping was answered and that the
# server saw the user.
run_case() {
    local label=$1 user
    shift
    user=$(vm_param user "" "$@")
    echo "== $label"
    if ! vm_client client server="$vm_server_ip" psk="$psk" hold=1 "$@"; then
        echo "FAIL ($label): the client run failed"
        failed=1
        return
    fi
    local s=$vm_session line
    line=$(vm_status client ipsec_up "$s")
    if [ "$(vm_field "$line" encap)" != yes ]; then
        echo "FAIL ($label): ESP is not UDP-encapsulated behind the NAT: $line"
        failed=1
    fi
    grep -E "^STATUS ppp_up s=srv .*user=$user " "${vm_dir[server]}/status.log" >/dev/null ||
        { echo "FAIL ($label): the server has no PPP session for $user"; failed=1; }
    grep -E "^STATUS (ppp_up|ping|rekey) s=$s " "${vm_dir[client]}/status.log" | sed 's/^STATUS /  /'
    echo "  times: $(vm_phases client "$s")"
    echo "PASS ($label)"
}

run_case "MS-CHAPv2, NetworkManager-l2tp proposals, ping behind the server, Quick Mode rekey" \
    user=alice password=wonder-land auth=mschapv2 preset=nm routes="$behind/32" ping="$behind" rekey=2
line=$(vm_status client rekey c1)
[ "$(vm_field "$line" result)" = ok ] || { echo "FAIL: no Quick Mode rekey: $line"; failed=1; }
run_case "CHAP, Windows 10/11 proposals" user=bob password=the-builder auth=chap preset=windows
run_case "PAP, Android proposals" user=carol password=chr1stmas auth=pap preset=android
run_case "MS-CHAPv2, macOS/iOS proposals" user=alice password=wonder-land auth=mschapv2 preset=macos

stop_capture
pcap=$work/nat-public.pcap
n_ike=$(vm_pcap_count "$pcap" "isakmp")
n_esp=$(vm_pcap_count "$pcap" "udp.port == 4500 && esp")
# Teardown may leak in the clear when the last LCP Terminate or StopCCN
# crosses the Delete of the SAs (the real stack has no drop policy once its
# SAs are gone); anything else in the clear is a failure.
teardown="(ppp.protocol == 0xc021 && (ppp.code == 5 || ppp.code == 6)) || l2tp.avp.message_type == 4 || l2tp.avp.message_type == 14 || (l2tp.type == 1 && !l2tp.avp.type)"
n_l2tp=$(vm_pcap_count "$pcap" "l2tp && !($teardown)")
n_bye=$(vm_pcap_count "$pcap" "l2tp && ($teardown)")
echo "capture on the NAT's public side: $n_ike IKE messages, $n_esp ESP-in-UDP packets, $n_l2tp clear L2TP" \
    "(and $n_bye teardown messages in the clear)"
[ "$(vm_pcap_count "$pcap" "isakmp && udp.port == 500")" -gt 0 ] || { echo "FAIL: no IKE on port 500"; failed=1; }
[ "$n_esp" -gt 0 ] || { echo "FAIL: no ESP in UDP 4500"; failed=1; }
[ "$n_l2tp" -eq 0 ] || { echo "FAIL: L2TP in the clear on the public side of the NAT"; failed=1; }
# Decrypted with the keys the guest kernels had, the ESP carries L2TP (the
# control channel and PPP: CHAP, PAP, IPCP) and the pings.
mapfile -t uat < <(vm_esp_sa_uat client c1 c2 c3 c4)
n_in=$(tshark -r "$pcap" "${uat[@]}" -Y "esp && l2tp" 2>/dev/null | wc -l)
n_icmp=$(tshark -r "$pcap" "${uat[@]}" -Y "esp && l2tp && icmp" 2>/dev/null | wc -l)
echo "decrypted with the guests' kernel keys ($(((${#uat[@]} - 2) / 2)) SAs): $n_in L2TP packets inside ESP, $n_icmp of them ICMP"
if [ "$n_in" -eq 0 ] || [ "$n_icmp" -eq 0 ]; then
    echo "FAIL: the ESP does not decrypt to L2TP and pings"
    failed=1
fi
printf '%s\n' "${uat[@]}" >"$work/nat-public.tshark-options"

vm_stop client server
[ $failed -eq 0 ] || exit 1
echo "OK"
