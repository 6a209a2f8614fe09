#!/usr/bin/env bash
# l2sec-lns (on the host side, no IPsec) serving the real Linux L2TP client:
# xl2tpd as LAC in kernel-L2TP mode + pppd with the pppol2tp plugin, in a QEMU
# guest behind a NAT, configured as NetworkManager-l2tp configures them. With
# MS-CHAPv2, CHAP and PAP, each pinging l2sec-lns's PPP address through the
# tunnel; then two such clients behind the same NAT at once. Each auth case is repeated against the real server (xl2tpd LNS + pppd in
# a second guest), and the time from ICCN to IPCP up is measured on the wire
# for both (issue 10: l2sec's first LCP Configure-Request goes out before the
# peer's pppd is attached, costing a 3 s restart timer).
# Exit 0 = passed, 77 = no QEMU / kernel / namespaces here (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/vm.sh
. "$(dirname "$0")/vm/vm.sh"

build=${L2SEC_BUILD:-$(pwd)/build}

# --- the l2sec side: all this script knows of l2sec-lns ---------------------------
lns_bin=$build/examples/l2tp_lns/l2sec-lns
ppp_local=10.97.8.1
# start_l2sec_lns AUTH LOG [SESSIONS]: l2sec-lns on the WAN side
# ($vm_wan_ip:1701), users from $work/users.txt, serving SESSIONS (1)
# sessions, then exiting; sets lns_pid.
start_l2sec_lns() {
    ip netns exec "$vm_wan_ns" "$lns_bin" --bind "$vm_wan_ip:1701" --users "$work/users.txt" --auth "$1" \
        --local-ip "$ppp_local" --pool 10.97.8.10-10.97.8.99 --sessions "${3:-1}" --timeout 60 >"$2" 2>&1 &
    lns_pid=$!
    pids+=("$lns_pid")
}
# wait_l2sec_lns: waits for l2sec-lns to exit by itself (it has served its
# sessions); its exit status.
wait_l2sec_lns() {
    retry 50 0.1 all_exited "$lns_pid"
    stop_pids "$lns_pid"
    wait "$lns_pid" 2>/dev/null
}
# ---------------------------------------------------------------------------------

need_built "$lns_bin" "cmake --build build --target l2sec-lns"
need_tools dumpcap tshark
vm_need
bound_runtime 420
make_workdir vm-lns-pppd
vm_net
printf 'alice wonder-land\nbob the-builder\ncarol chr1stmas\n' >"$work/users.txt"

vm_boot client lan
vm_boot client2 lan
vm_boot server wan
vm_wait_ready client client2 server || { echo "FAIL: a VM did not boot"; exit 1; }
vm_server server ipsec=no users="alice:wonder-land bob:the-builder carol:chr1stmas" local="$ppp_local" behind= ||
    { echo "FAIL: the Linux LNS did not start"; exit 1; }

failed=0
summary=()
# client_case LABEL SERVER PCAP KEY=VALUE...: the real client to SERVER,
# captured on the NAT's public side; prints ICCN -> IPCP. Sets case_ms.
client_case() {
    local label=$1 server=$2 pcap=$3
    shift 3
    start_capture "$pcap" "udp port 1701" nat0 "$vm_wan_ns"
    vm_client client ipsec=no server="$server" hold=1 "$@"
    local rc=$?
    stop_capture
    local t
    t=$(vm_iccn_to_ipcp "$pcap" | head -n 1)
    case_ms=$(vm_field "$t" iccn_to_ipcp_ms)
    echo "  $label: $(grep -E "^STATUS (ppp_up|ping) s=$vm_session " "${vm_dir[client]}/status.log" |
        sed 's/^STATUS //' | tr '\n' ' ')"
    echo "  $label: ICCN -> IPCP up ${case_ms:-?} ms (first LCP ConfReq after ICCN, LAC/LNS: $(vm_field "$t" lcp_first_ms) ms)"
    xl2tpd_kernel_mode || { echo "FAIL ($label): xl2tpd did not use kernel L2TP"; rc=1; }
    return $rc
}

