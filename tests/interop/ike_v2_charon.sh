#!/usr/bin/env bash
# l2sec's IKEv2 engine (examples/ike2, l2sec-ike2 over real UDP 500/4500
# sockets) against strongSwan's charon, IKE_SA_INIT + IKE_AUTH with PSK:
#   1. charon initiates, l2sec responds           (transport, udp/1701, no NAT)
#   2. l2sec initiates, charon responds           (transport, no NAT)
#   3. charon behind a masquerading router -> l2sec responder (NAT-T: 4500)
#   4. l2sec behind the router -> charon responder (NAT-T from our side)
#   r. charon rekeys the IKE SA and then the CHILD_SA (l2sec answers both)
#   v. l2sec asks charon's address pool for a virtual address (CP)
#   p. l2sec rekeys its CHILD_SA with PFS (KE in CREATE_CHILD_SA); in r the
#      CHILD_SA rekey charon sends carries a KE too
#   a. charon re-authenticates (a new IKE SA, the old one deleted)
#   i. l2sec rekeys the IKE SA it initiated, then the CHILD_SA over the new one
#   e. ESN: charon offers only extended sequence numbers, l2sec --esn takes them
#   d. charon is killed (kill -9): l2sec's liveness check reports it dead
#   c. charon with the lists of Windows (MODP-1024: l2sec --weak), macOS/iOS
#      and Android 12+ -> l2sec, through the NAT
#   f. RFC 7383 fragmentation, both roles: charon and l2sec with fragment
#      sizes so small that IKE_AUTH goes in SKF fragments each way
#   x. simultaneous rekeys (RFC 7296 2.8.1, 2.8.2): charon rekeys the CHILD_SA
#      or the IKE SA while l2sec-ike2 --cross-rekey starts its own rekey of
#      the same SA, both roles: one IKE SA and one CHILD_SA left, the same at
#      both ends
#   t. with kernel-libipsec (userspace ESP, tunnel mode) charon installs its
#      CHILD_SA: its log must show the SPIs l2sec printed, both roles.
# L2SEC_CASES="2 x-ike" runs only the cases named: their work directories'
# names less the leading c (1 2 f1 f2 k 1t 2t r p a e i v d 3 4, c for the
# three client lists, x-child-client x-child-server x-ike-client
# x-ike-server, or x for all four); unset, all of them.
# Without kernel ESP charon cannot install a transport-mode CHILD_SA: there
# the checks are l2sec-ike2's child_up line (SPIs, mode, NAT) and charon's log
# (IKE_SA established, IKE_AUTH parsed with SA/TSi/TSr, NAT seen, no AUTH or
# proposal error).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
B=${L2SEC_BUILD:-build}
bin=$B/examples/ike2/l2sec-ike2
need_built "$bin" "cmake --build --preset default --target l2sec-ike2"
need_root "for network namespaces"
need_charon
need_tools iptables
bound_runtime 450
tag=l2v2$$
nc=${tag}c  # client side
nr=${tag}r  # router (masquerade when NAT is on)
ns=${tag}s  # server side
make_workdir ike-v2
for n in "$nc" "$nr" "$ns"; do
    ip netns add "$n" 2>/dev/null || skip "cannot create network namespaces here"
    netns_made+=("$n")
    ip -n "$n" link set lo up
done
ip link add "a$tag" netns "$nc" type veth peer name "b$tag" netns "$nr" || skip "cannot create veth pairs"
ip link add "c$tag" netns "$nr" type veth peer name "d$tag" netns "$ns" || skip "cannot create veth pairs"
ip -n "$nc" addr add 192.168.78.2/24 dev "a$tag"
ip -n "$nr" addr add 192.168.78.1/24 dev "b$tag"
ip -n "$nr" addr add 10.99.6.1/24 dev "c$tag"
ip -n "$ns" addr add 10.99.6.2/24 dev "d$tag"
for l in "$nc a$tag" "$nr b$tag" "$nr c$tag" "$ns d$tag"; do
    set -- $l
    ip -n "$1" link set "$2" up
done
ip -n "$nc" route add default via 192.168.78.1
ip -n "$ns" route add default via 10.99.6.1
ip netns exec "$nr" sysctl -qw net.ipv4.ip_forward=1
psk=l2sec-v2-interop-psk
charon_extra="" charon_id="" charon_esp="" charon_conn="" charon_child=""  # cases f, r, p, e, a, x set them
rc=0
# want NAME: the case NAME (or its group, the part before a "-") is to run.
want() { [ -z "${L2SEC_CASES:-}" ] || [[ " $L2SEC_CASES " == *" $1 "* || " $L2SEC_CASES " == *" ${1%%-*} "* ]]; }

