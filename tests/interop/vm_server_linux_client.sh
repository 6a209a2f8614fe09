#!/usr/bin/env bash
# l2sec-server (on the host side, in the "internet" namespace) serving the real
# Linux L2TP/IPsec client in QEMU guests: strongSwan IKEv1 PSK with kernel ESP
# in transport mode (local_ts = remote_ts = dynamic[udp/1701]), xl2tpd LAC in
# kernel-L2TP mode, pppd, as NetworkManager-l2tp configures them
# (docs/vm-interop.md, docs/l2tp-ipsec-interop.md). Three guests booted once:
#   direct   on the server's segment: no NAT, so raw ESP (IP protocol 50)
#   nat1     behind the NAT namespace (masquerade): ESP in UDP 4500
#   nat2     behind the same NAT, at the same time as nat1 (two clients with
#            one public address, both using port 1701 inside)
# Three rounds, one l2sec-server each (its --auth names the one method it
# requires), the clients of a round connecting at once:
#   mschapv2  direct (NM proposals), nat1 (NM), nat2 (Windows 10/11 proposals)
#   chap      direct (Windows), nat1 (macOS/iOS, with a Quick Mode rekey mid-session)
#   pap       direct (Android: MODP-1024, so the server runs --allow-weak), nat1 (NM)
# Each guest pings the server's PPP address through the tunnel. Asserted on
# both sides: l2sec-server's --json reports (ike_established and esp_sa from the
# client's outer address with udp_encap as expected, ppp_up with the user
# and a pool address, a clean exit on SIGTERM) and the guest's (STATUS lines:
# every ping answered, swanctl's encap, the kernel's `ip xfrm state` with or
# without `encap espinudp`, the rekey's new SA with PPP still up).
# Exit 0 = passed, 77 = no QEMU / kernel / namespaces here (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/vm.sh
. "$(dirname "$0")/vm/vm.sh"

build=${L2SEC_BUILD:-$(pwd)/build}

# --- the l2sec side: all this script knows of l2sec-server ------------------------
server_bin=$build/examples/server/l2sec-server
psk=l2sec-vm-server-psk
ppp_local=10.97.8.1
# start_server AUTH LOG [FLAGS...]: l2sec-server on $vm_wan_ip (UDP 500, 4500,
# raw ESP), no TUN (it answers pings to its PPP address), JSON reports to LOG;
# sets server_pid.
start_server() {
    local auth=$1 log=$2
    shift 2
    ip netns exec "$vm_wan_ns" "$server_bin" --listen "$vm_wan_ip" --psk "$psk" --users "$work/users.txt" \
        --no-tun --local-ip "$ppp_local" --pool 10.97.8.10-10.97.8.99 --auth "$auth" --json \
        --keylog "$work/keys-$auth.txt" "$@" >"$log" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
}
# stop_server: SIGTERM (orderly teardown), then its exit status (124: it did
# not exit within 10 s).
stop_server() {
    kill -TERM "$server_pid" 2>/dev/null
    retry 100 0.1 all_exited "$server_pid" || { stop_pids "$server_pid"; return 124; }
    wait "$server_pid" 2>/dev/null
}
# server_event LOG EVENT PATTERN: a JSON report of that event matching PATTERN
# (an extended regexp over the line) is in LOG.
server_event() { grep -F "\"event\":\"$2\"" "$1" | grep -qE "$3"; }
# ---------------------------------------------------------------------------------

need_built "$server_bin" "cmake --build --preset default --target l2sec-server"
vm_need
bound_runtime 420
make_workdir vm-server-linux-client
vm_net
printf '# name password\nalice wonder-land\nbob the-builder\ncarol chr1stmas\n' >"$work/users.txt"

vm_boot direct wan
vm_boot nat1 lan
vm_boot nat2 lan
vm_wait_ready direct nat1 nat2 || { echo "FAIL: a VM did not boot"; exit 1; }