# xl2tpd_kernel_mode: the client's xl2tpd ran in kernel mode.
xl2tpd_kernel_mode() { grep -q "Using l2tp kernel support" "${vm_dir[client]}/$vm_session/xl2tpd.log"; }

for auth in mschapv2 chap pap; do
    case $auth in
        mschapv2) user=alice password=wonder-land ;;
        chap) user=bob password=the-builder ;;
        pap) user=carol password=chr1stmas ;;
    esac
    echo "== $auth"
    start_l2sec_lns "$auth" "$work/lns-$auth.log"
    ok=1
    client_case "l2sec-lns" "$vm_wan_ip" "$work/l2sec-$auth.pcap" user="$user" password="$password" auth="$auth" || ok=0
    l2sec_ms=$case_ms
    wait_l2sec_lns
    lns_rc=$?
    if [ $ok -eq 0 ] || [ "$lns_rc" -ne 0 ]; then
        echo "FAIL ($auth): real client against l2sec-lns (client ok=$ok, l2sec-lns exit $lns_rc); l2sec-lns log:"
        tail -n 30 "$work/lns-$auth.log"
        failed=1
    else
        echo "PASS ($auth: real client against l2sec-lns)"
    fi
    if client_case "xl2tpd+pppd" "$vm_server_ip" "$work/real-$auth.pcap" user="$user" password="$password" auth="$auth"; then
        echo "PASS ($auth: real client against the real LNS, the baseline)"
    else
        echo "FAIL ($auth): real client against the real LNS"
        failed=1
    fi
    summary+=("$(printf '%-9s ICCN -> IPCP up: l2sec-lns %6s ms, xl2tpd+pppd %6s ms' "$auth" "${l2sec_ms:-?}" "${case_ms:-?}")")
done

echo "== two real clients behind the same NAT at once (MS-CHAPv2, both sourcing from port 1701)"
start_l2sec_lns mschapv2 "$work/lns-two.log" 2
start_capture "$work/two.pcap" "udp port 1701" nat0 "$vm_wan_ns"
vm_client_start client ipsec=no server="$vm_wan_ip" user=alice password=wonder-land auth=mschapv2 hold=4
s1=$vm_session
vm_client_start client2 ipsec=no server="$vm_wan_ip" user=bob password=the-builder auth=mschapv2 hold=4
s2=$vm_session
ok=1
vm_client_wait client "$s1" 120 || ok=0
vm_client_wait client2 "$s2" 120 || ok=0
stop_capture
wait_l2sec_lns
lns_rc=$?
ports=$(tshark -r "$work/two.pcap" -Y "ip.src == $vm_nat_ip && l2tp.avp.message_type == 1" -T fields -e udp.srcport 2>/dev/null | sort -u | tr '\n' ' ')
echo "  the NAT's source ports for the two SCCRQs: $ports"
echo "  $(vm_status client ppp_up "$s1" | sed 's/^STATUS //')"
echo "  $(vm_status client2 ppp_up "$s2" | sed 's/^STATUS //')"
if [ $ok -eq 1 ] && [ "$lns_rc" -eq 0 ] && [ "$(echo "$ports" | wc -w)" -eq 2 ]; then
    echo "PASS (two clients behind one NAT)"
else
    echo "FAIL: two clients behind one NAT (clients ok=$ok, l2sec-lns exit $lns_rc, NAT ports: $ports); l2sec-lns log:"
    tail -n 30 "$work/lns-two.log"
    failed=1
fi

echo "== ICCN -> IPCP up (on the wire, guest under TCG)"
printf '  %s\n' "${summary[@]}"
vm_stop client client2 server
[ $failed -eq 0 ] || exit 1
echo "OK"