# charon_conf DIR LOCAL REMOTE MODE: a charon with one IKEv2 connection
# "l2tp" (transport: udp/1701 selectors; tunnel: any, with kernel-libipsec
# so that charon installs its CHILD_SA in userspace). Proposals as the
# built-in clients send them (macOS/iOS and Android: GCM and CBC + SHA-2 on
# ECP-256 / MODP-2048).
charon_conf() {
    local d=$1 local_addr=$2 remote_addr=$3 mode=$4 rekey=${5:-0} plugins="" lts="dynamic[udp/1701]" rts="dynamic[udp/1701]" opt="install_routes = no"
    local ike_rekey="" child_rekey="" pools="" pooldef=""
    if [ "${6:-}" = pool ]; then pools="pools = vpool"; pooldef="pools { vpool { addrs = 10.77.0.10-10.77.0.20
    dns = 10.77.0.1 } }"; fi
    if [ "$rekey" != 0 ]; then ike_rekey="rekey_time = ${rekey}s
    over_time = 60s
    rand_time = 0s
    reauth_time = 0"; child_rekey="rekey_time = $((rekey + 4))s
      life_time = 60s
      rand_time = 0s"; fi
    if [ "$mode" = tunnel ]; then plugins=kernel-libipsec; lts=0.0.0.0/0; rts=0.0.0.0/0; opt="install_routes = no"; fi
    write_strongswan_conf "$d" "$plugins" "default = 1, ike = 2, cfg = 2, chd = 2, net = 1, enc = 1" "$opt" \
        ${charon_extra:+"$charon_extra"}
    cat >"$d/swanctl.conf" <<CONF
connections {
  l2tp {
    version = 2
    local_addrs = $local_addr
    remote_addrs = $remote_addr
    $pools
    proposals = ${charon_ike:-aes256gcm16-prfsha256-ecp256, aes256-sha256-modp2048, aes128-sha256-ecp256}
    $ike_rekey
    $charon_conn
    local { auth = psk
      ${charon_id:+id = $charon_id} }
    remote { auth = psk }
    children { l2tp { mode = $mode
      local_ts = $lts
      remote_ts = $rts
      esp_proposals = ${charon_esp:-aes256gcm16, aes256-sha256, aes128-sha1}
      $child_rekey
      $charon_child } }
  }
}
secrets {
  ike-1 { secret = "$psk" }
}
$pooldef
CONF
}

# check_ours LOG WHAT NAT MODE: l2sec-ike2 printed a child_up in MODE.
check_ours() {
    local log=$1 what=$2 nat=$3 mode=$4
    if grep -q "event child_up" "$log"; then
        echo "$what: l2sec: $(grep -m1 'event child_up' "$log" | cut -c1-220)"
        grep -m1 "event child_up" "$log" | grep -q "mode=$mode" || { echo "FAIL: $what: not $mode mode"; rc=1; }
        grep -m1 "event child_up" "$log" | grep -q "udp_encap=$((nat > 0))" || { echo "FAIL: $what: udp_encap should be $((nat > 0))"; rc=1; }
    else
        echo "FAIL: $what: no child_up from l2sec"; tail -15 "$log"; rc=1
    fi
}
# check_charon DIR WHAT NAT(0|1|2: faked by charon) LOG
check_charon() {
    local d=$1 what=$2 nat=$3 log=$4
    if grep -q "IKE_SA l2tp\[[0-9]*\] established" "$d/charon.log"; then
        echo "$what: charon: $(grep -m1 "IKE_SA l2tp\[[0-9]*\] established" "$d/charon.log" | sed 's/^.*IKE_SA/IKE_SA/')"
    else
        echo "FAIL: $what: charon did not establish the IKE SA"; rc=1
    fi
    grep -qE "(parsed|generating) IKE_AUTH request 1 \[.*SA.*TSi TSr" "$d/charon.log" ||
        { echo "FAIL: $what: no IKE_AUTH request with a Child SA in charon's log"; rc=1; }
    if grep -iE "authentication of .* failed|AUTHENTICATION_FAILED|integrity check failed|no acceptable proposal|no matching proposal|TS_UNACCEPTABLE|NO_PROPOSAL_CHOSEN" "$d/charon.log"; then
        echo "FAIL: $what: charon rejected something"; rc=1
    fi
    if [ "$nat" = 2 ]; then  # kernel-libipsec: charon fakes a NAT to force UDP encapsulation
        grep -q "faking NAT situation" "$d/charon.log" || { echo "FAIL: $what: charon did not fake a NAT"; rc=1; }
    elif [ "$nat" = 1 ]; then
        grep -qE "(local|remote) host is behind NAT" "$d/charon.log" || { echo "FAIL: $what: charon saw no NAT"; rc=1; }
        grep -q "\[4500\]" "$d/charon.log" || { echo "FAIL: $what: charon did not move to 4500"; rc=1; }
    elif grep -q "behind NAT" "$d/charon.log"; then
        echo "FAIL: $what: charon thinks there is a NAT"; rc=1
    fi
    # charon installed its CHILD_SA (kernel-libipsec): the SPIs must be ours, swapped
    local line spis
    line=$(grep -m1 "CHILD_SA l2tp{[0-9]*} established with SPIs" "$d/charon.log" || true)
    if [ -n "$line" ]; then
        spis=$(echo "$line" | sed -E 's/.*SPIs ([0-9a-f]+)_i ([0-9a-f]+)_o.*/\1 \2/')
        local ours_in ours_out
        ours_in=$(grep -m1 "event child_up" "$log" | sed -E "s/.* spi_in=([0-9a-f]+).*/\\1/")
        ours_out=$(grep -m1 "event child_up" "$log" | sed -E 's/.*spi_out=([0-9a-f]+).*/\1/')
        if [ "$spis" = "$ours_out $ours_in" ]; then
            echo "$what: charon installed the CHILD_SA with SPIs $spis (= l2sec's out/in)"
        else
            echo "FAIL: $what: charon's SPIs $spis, l2sec's out/in $ours_out $ours_in"; rc=1
        fi
    elif [ "$nat" = 2 ]; then
        echo "FAIL: $what: charon did not install the CHILD_SA with kernel-libipsec"; rc=1
    fi
}