failed=0
summary=()
declare -A case_vm case_s case_label

# start_case ID VM KEY=VALUE...: starts the Linux client in VM against l2sec-server.
start_case() {
    local id=$1 vm=$2
    shift 2
    case_vm[$id]=$vm
    case_label[$id]="$vm $*"
    vm_client_start "$vm" server="$vm_wan_ip" psk="$psk" hold=1 "$@"
    case_s[$id]=$vm_session
}

# check_case ID LOG ENCAP USER: waits for the client, then asserts both sides.
check_case() {
    local id=$1 log=$2 encap=$3 user=$4 vm=${case_vm[$1]} s=${case_s[$1]} ok=1 line outer want_udp
    if ! vm_client_wait "$vm" "$s" 150; then
        echo "FAIL ($id): the Linux client failed (${case_label[$id]})"
        failed=1
        return
    fi
    line=$(vm_status "$vm" ipsec_up "$s")
    [ "$(vm_field "$line" encap)" = "$encap" ] || { echo "FAIL ($id): guest's swanctl says encap=$(vm_field "$line" encap), expected $encap"; ok=0; }
    local xfrm=${vm_dir[$vm]}/$s/xfrm.state
    if [ "$encap" = yes ]; then
        grep -q 'encap type espinudp sport 4500 dport 4500' "$xfrm" || { echo "FAIL ($id): no espinudp 4500 SA in the guest's ip xfrm state"; ok=0; }
        outer=$vm_nat_ip want_udp=true
    else
        ! grep -q 'encap type espinudp' "$xfrm" || { echo "FAIL ($id): the guest's SA is UDP-encapsulated without NAT"; ok=0; }
        outer=${vm_addr[$vm]} want_udp=false
    fi
    grep -q 'mode transport' "$xfrm" || { echo "FAIL ($id): the guest's SA is not in transport mode"; ok=0; }
    # Issue 10: l2sec's first LCP Configure-Request, sent at ICCN, reached
    # xl2tpd before its pppd was attached and was dropped, costing the 3 s
    # restart timer. The server now waits for the peer's first PPP frame.
    ! grep -q 'tty is not open yet' "${vm_dir[$vm]}/$s/xl2tpd.log" ||
        { echo "FAIL ($id): the guest's xl2tpd dropped our PPP frame before its pppd was attached (tty is not open yet)"; ok=0; }
    line=$(vm_status "$vm" ping "$s")
    [ "$(vm_field "$line" result)" = ok ] && [ "$(vm_field "$line" target)" = "$ppp_local" ] ||
        { echo "FAIL ($id): guest's ping: $line"; ok=0; }
    local spi_out
    spi_out=$(vm_field "$(vm_status "$vm" ipsec_up "$s")" spi_out)
    server_event "$log" ike_established "\"peer\":\"$outer:" || { echo "FAIL ($id): no ike_established from $outer in the server's reports"; ok=0; }
    # The guest's outbound SPI is the server's inbound one.
    server_event "$log" esp_sa "\"spi_in\":\"$spi_out\".*\"udp_encap\":$want_udp" ||
        { echo "FAIL ($id): no esp_sa with spi_in $spi_out and udp_encap $want_udp in the server's reports"; ok=0; }
    local peer_ppp
    peer_ppp=$(vm_field "$(vm_status "$vm" ppp_up "$s")" local)
    server_event "$log" ppp_up "\"peer\":\"$outer:.*\"user\":\"$user\",.*\"peer_ip\":\"$peer_ppp\"" ||
        { echo "FAIL ($id): no ppp_up for $user with $peer_ppp from $outer in the server's reports"; ok=0; }
    case $peer_ppp in 10.97.8.*) ;; *) echo "FAIL ($id): the guest got $peer_ppp, not a pool address"; ok=0 ;; esac
    if [ $ok -eq 1 ]; then
        echo "PASS ($id: ${case_label[$id]})"
    else
        failed=1
        vm_show_failure "$vm" "$s"
    fi
    # On the server's clock: its L2TP tunnel up (SCCCN) to PPP up (IPCP) for this user.
    local sline tunnel t_sess t_tun
    sline=$(grep -F '"event":"ppp_up"' "$log" | grep -F "\"user\":\"$user\"" | tail -n 1)
    tunnel=$(sed -n 's/.*"tunnel":\([0-9]*\).*/\1/p' <<<"$sline")
    t_sess=$(sed -n 's/.*"t_ms":\([0-9]*\).*/\1/p' <<<"$sline")
    t_tun=$(grep -F '"event":"l2tp_tunnel_up"' "$log" | grep -F "\"tunnel\":$tunnel}" | tail -n 1 | sed -n 's/.*"t_ms":\([0-9]*\).*/\1/p')
    summary+=("$(printf '%-16s %s; server: l2tp_tunnel_up to ppp_up %s ms' "$id" "$(vm_phases "$vm" "$s")" \
        "$((${t_sess:-0} - ${t_tun:-0}))")")
}

