#!/usr/bin/env bash
# l2sec-lac (on the host side, no IPsec) against the real Linux L2TP server:
# xl2tpd as LNS in kernel-L2TP mode + pppd as authenticator (chap-secrets,
# an address pool), in a QEMU guest. With MS-CHAPv2, CHAP and PAP, each
# pinging the server's PPP address through the tunnel; the server's pppd must
# report the user's session. Each case is repeated with the real client
# (xl2tpd LAC + pppd in a second guest, behind a NAT), and the time from ICCN
# to IPCP up is measured on the server's tap for both (issue 10).
# Exit 0 = passed, 77 = no QEMU / kernel / namespaces here (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/vm.sh
. "$(dirname "$0")/vm/vm.sh"

build=${L2SEC_BUILD:-$(pwd)/build}

# --- the l2sec side: all this script knows of l2sec-lac ---------------------------
lac_bin=$build/examples/l2tp_lac/l2sec-lac
# run_l2sec_lac SERVER AUTH USER PASSWORD LOG: l2sec-lac from the WAN side to
# SERVER:1701 through PPP, 3 pings to the server's PPP address, then hang up;
# its exit status. Sets lac_answered ("N of M").
run_l2sec_lac() {
    ip netns exec "$vm_wan_ns" timeout 60 "$lac_bin" --lns "$1:1701" --bind "$vm_wan_ip:0" \
        --ppp --auth "$2" --user "$3" --password "$4" --pings 3 --hold 2 --timeout 45 >"$5" 2>&1
    local rc=$?
    lac_answered=$(sed -n 's/^ip: \([0-9]* of [0-9]*\) echo requests answered$/\1/p' "$5")
    return $rc
}
# ---------------------------------------------------------------------------------

need_built "$lac_bin" "cmake --build build --target l2sec-lac"
need_tools dumpcap tshark
vm_need
bound_runtime 420
make_workdir vm-lac-pppd
vm_net

vm_boot server wan
vm_boot client lan
vm_wait_ready server client || { echo "FAIL: a VM did not boot"; exit 1; }
vm_server server ipsec=no users="alice:wonder-land bob:the-builder carol:chr1stmas" behind= ||
    { echo "FAIL: the Linux LNS did not start"; exit 1; }
[ "$(vm_field "$(vm_status server server_ready srv)" kernel_l2tp)" = yes ] ||
    { echo "FAIL: the server's xl2tpd is not in kernel-L2TP mode"; exit 1; }

# server_saw USER: the server's pppd has had a session (ip-up) for USER since
# the status line number $mark.
server_saw() {
    tail -n +"$mark" "${vm_dir[server]}/status.log" | grep -qE "^STATUS ppp_up s=srv .*user=$1 "
}
status_lines() { wc -l <"${vm_dir[server]}/status.log"; }

failed=0
summary=()
notes=()
for auth in mschapv2 chap pap; do
    case $auth in
        mschapv2) user=alice password=wonder-land ;;
        chap) user=bob password=the-builder ;;
        pap) user=carol password=chr1stmas ;;
    esac
    echo "== $auth"
    # l2sec-lac against the real LNS.
    mark=$(($(status_lines) + 1))
    pcap=$work/l2sec-$auth.pcap
    start_capture "$pcap" "udp port 1701" "${vm_tap[server]}" "$vm_wan_ns"
    run_l2sec_lac "$vm_server_ip" "$auth" "$user" "$password" "$work/lac-$auth.log"
    rc=$?
    stop_capture
    t=$(vm_iccn_to_ipcp "$pcap" | head -n 1)
    l2sec_ms=$(vm_field "$t" iccn_to_ipcp_ms)
    echo "  l2sec-lac: exit $rc, ${lac_answered:-no} pings answered; ICCN -> IPCP up ${l2sec_ms:-?} ms" \
        "(first LCP ConfReq after ICCN, LAC/LNS: $(vm_field "$t" lcp_first_ms) ms)"
    if [ $rc -ne 0 ] || ! server_saw "$user" || [ -z "$lac_answered" ] || [ "${lac_answered%% *}" -eq 0 ]; then
        echo "FAIL ($auth): l2sec-lac against the real LNS; its output:"
        tail -n 30 "$work/lac-$auth.log"
        vm_show_failure server srv
        failed=1
    else
        echo "PASS ($auth: l2sec-lac against the real LNS)"
        [ "${lac_answered%% *}" = "${lac_answered##* }" ] ||
            notes+=("$auth: l2sec-lac had $lac_answered pings answered (issue 10: the first goes out the instant IPCP opens)")
    fi
    # The baseline: the real LAC (behind the NAT) against the same LNS.
    mark=$(($(status_lines) + 1))
    pcap=$work/real-$auth.pcap
    start_capture "$pcap" "udp port 1701" "${vm_tap[server]}" "$vm_wan_ns"
    vm_client client ipsec=no server="$vm_server_ip" user="$user" password="$password" auth="$auth" hold=1
    rc=$?
    stop_capture
    t=$(vm_iccn_to_ipcp "$pcap" | head -n 1)
    real_ms=$(vm_field "$t" iccn_to_ipcp_ms)
    echo "  xl2tpd+pppd: ICCN -> IPCP up ${real_ms:-?} ms (first LCP ConfReq after ICCN, LAC/LNS: $(vm_field "$t" lcp_first_ms) ms)"
    if [ $rc -ne 0 ] || ! server_saw "$user"; then
        echo "FAIL ($auth): the real LAC against the real LNS"
        failed=1
    else
        echo "PASS ($auth: real LAC against the real LNS, the baseline)"
    fi
    summary+=("$(printf '%-9s ICCN -> IPCP up: l2sec-lac %6s ms, xl2tpd+pppd %6s ms' "$auth" "${l2sec_ms:-?}" "${real_ms:-?}")")
done

echo "== ICCN -> IPCP up (on the wire, guest under TCG)"
printf '  %s\n' "${summary[@]}"
[ ${#notes[@]} -eq 0 ] || printf 'NOTE: %s\n' "${notes[@]}"
vm_stop client server
[ $failed -eq 0 ] || exit 1
echo "OK"