# run_case N WHAT NAT MODE CHARON_NS CHARON_ADDR CHARON_REMOTE L2SEC_NS L2SEC_ADDR [l2sec args...]
# (charon initiates when the l2sec args have no --connect).
run_case() {
    local n=$1 what=$2 nat=$3 mode=$4 cns=$5 caddr=$6 cremote=$7 lns=$8 laddr=$9
    shift 9
    [[ $n == -* ]] || want "$n" || return 0  # client_case's (-NAME) ask want themselves
    local d=$work/c$n initiator=charon
    case " $* " in *" --connect "*) initiator=l2sec ;; esac
    mkdir -p "$d"
    charon_conf "$d" "$caddr" "$cremote" "$mode"
    start_charon "$cns" "$d" || { echo "FAIL: $what: charon did not start"; rc=1; return; }
    load_swanctl_conf "$d" || { echo "FAIL: $what: swanctl --load-all"; rc=1; return; }
    local extra=()
    [ "$mode" = tunnel ] && extra=(--tunnel)
    # charon responder without kernel ESP refuses the transport Child SA: do not wait for it
    [ $initiator = l2sec ] && [ "$mode" = transport ] && extra=(--children 0 --hold 3)
    ip netns exec "$lns" timeout 40 "$bin" --bind "$laddr" --psk "$psk" --hold 2 --timeout 30 "$@" "${extra[@]}" \
        >"$d/l2sec.log" 2>&1 &
    local lpid=$!
    pids+=("$lpid")
    sleep 0.3
    [ $initiator = charon ] && { initiate_child "$d" l2tp l2tp || true; }
    wait "$lpid" || echo "($what: l2sec-ike2 exited non-zero)"
    if [ $initiator = l2sec ] && [ "$mode" = transport ]; then
        # charon (responder) cannot install a transport SA without kernel ESP:
        # it selects our proposal and narrows our selectors, then answers
        # IKE_AUTH with IDr, AUTH and NO_PROPOSAL_CHOSEN for the Child SA.
        grep -q "selected proposal: ESP:" "$d/charon.log" || { echo "FAIL: $what: charon selected no ESP proposal of ours"; rc=1; }
        grep -q "received: .*udp/l2f.* => match" "$d/charon.log" || { echo "FAIL: $what: charon did not match our TSi/TSr"; rc=1; }
        if grep -q "unable to install" "$d/charon.log"; then
            echo "$what: charon accepted our SA and selectors, then could not install (no kernel ESP)"
            grep -q 'event failed.*no acceptable proposal' "$d/l2sec.log" || { echo "FAIL: $what: l2sec did not report the refused Child SA"; rc=1; }
            grep -q 'event ike_up' "$d/l2sec.log" || { echo "FAIL: $what: l2sec did not establish the IKE SA"; rc=1; }
        else
            check_ours "$d/l2sec.log" "$what" "$nat" "$mode"
        fi
        grep -qE "generating IKE_AUTH response 1 \[ IDr AUTH" "$d/charon.log" || { echo "FAIL: $what: no IKE_AUTH response from charon"; rc=1; }
    else
        check_ours "$d/l2sec.log" "$what" "$nat" "$mode"
    fi
    check_charon "$d" "$what" "$nat" "$d/l2sec.log"
    [ $rc -eq 0 ] || { grep -E "IKE\]|ENC\]|CHD\]|NET\]|CFG\]" "$d/charon.log" | tail -25; tail -10 "$d/l2sec.log"; }
    stop_all
}

tun_ok=0
[ -c /dev/net/tun ] && [ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] && tun_ok=1
run_case 1 "charon -> l2sec (transport)" 0 transport "$nc" 192.168.78.2 10.99.6.2 "$ns" 10.99.6.2
run_case 2 "l2sec -> charon (transport)" 0 transport "$ns" 10.99.6.2 192.168.78.2 "$nc" 192.168.78.2 --connect 10.99.6.2