# round AUTH: l2sec-server --auth AUTH, then the clients (start_case lines in
# $round_cases, "ID VM ENCAP USER KEY=VALUE..."), then SIGTERM.
round() {
    local auth=$1 log=$work/server-$1.log line id vm encap user
    shift
    echo "== $auth"
    start_server "$auth" "$log" "$@"
    sleep 0.3
    all_exited "$server_pid" && { echo "FAIL ($auth): l2sec-server did not start:"; cat "$log"; failed=1; return; }
    local -a started=()
    for line in "${round_cases[@]}"; do
        read -r id vm encap user rest <<<"$line"
        # shellcheck disable=SC2086 # KEY=VALUE words
        start_case "$id" "$vm" user="$user" auth="$auth" $rest
        started+=("$id $encap $user")
    done
    for line in "${started[@]}"; do
        read -r id encap user <<<"$line"
        check_case "$id" "$log" "$encap" "$user"
    done
    stop_server
    local rc=$?
    if [ $rc -ne 0 ] || ! grep -q '"event":"stopped"' "$log"; then
        echo "FAIL ($auth): l2sec-server exit $rc on SIGTERM; its log:"
        tail -n 30 "$log"
        failed=1
    fi
    grep -E '"event":"(failed|auth_failed|dropped|client_down)"' "$log" | head -n 5 | sed "s/^/  server ($auth): /"
}

declare -A passwords=([alice]=wonder-land [bob]=the-builder [carol]=chr1stmas)
mk() { echo "$1 $2 $3 $4 password=${passwords[$4]} ${*:5}"; }

round_cases=("$(mk mschapv2-direct direct no alice preset=nm)"
    "$(mk mschapv2-nat1 nat1 yes bob preset=nm)"
    "$(mk mschapv2-nat2 nat2 yes carol preset=windows)")
round mschapv2
nat_two=$failed

round_cases=("$(mk chap-direct direct no bob preset=windows)"
    "$(mk chap-nat1-rekey nat1 yes alice preset=macos rekey=2)")
round chap
if line=$(vm_status nat1 rekey "${case_s[chap-nat1-rekey]}"); then
    echo "  Quick Mode rekey by the guest: ${line#STATUS }"
    [ "$(vm_field "$line" result)" = ok ] || failed=1
fi

round_cases=("$(mk pap-direct direct no carol preset=android)"
    "$(mk pap-nat1 nat1 yes alice preset=nm)")
round pap --allow-weak

echo "== phases (guest time under TCG)"
printf '  %s\n' "${summary[@]}"
[ "$nat_two" -eq 0 ] && echo "two Linux clients behind one NAT at once: both up and pinging"
vm_stop direct nat1 nat2
[ $failed -eq 0 ] || exit 1
echo "OK"