# f: both sides fragment (charon.fragment_size = 180, --fragment-size 256 and
# long IDs on both sides make every IKE_AUTH message two or more SKF
# fragments): charon must reassemble ours and we theirs, in both roles.
check_fragments() {
    local d=$1 what=$2
    local sent recvd
    sent=$(sed -n 's/.*fragments_sent=\([0-9]*\).*/\1/p' "$d/l2sec.log" | tail -1)
    recvd=$(sed -n 's/.*fragments_received=\([0-9]*\).*/\1/p' "$d/l2sec.log" | tail -1)
    echo "$what: l2sec sent ${sent:-?} and verified ${recvd:-?} SKF fragments"
    [ "${sent:-0}" -ge 2 ] || { echo "FAIL: $what: l2sec sent no fragments"; rc=1; }
    [ "${recvd:-0}" -ge 2 ] || { echo "FAIL: $what: l2sec received no fragments from charon"; rc=1; }
    grep -q "reassembled fragmented IKE message" "$d/charon.log" ||
        { echo "FAIL: $what: charon reassembled nothing of ours"; rc=1; }
    grep -qE "split into [0-9]+ fragments|splitting IKE message|fragment #" "$d/charon.log" ||
        { echo "FAIL: $what: charon sent no fragments"; rc=1; }
}
charon_extra="fragment_size = 180"
charon_id=charon-with-a-long-identity-so-that-its-answer-needs-fragments.example.org
run_case f1 "charon -> l2sec (fragmented)" 0 transport "$nc" 192.168.78.2 10.99.6.2 "$ns" 10.99.6.2 \
    --fragment-size 256 --id a-long-identity-so-that-our-answer-needs-fragments-too.example.org
want f1 && check_fragments "$work/cf1" "charon -> l2sec (fragmented)"
run_case f2 "l2sec -> charon (fragmented)" 0 transport "$ns" 10.99.6.2 192.168.78.2 "$nc" 192.168.78.2 \
    --connect 10.99.6.2 --fragment-size 256 --id a-long-identity-so-that-our-request-needs-fragments.example.org
want f2 && check_fragments "$work/cf2" "l2sec -> charon (fragmented)"
charon_extra="" charon_id=""

# k. --keylog: tshark, given only the line l2sec-ike2 wrote, decrypts both
# IKE_AUTH messages (their AUTH payloads exist only inside SK {}).
if ! want k; then
    :
elif command -v tshark >/dev/null && command -v dumpcap >/dev/null; then
    start_capture "$work/k.pcap" "udp port 500 or udp port 4500" "d$tag" "$ns"
    run_case k "charon -> l2sec (key log)" 0 transport "$nc" 192.168.78.2 10.99.6.2 "$ns" 10.99.6.2 \
        --keylog "$work/ck/keys"  # run_case's stop_all ends the capture too
    line=$(head -n 1 "$work/ck/keys" 2>/dev/null)
    if [ -z "$line" ]; then
        echo "FAIL: key log: l2sec-ike2 wrote no ikev2_decryption_table line"
        rc=1
    else
        auth=$(timeout 60 tshark -r "$work/k.pcap" -o "uat:ikev2_decryption_table:$line" -V 2>/dev/null |
            grep -c "Payload: Authentication (39)")
        plain=$(timeout 60 tshark -r "$work/k.pcap" -V 2>/dev/null | grep -c "Payload: Authentication (39)")
        echo "key log: tshark found $auth AUTH payloads with the key log, $plain without"
        [ "$auth" -ge 2 ] && [ "$plain" -eq 0 ] || { echo "FAIL: key log: IKE_AUTH did not decrypt"; rc=1; }
    fi
else
    echo "note: key-log case skipped (no tshark/dumpcap)"
fi
if [ $tun_ok = 1 ]; then
    run_case 1t "charon -> l2sec (tunnel, libipsec)" 2 tunnel "$nc" 192.168.78.2 10.99.6.2 "$ns" 10.99.6.2
    run_case 2t "l2sec -> charon (tunnel, libipsec)" 2 tunnel "$ns" 10.99.6.2 192.168.78.2 "$nc" 192.168.78.2 --connect 10.99.6.2
fi
# tunnel_case WHAT DIR CHARON_AT REKEY POOL [l2sec args...]: charon in tunnel
# mode with kernel-libipsec (charon_esp, charon_conn, charon_extra as the
# caller sets them) at the server side (10.99.6.2; l2sec initiates from the
# client side) or the client side (charon initiates to l2sec), REKEY and
# POOL as charon_conf takes them; logs in DIR. False, with a FAIL line, when
# charon does not start.
tunnel_case() {
    local what=$1 d=$2 at=$3 rekey=$4 pool=$5
    shift 5
    want "${d##*/c}" || return 1
    mkdir -p "$d"
    if [ "$at" = server ]; then
        charon_conf "$d" 10.99.6.2 192.168.78.2 tunnel "$rekey" "$pool"
        { start_charon "$ns" "$d" && load_swanctl_conf "$d"; } || { echo "FAIL: $what: charon did not start"; rc=1; return 1; }
        ip netns exec "$nc" timeout 40 "$bin" --bind 192.168.78.2 --psk "$psk" --connect 10.99.6.2 \
            --tunnel --timeout 30 "$@" >"$d/l2sec.log" 2>&1 || true
    else
        charon_conf "$d" 192.168.78.2 10.99.6.2 tunnel "$rekey" "$pool"
        { start_charon "$nc" "$d" && load_swanctl_conf "$d"; } || { echo "FAIL: $what: charon did not start"; rc=1; return 1; }
        ip netns exec "$ns" timeout 40 "$bin" --bind 10.99.6.2 --psk "$psk" --tunnel --timeout 30 \
            "$@" >"$d/l2sec.log" 2>&1 &
        pids+=("$!")
        sleep 0.3
        initiate_child "$d" l2tp l2tp || true
        wait "${pids[-1]}" || true
    fi
}
# collision_case KIND(child|ike) AT(client|server): case x (see there).
collision_case() {
    local kind=$1 at=$2 d=$work/cx-$1-$2 what="collision ($1, charon at $2)"
    # l2sec leaves after charon's rekey (at 8 s) has settled and before
    # charon rekeys the survivor (8 s later); replaced SAs stay 2 s
    local conn="" child="" want=2 hold=5
    if [ "$kind" = child ]; then
        child="rekey_time = 8s
      life_time = 120s
      rand_time = 0s"
    else
        want=1 hold=13
        conn="rekey_time = 8s
    over_time = 120s
    rand_time = 0s
    reauth_time = 0"
    fi
    charon_child=$child charon_conn=$conn tunnel_case "$what" "$d" "$at" 0 "" \
        --cross-rekey "$kind" --children "$want" --hold "$hold" --overlap 2 --timeout 35 || { stop_all; return; }
    local sas fail=0
    sas=$(STRONGSWAN_CONF=$d/strongswan.conf timeout 10 swanctl --list-sas --uri "unix://$d/charon.vici" 2>&1)
    echo "$sas" >"$d/sas.txt"
    grep -q "cross-rekey $kind before the peer's CREATE_CHILD_SA: started" "$d/l2sec.log" ||
        { echo "FAIL: $what: l2sec did not start its rekey as charon's arrived"; fail=1; }
    local coll deferred
    coll=$(sed -n 's/.*rekey_collisions=\([0-9]*\).*/\1/p' "$d/l2sec.log" | tail -1)
    deferred=$(sed -n 's/.*rekeys_deferred=\([0-9]*\).*/\1/p' "$d/l2sec.log" | tail -1)
    local overtaken=""
    if [ $(( ${coll:-0} + ${deferred:-0} )) -eq 0 ]; then
        # Legal, but no collision at l2sec: charon took our answer before
        # our request, finished its rekey, deleted the old SA and refused
        # our rekey of it (TEMPORARY_FAILURE); its Delete came first and our
        # rekey went with the old SA. (Once in 12 runs before --cross-rekey
        # held its answer back 50 ms.)
        overtaken=$(grep -m1 -oE "generating CREATE_CHILD_SA response [0-9]+ \[ N\((TEMP_FAIL|CHILD_SA_NOT_FOUND)\) \]" "$d/charon.log")
        if [ -n "$overtaken" ] && grep -q 'event .*_down.*reason="deleted by the peer"' "$d/l2sec.log"; then
            echo "note: $what: overtaken: charon finished its rekey first and refused ours ($overtaken) after its Delete"
        else
            echo "FAIL: $what: l2sec saw neither a collision nor a put-off rekey"; fail=1
        fi
    fi
    local clog
    clog=$(grep -i "collision" "$d/charon.log" | head -2 | sed 's/^.*\] //' | tr '\n' ';')
    # l2sec's Child SAs still up at the end, and charon's
    local live n_ike n_child c_in c_out
    live=$(awk '/event child_up/ { for (i = 1; i <= NF; i++) if ($i ~ /^spi_in=/) up[substr($i, 8)] = 1 }
                /event child_down/ { for (i = 1; i <= NF; i++) if ($i ~ /^spi_in=/) delete up[substr($i, 8)] }
                END { for (k in up) print k }' "$d/l2sec.log")
    n_ike=$(echo "$sas" | grep -c "ESTABLISHED, IKEv2")
    n_child=$(echo "$sas" | grep -c "INSTALLED")
    c_in=$(echo "$sas" | awk '/INSTALLED/ { f = 1 } f && $1 == "in" { print $2; exit }' | tr -d ,)
    c_out=$(echo "$sas" | awk '/INSTALLED/ { f = 1 } f && $1 == "out" { print $2; exit }' | tr -d ,)
    [ "$n_ike" = 1 ] && [ "$n_child" = 1 ] ||
        { echo "FAIL: $what: charon has $n_ike IKE SAs and $n_child CHILD_SAs installed (want 1 and 1)"; fail=1; }
    [ "$(echo "$live" | grep -c .)" = 1 ] ||
        { echo "FAIL: $what: l2sec ends with Child SAs [$(echo $live)] (want one)"; fail=1; }
    local ours_out
    ours_out=$(grep "event child_up.*spi_in=$live" "$d/l2sec.log" | tail -1 | sed -E 's/.*spi_out=([0-9a-f]+).*/\1/')
    [ -n "$live" ] && [ "$c_out" = "$live" ] && [ "$c_in" = "$ours_out" ] ||
        { echo "FAIL: $what: charon's CHILD_SA in/out $c_in/$c_out, l2sec's out/in $ours_out/$live"; fail=1; }
    if [ "$kind" = ike ]; then
        local up down
        up=$(grep -c "event ike_up" "$d/l2sec.log")
        down=$(grep -c "event ike_down" "$d/l2sec.log")
        [ $((up - down)) = 1 ] || { echo "FAIL: $what: l2sec has $up ike_up, $down ike_down"; fail=1; }
    fi
    if [ $fail = 0 ]; then
        echo "$what: l2sec collisions=${coll:-?} deferred=${deferred:-?}; charon: ${clog:-no collision line}; one CHILD_SA left, SPIs $c_in/$c_out at both ends"
    else
        rc=1
        grep -E "IKE\]|CHD\]" "$d/charon.log" | tail -25
        tail -12 "$d/l2sec.log"
        echo "$sas"
    fi
    stop_all
}
# installed N DIR: charon's log shows at least N CHILD_SAs installed.
installed() { [ "$(grep -c "CHILD_SA l2tp{[0-9]*} established with SPIs" "$2/charon.log")" -ge "$1" ]; }
last_installed() { grep "CHILD_SA l2tp{[0-9]*} established with SPIs" "$1/charon.log" | tail -1 | sed 's/^.*CHILD_SA/CHILD_SA/' | cut -c1-90; }

if [ $tun_ok = 1 ]; then
    # r: charon rekeys the IKE SA (after 6 s) and the CHILD_SA (after 10 s)
    # while l2sec holds them: l2sec answers both CREATE_CHILD_SA exchanges,
    # the CHILD_SA one with PFS (charon's ESP proposals name ECP-256 /
    # MODP-2048, so its rekey carries a KE and needs ours back).
    d=$work/cr
    if charon_esp="aes256gcm16-ecp256, aes256-sha256-modp2048" tunnel_case rekey "$d" server 6 "" --children 2 --hold 2; then
        if grep -qE "IKE_SA l2tp\[[0-9]+\] rekeyed" "$d/charon.log"; then
            echo "rekey: charon: $(grep -m1 -E "IKE_SA l2tp\[[0-9]+\] rekeyed" "$d/charon.log" | sed 's/^.*IKE_SA/IKE_SA/')"
        else
            echo "FAIL: rekey: no IKE SA rekey at charon"; rc=1
        fi
        installed 2 "$d" && echo "rekey: charon: $(last_installed "$d")" || { echo "FAIL: rekey: charon installed no rekeyed CHILD_SA"; rc=1; }
        if grep -q "event child_up.*old_spi_in=[0-9a-f]*[1-9a-f].* pfs=19" "$d/l2sec.log"; then
            echo "rekey: l2sec: $(grep "event child_up" "$d/l2sec.log" | tail -1 | cut -c1-220)"
        else
            echo "FAIL: rekey: l2sec saw no Child SA rekey with PFS (ECP-256)"; rc=1
        fi
        if grep -iE "AUTHENTICATION_FAILED|integrity check failed|NO_PROPOSAL_CHOSEN|NO_ADD_SAS|INVALID_SYNTAX" "$d/charon.log"; then
            echo "FAIL: rekey: charon got an error"; rc=1
        fi
        [ $rc -eq 0 ] || { grep -E "IKE\]|ENC\]|CHD\]" "$d/charon.log" | tail -30; tail -10 "$d/l2sec.log"; }
    fi
    stop_all

    # p: l2sec rekeys its CHILD_SA with PFS (--pfs 19 = ECP-256, lifetime 8 s:
    # the rekey at 7.2 s) against charon, whose only ESP proposal names
    # ECP-256: charon answers our KE and installs the rekeyed CHILD_SA.
    d=$work/cp
    if charon_esp="aes256gcm16-ecp256" tunnel_case pfs "$d" server 0 "" --rekey 8 --pfs 19 --children 2 --hold 1; then
        if grep -q "event child_up.*old_spi_in=[0-9a-f]*[1-9a-f].* pfs=19" "$d/l2sec.log" && installed 2 "$d"; then
            echo "pfs: l2sec rekeyed with ECP-256; charon: $(last_installed "$d")"
        else
            echo "FAIL: pfs: charon did not take l2sec's rekey with PFS"; grep -E "IKE\]|CHD\]|CFG\]" "$d/charon.log" | tail -15; tail -5 "$d/l2sec.log"; rc=1
        fi
    fi
    stop_all

    # a: re-authentication. charon (initiator, reauth_time 8 s,
    # make-before-break) builds a new IKE SA with a full IKE_SA_INIT +
    # IKE_AUTH and then deletes the old one: l2sec must bring up the second
    # IKE SA and CHILD_SA while the first is up, then take the first's Delete.
    d=$work/ca
    if charon_conn="reauth_time = 8s
    rand_time = 0s" charon_extra="make_before_break = yes" tunnel_case reauth "$d" client 0 "" --children 2 --hold 2; then
        if grep -q "reauthenticating IKE_SA" "$d/charon.log" && [ "$(grep -c "event ike_up" "$d/l2sec.log")" -ge 2 ] &&
            [ "$(grep -c "event child_up" "$d/l2sec.log")" -ge 2 ] && installed 2 "$d"; then
            echo "reauth: charon re-authenticated; l2sec: $(grep -c "event ike_up" "$d/l2sec.log") ike_up, $(grep -c "event ike_down" "$d/l2sec.log") ike_down ($(grep -m1 -o 'event ike_down.*' "$d/l2sec.log" | cut -c1-80))"
        else
            echo "FAIL: reauth: no second IKE SA after charon's re-authentication"; grep -E "IKE\]|CHD\]" "$d/charon.log" | tail -15; tail -8 "$d/l2sec.log"; rc=1
        fi
    fi
    stop_all

    # e: ESN. charon's only ESP proposal has extended sequence numbers
    # (aes256gcm16-esn): charon initiates, l2sec --esn must answer with ESN,
    # which charon selects. (kernel-libipsec, charon's userspace ESP, then
    # says "ESN not supported" and installs nothing: the check is the
    # negotiation.)
    d=$work/ce
    if charon_esp="aes256gcm16-esn" tunnel_case esn "$d" client 0 "" --esn --hold 1; then
        if grep -q "event child_up.* esn=1" "$d/l2sec.log" && grep -q "selected proposal: ESP:AES_GCM_16_256/EXT_SEQ" "$d/charon.log"; then
            echo "esn: l2sec chose ESN; charon: $(grep -m1 "selected proposal: ESP" "$d/charon.log" | sed 's/^.*selected/selected/')"
            grep -q "ESN not supported" "$d/charon.log" && echo "esn: (charon's kernel-libipsec cannot install ESN SAs: \"ESN not supported\")"
        else
            echo "FAIL: esn: no ESN Child SA"; grep -E "IKE\]|CHD\]|CFG\]" "$d/charon.log" | tail -15; tail -5 "$d/l2sec.log"; rc=1
        fi
    fi
    stop_all

    # i: l2sec rekeys the IKE SA it initiated (--ike-rekey 8: at 7.2 s; RFC
    # 7296 1.3.2, new SPIs and KE) and then its CHILD_SA over the new IKE SA
    # (--rekey 12): charon's log must show the IKE SA rekeyed and the new
    # CHILD_SA.
    d=$work/ci
    if tunnel_case "ike rekey" "$d" server 0 "" --ike-rekey 8 --rekey 12 --children 2 --hold 1; then
        if grep -qE "IKE_SA l2tp\[[0-9]+\] rekeyed" "$d/charon.log" &&
            [ "$(grep -c "event ike_up" "$d/l2sec.log")" -ge 2 ] && installed 2 "$d"; then
            echo "ike rekey: charon: $(grep -m1 -E "IKE_SA l2tp\[[0-9]+\] rekeyed" "$d/charon.log" | sed 's/^.*IKE_SA/IKE_SA/'); then the CHILD_SA over it"
        else
            echo "FAIL: ike rekey: charon saw no IKE SA rekey from l2sec"; grep -E "IKE\]|CHD\]" "$d/charon.log" | tail -15; tail -8 "$d/l2sec.log"; rc=1
        fi
    fi
    stop_all

    # x: simultaneous rekeys. charon rekeys the CHILD_SA (child) or the IKE
    # SA (ike) 6 s after it is up (rand_time 0); l2sec-ike2 --cross-rekey
    # starts its own rekey of the same SA when charon's CREATE_CHILD_SA request
    # arrives, before reading it, so the two requests cross on the wire and
    # each end gets the other's while its own is out. Whichever SA the nonces
    # keep, both ends must end with one IKE SA and one CHILD_SA, the same one.
    for kind in child ike; do
        for at in client server; do
            collision_case "$kind" "$at"
        done
    done

    # v: l2sec asks charon's pool for a virtual address (CP CFG_REQUEST/REPLY).
    d=$work/cv
    if tunnel_case cp "$d" server 0 pool --vip --hold 1; then
        if grep -q "event ike_up.*internal_address=10.77.0.1[0-9]:0 internal_dns=10.77.0.1:0" "$d/l2sec.log" &&
            grep -q "assigning virtual IP 10.77.0.1[0-9]" "$d/charon.log"; then
            echo "cp: $(grep -m1 "assigning virtual IP" "$d/charon.log" | sed 's/^.*assigning/assigning/'); l2sec: $(grep -m1 -o "internal_address=[^ ]* internal_dns=[^ ]*" "$d/l2sec.log")"
        else
            echo "FAIL: cp: no virtual address from charon's pool"; grep -E "IKE\]|CFG\]" "$d/charon.log" | tail -15; tail -5 "$d/l2sec.log"; rc=1
        fi
        check_charon "$d" "cp" 2 "$d/l2sec.log"
    fi
    stop_all
fi
# d: l2sec initiates (transport: the IKE SA is up, charon refuses the Child SA
# without kernel ESP), then charon is killed (kill -9). l2sec's liveness check
# (--dpd 2, --retries 3: the third transmission unanswered 3.5 s after the
# first) must report peer_dead and the IKE SA down within 15 s.
d=$work/cd
mkdir -p "$d"
charon_conf "$d" 10.99.6.2 192.168.78.2 transport
if ! want d; then
    :
elif start_charon "$ns" "$d" && load_swanctl_conf "$d"; then
    ip netns exec "$nc" timeout 40 "$bin" --bind 192.168.78.2 --psk "$psk" --connect 10.99.6.2 \
        --children 0 --hold 30 --timeout 35 --dpd 2 --retries 3 >"$d/l2sec.log" 2>&1 &
    pids+=($!)
    if retry 100 0.1 grep -qs "event ike_up" "$d/l2sec.log"; then
        t0=$(date +%s%N)
        { kill -9 "$charon_pid" && wait "$charon_pid"; } 2>/dev/null  # reaped: no "Killed" line
        if retry 150 0.1 grep -qs "event peer_dead" "$d/l2sec.log"; then
            echo "dpd: l2sec $(( ($(date +%s%N) - t0) / 1000000 )) ms after kill -9 of charon: $(grep -m1 "event peer_dead" "$d/l2sec.log")"
            grep -q 'event ike_down.*reason="peer dead' "$d/l2sec.log" ||
                { echo "FAIL: dpd: no ike_down (peer dead) after peer_dead"; rc=1; }
        else
            echo "FAIL: dpd: l2sec did not report charon dead"; tail -10 "$d/l2sec.log"; rc=1
        fi
    else
        echo "FAIL: dpd: the IKE SA did not come up"; tail -10 "$d/l2sec.log"; rc=1
    fi
else
    echo "FAIL: dpd: charon did not start"; rc=1
fi
stop_all
# 3-4: the router masquerades the client side behind 10.99.6.1.
if want 3 || want 4 || want c; then
    ip netns exec "$nr" iptables -t nat -A POSTROUTING -o "c$tag" -j MASQUERADE ||
        skip "iptables masquerade not available in a namespace"
fi
run_case 3 "charon (NAT) -> l2sec (transport)" 1 transport "$nc" 192.168.78.2 10.99.6.2 "$ns" 10.99.6.2
run_case 4 "l2sec (NAT) -> charon (transport)" 1 transport "$ns" 10.99.6.2 %any "$nc" 192.168.78.2 --connect 10.99.6.2

# c: charon as each native IKEv2 client with the lists it sends (set on
# charon's side), through the NAT: Windows' out-of-the-box MODP-1024 list
# (l2sec --weak), macOS/iOS's and Android 12+'s (strong: l2sec must not pick
# SHA-1, MODP-1024 or MD5 from them).
client_case() {  # NAME IKE-PROPOSALS ESP-PROPOSALS WEAK (an ERE; "" when weak is expected) [l2sec args]
    local name=$1 ike=$2 esp=$3 weak=$4
    shift 4
    want c || return 0
    charon_ike=$ike charon_esp=$esp run_case "-$name" "$name's lists (NAT) -> l2sec" 1 transport \
        "$nc" 192.168.78.2 10.99.6.2 "$ns" 10.99.6.2 "$@"
    report_choice "$name" "$work/c-$name" "$weak"
}
client_case windows "aes256-sha256-modp1024, aes256-sha1-modp1024, aes128-sha1-modp1024" \
    "aes256-sha1, aes128-sha1" "" --weak
client_case macos "aes256gcm16-prfsha256-ecp256, aes256-sha256-ecp256, aes256-sha256-modp2048, aes256-sha1-modp2048" \
    "aes256gcm16, aes256-sha256, aes128-sha1" "HMAC_SHA1|MODP_1024|MD5"
client_case android "aes256gcm16-prfsha256-curve25519, aes256-sha256-ecp384, aes256-sha256-modp2048, aes128-sha1-modp2048" \
    "aes256gcm16, aes128gcm16, aes256-sha256" "HMAC_SHA1|MODP_1024|MD5"
[ $tun_ok = 1 ] || echo "note: tunnel-mode cases skipped (no /dev/net/tun or kernel-libipsec)"
exit $rc
