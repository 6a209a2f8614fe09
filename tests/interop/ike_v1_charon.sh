#!/usr/bin/env bash
# l2sec's IKEv1 engine (examples/ike, l2sec-ike over real UDP 500/4500
# sockets) against strongSwan's charon, IKEv1 Main Mode + Quick Mode,
# transport mode with the L2TP selectors (udp/1701), PSK:
#   1. charon initiates, l2sec responds           (no NAT)
#   2. l2sec initiates, charon responds           (no NAT)
#   3. charon behind a masquerading router -> l2sec responder (NAT-T: 4500, UDP-encapsulated ESP)
#   4. l2sec behind the router -> charon responder (NAT-T from our side)
#   5. l2sec -> charon with a short phase 1 lifetime: a re-authentication
#      (new Main Mode + Quick Mode, then Delete for the old IKE SA) during the
#      test. (In transport mode charon deletes each CHILD_SA at once, as it
#      cannot install it: the Quick Mode rekey is case 1q, in tunnel mode.)
#   1q. a Quick Mode rekey in tunnel mode (kernel-libipsec): the new pair
#      installed at both ends, with charon's selectors
#   6. l2sec -> charon, then charon is killed: DPD declares it dead
#   7. l2sec -> charon with another PSK: l2sec reports "likely wrong
#      pre-shared key" within seconds (charon answers MM5 with an encrypted
#      PAYLOAD-MALFORMED we cannot read), not a timeout after ~30 s
#   8. charon -> l2sec with another PSK: the same from our responder (on
#      charon's retransmitted MM5)
#   c. charon with the proposal lists of Windows, macOS/iOS and Android (set
#      on charon's side) -> l2sec, through the NAT (Android's with --weak)
#   9. l2sec (NAT) -> charon with --fragment-size 200: we send MM3, MM5 and
#      QM1 as IKEv1 fragments, charon reassembles them (its log says so);
#      and charon -> l2sec with charon's fragment_size = 200: we reassemble
# charon cannot install the CHILD_SA (no kernel ESP here); that is fine: the
# checks are l2sec-ike's child_up line (SPIs, suite, mode, NAT) and charon's
# log (IKE_SA established, Quick Mode answered, NAT seen, no hash error).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
B=${L2SEC_BUILD:-build}
bin=$B/examples/ike/l2sec-ike
need_built "$bin" "cmake --build --preset default --target l2sec-ike"
need_root "for network namespaces"
need_charon
need_tools iptables
bound_runtime 420
tag=l2v1$$
nc=${tag}c  # client side
nr=${tag}r  # router (masquerade when NAT is on)
ns=${tag}s  # server side
make_workdir ike-v1
for n in "$nc" "$nr" "$ns"; do
    ip netns add "$n" 2>/dev/null || skip "cannot create network namespaces here"
    netns_made+=("$n")
    ip -n "$n" link set lo up
done
ip link add "a$tag" netns "$nc" type veth peer name "b$tag" netns "$nr" || skip "cannot create veth pairs"
ip link add "c$tag" netns "$nr" type veth peer name "d$tag" netns "$ns" || skip "cannot create veth pairs"
ip -n "$nc" addr add 192.168.77.2/24 dev "a$tag"
ip -n "$nr" addr add 192.168.77.1/24 dev "b$tag"
ip -n "$nr" addr add 10.99.5.1/24 dev "c$tag"
ip -n "$ns" addr add 10.99.5.2/24 dev "d$tag"
for l in "$nc a$tag" "$nr b$tag" "$nr c$tag" "$ns d$tag"; do
    set -- $l
    ip -n "$1" link set "$2" up
done
ip -n "$nc" route add default via 192.168.77.1
ip -n "$ns" route add default via 10.99.5.1
ip netns exec "$nr" sysctl -qw net.ipv4.ip_forward=1
ip -n "$nc" addr add 10.88.1.1/32 dev lo  # charon's inner address in tunnel mode
psk=l2sec-v1-interop-psk
rc=0

# charon_conf DIR LOCAL REMOTE MODE: a charon with one IKEv1 connection
# "l2tp" (transport: udp/1701 selectors; tunnel: host-to-host, with
# kernel-libipsec so that charon can install its CHILD_SA in userspace).
charon_conf() {
    local d=$1 local_addr=$2 remote_addr=$3 mode=$4 plugins="" lts="dynamic[udp/1701]" rts="dynamic[udp]" opt="install_routes = no${charon_extra:+
  $charon_extra}"
    if [ "$mode" = tunnel ]; then plugins=kernel-libipsec; lts=10.88.1.1/32; rts=10.88.2.1/32; opt="retransmit_tries = 3"; fi
    write_strongswan_conf "$d" "$plugins" "default = 1, ike = 2, cfg = 2, chd = 1, net = 1" "$opt"
    cat >"$d/swanctl.conf" <<CONF
connections {
  l2tp {
    version = 1
    local_addrs = $local_addr
    remote_addrs = $remote_addr
    proposals = ${charon_ike:-aes256-sha256-modp2048, aes256-sha1-modp2048, aes128-sha1-modp2048}
    local { auth = psk }
    remote { auth = psk }
    children { l2tp { mode = $mode
      local_ts = $lts
      remote_ts = $rts
      esp_proposals = ${charon_esp:-aes256-sha256, aes128-sha1}
      ${charon_child:-} } }
  }
}
secrets {
  ike-1 { secret = "$psk" }
}
CONF
}

# check_ours LOG WHAT NAT(0|1|2) MODE: l2sec-ike printed a child_up in MODE.
check_ours() {
    local log=$1 what=$2 nat=$3 mode=$4
    if grep -q "event child_up" "$log"; then
        echo "$what: l2sec: $(grep -m1 'event child_up' "$log" | cut -c1-220)"
        grep -m1 "event child_up" "$log" | grep -q "mode=$mode" || { echo "FAIL: $what: not $mode mode"; rc=1; }
        grep -m1 "event child_up" "$log" | grep -q "udp_encap=$((nat > 0))" || { echo "FAIL: $what: udp_encap should be $nat"; rc=1; }
    else
        echo "FAIL: $what: no child_up from l2sec"; tail -15 "$log"; rc=1
    fi
}
# check_charon DIR WHAT NAT(0|1|2: faked by charon)
check_charon() {
    local d=$1 what=$2 nat=$3
    if grep -q "IKE_SA l2tp\[[0-9]*\] established" "$d/charon.log"; then
        echo "$what: charon: $(grep -m1 "IKE_SA l2tp\[[0-9]*\] established" "$d/charon.log" | sed 's/^.*IKE_SA/IKE_SA/')"
    else
        echo "FAIL: $what: charon did not establish the IKE SA"; rc=1
    fi
    grep -qE "QUICK_MODE (request|response)" "$d/charon.log" || { echo "FAIL: $what: no Quick Mode in charon's log"; rc=1; }
    if grep -iE "hash.*(invalid|mismatch|verification failed)|integrity check failed|no acceptable proposal|no matching proposal" "$d/charon.log"; then
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
}

# run_case N WHAT NAT MODE CHARON_NS CHARON_ADDR CHARON_REMOTE L2SEC_NS L2SEC_ADDR [l2sec args...]
# (charon initiates when the l2sec args have no --connect). A charon
# initiator in transport mode cannot install its SA, so it answers our QM2
# with NO-PROPOSAL-CHOSEN instead of QM3: then the checks are that charon
# accepted QM2 (HASH(2), SA, IDs) and that l2sec reported the exchange failed.
run_case() {
    local n=$1 what=$2 nat=$3 mode=$4 cns=$5 caddr=$6 cremote=$7 lns=$8 laddr=$9
    shift 9
    local d=$work/c$n initiator=charon
    case " $* " in *" --connect "*) initiator=l2sec ;; esac
    mkdir -p "$d"
    charon_conf "$d" "$caddr" "$cremote" "$mode"
    start_charon "$cns" "$d" || { echo "FAIL: $what: charon did not start"; rc=1; return; }
    load_swanctl_conf "$d" || { echo "FAIL: $what: swanctl --load-all"; rc=1; return; }
    local extra=()
    [ $initiator = charon ] && [ "$mode" = transport ] && extra=(--children 0 --hold 4)
    ip netns exec "$lns" timeout 40 "$bin" --bind "$laddr" --psk "$psk" --hold 1 --timeout 30 "$@" "${extra[@]}" \
        >"$d/l2sec.log" 2>&1 &
    local lpid=$!
    pids+=("$lpid")
    sleep 0.3
    [ $initiator = charon ] && { initiate_child "$d" l2tp l2tp || true; }
    wait "$lpid" || echo "($what: l2sec-ike exited non-zero)"
    if [ $initiator = charon ] && [ "$mode" = transport ]; then
        grep -q "parsed QUICK_MODE response" "$d/charon.log" || { echo "FAIL: $what: charon did not accept our QM2"; rc=1; }
        grep -q "unable to install" "$d/charon.log" && echo "$what: charon accepted QM2, then could not install (no kernel ESP)"
        grep -q 'event failed.*\(notification\|no acceptable proposal\)' "$d/l2sec.log" || { echo "FAIL: $what: l2sec did not report charon's notification"; rc=1; }
    else
        check_ours "$d/l2sec.log" "$what" "$nat" "$mode"
    fi
    check_charon "$d" "$what" "$nat"
    [ $rc -eq 0 ] || { grep -E "IKE\]|ENC\]|CHD\]|NET\]" "$d/charon.log" | tail -20; tail -10 "$d/l2sec.log"; }
    stop_all
}

tun_ok=0
[ -c /dev/net/tun ] && [ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] && tun_ok=1
# 1-2: no NAT (the router forwards, addresses as they are).
run_case 1 "charon -> l2sec (transport)" 0 transport "$nc" 192.168.77.2 10.99.5.2 "$ns" 10.99.5.2
[ $tun_ok = 1 ] && run_case 1t "charon -> l2sec (tunnel, libipsec)" 2 tunnel "$nc" 192.168.77.2 10.99.5.2 "$ns" 10.99.5.2
# 1q: a Quick Mode rekey during the test. charon (tunnel, kernel-libipsec, so
# that it keeps and installs its CHILD_SAs; rekey_time 6 s) proposes a short
# lifetime; l2sec takes it and, at 90 %, starts the new Quick Mode first, with
# the selectors charon proposed (its tunnel's 10.88.x addresses, not our
# outer ones: charon finds no policy for those, "no matching CHILD_SA
# config", and the SA expires). charon must install the second pair.
if [ $tun_ok = 1 ]; then
    charon_child="rekey_time = 6s
      rand_time = 0s" run_case 1q "charon -> l2sec (tunnel, Quick Mode rekey)" 2 tunnel \
        "$nc" 192.168.77.2 10.99.5.2 "$ns" 10.99.5.2 --children 2 --timeout 30
    d=$work/c1q
    n_up=$(grep -c "event child_up" "$d/l2sec.log")
    n_spi=$(grep "event child_up" "$d/l2sec.log" | grep -o " spi_in=[0-9a-f]*" | sort -u | wc -l)
    if [ "$n_up" -ge 2 ] && [ "$n_spi" -ge 2 ] && ! grep -q "no matching CHILD_SA config" "$d/charon.log" &&
        [ "$(grep -c "CHILD_SA l2tp{[0-9]*} established with SPIs" "$d/charon.log")" -ge 2 ]; then
        echo "qm rekey: $n_spi SA pairs at l2sec; charon: $(grep "CHILD_SA l2tp{[0-9]*} established with SPIs" "$d/charon.log" | tail -1 | sed 's/^.*CHILD_SA/CHILD_SA/' | cut -c1-70)"
    else
        echo "FAIL: qm rekey: $n_up child_up ($n_spi SPIs) at l2sec, want 2"; grep -E "IKE\]|CHD\]" "$d/charon.log" | tail -12; rc=1
    fi
fi
run_case 2 "l2sec -> charon" 0 transport "$ns" 10.99.5.2 192.168.77.2 "$nc" 192.168.77.2 --connect 10.99.5.2
# 3-4: the router masquerades the client side behind 10.99.5.1.
ip netns exec "$nr" iptables -t nat -A POSTROUTING -o "c$tag" -j MASQUERADE ||
    skip "iptables masquerade not available in a namespace"
run_case 3 "charon (NAT) -> l2sec (transport)" 1 transport "$nc" 192.168.77.2 10.99.5.2 "$ns" 10.99.5.2
[ $tun_ok = 1 ] && run_case 3t "charon (NAT) -> l2sec (tunnel, libipsec)" 1 tunnel "$nc" 192.168.77.2 10.99.5.2 "$ns" 10.99.5.2
run_case 4 "l2sec (NAT) -> charon" 1 transport "$ns" 10.99.5.2 %any "$nc" 192.168.77.2 --connect 10.99.5.2

# 5: re-authentication: phase 1 lifetime 30 s (re-auth at ~27 s).
d=$work/c5
mkdir -p "$d"
charon_conf "$d" 10.99.5.2 %any transport
if start_charon "$ns" "$d" && load_swanctl_conf "$d"; then
    ip netns exec "$nc" timeout 60 "$bin" --bind 192.168.77.2 --psk "$psk" --connect 10.99.5.2 \
        --p1-lifetime 30 --hold 42 --timeout 55 >"$d/l2sec.log" 2>&1 || true
    nup=$(grep -c "event child_up" "$d/l2sec.log")
    np1=$(grep -c "event phase1_up" "$d/l2sec.log")
    echo "re-auth: l2sec: $np1 IKE SAs, $nup Quick Mode SAs"
    [ "$np1" -ge 2 ] && [ "$nup" -ge 2 ] || { echo "FAIL: re-auth: expected 2 IKE SAs with a Quick Mode each"; rc=1; }
    grep -q "IKE_SA l2tp\[2\] established" "$d/charon.log" || { echo "FAIL: re-auth: no second IKE SA at charon"; rc=1; }
    if grep -q "received DELETE for IKE_SA l2tp\[1\]" "$d/charon.log"; then
        echo "re-auth: charon received our Delete for the replaced IKE SA"
    else
        echo "FAIL: re-auth: the old IKE SA was not deleted"; rc=1
    fi
    if grep -iE "hash.*(invalid|mismatch)|integrity check failed" "$d/charon.log"; then echo "FAIL: re-auth: charon rejected a hash"; rc=1; fi
else
    echo "FAIL: re-auth: charon did not start"; rc=1
fi
stop_all

# 6: DPD detects a killed charon.
d=$work/c6
mkdir -p "$d"
charon_conf "$d" 10.99.5.2 %any transport
if start_charon "$ns" "$d" && load_swanctl_conf "$d"; then
    ip netns exec "$nc" timeout 60 "$bin" --bind 192.168.77.2 --psk "$psk" --connect 10.99.5.2 \
        --dpd 2 --until-dead --timeout 50 >"$d/l2sec.log" 2>&1 &
    lpid=$!
    pids+=("$lpid")
    retry 100 0.2 grep -q "event child_up" "$d/l2sec.log" || echo "FAIL: dpd: no SA before the kill"
    grep -q "R_U_THERE\|DPD" "$d/charon.log" && echo "dpd: charon answered R-U-THERE"
    sleep 3
    kill -9 "$charon_pid"  # no Delete: only DPD can notice
    t0=$(date +%s)
    wait "$lpid" || true
    if grep -q "event peer_dead" "$d/l2sec.log"; then
        echo "dpd: l2sec declared the killed charon dead after $(( $(date +%s) - t0 )) s: $(grep -m1 'event peer_dead' "$d/l2sec.log")"
    else
        echo "FAIL: dpd: no peer_dead"; tail -5 "$d/l2sec.log"; rc=1
    fi
else
    echo "FAIL: dpd: charon did not start"; rc=1
fi
stop_all
# 7-8: a wrong PSK is named as such, within seconds (limit: 10 s).
# wrong_psk_case N WHAT CHARON_NS CHARON_ADDR CHARON_REMOTE L2SEC_NS L2SEC_ADDR [l2sec args...]
wrong_psk_case() {
    local n=$1 what=$2 cns=$3 caddr=$4 cremote=$5 lns=$6 laddr=$7
    shift 7
    local d=$work/c$n
    mkdir -p "$d"
    charon_conf "$d" "$caddr" "$cremote" transport
    start_charon "$cns" "$d" && load_swanctl_conf "$d" || { echo "FAIL: $what: charon did not start"; rc=1; return; }
    ip netns exec "$lns" timeout 40 "$bin" --bind "$laddr" --psk "not-$psk" --timeout 30 "$@" \
        >"$d/l2sec.log" 2>&1 &
    local lpid=$! t0
    pids+=("$lpid")
    sleep 0.3
    t0=$(date +%s.%N)
    case " $* " in *" --connect "*) ;; *) initiate_child "$d" l2tp l2tp & ;; esac
    if retry 100 0.1 grep -q 'event failed.*wrong pre-shared key' "$d/l2sec.log"; then
        local dt
        dt=$(echo "$(date +%s.%N) - $t0" | bc)
        echo "$what: l2sec after ${dt%??????} s: $(grep -m1 'event failed' "$d/l2sec.log" | cut -c1-200)"
    else
        echo "FAIL: $what: no wrong-PSK diagnosis within 10 s"; tail -5 "$d/l2sec.log"; rc=1
    fi
    # What charon does with a wrong PSK (for the record, and what we rely on).
    grep -E "PAYLOAD_MALFORMED|INVALID_HASH|AUTHENTICATION_FAILED|integrity check failed|invalid HASH|decrypt|parsing .* failed" \
        "$d/charon.log" | sed "s/^/$what: charon: /" | head -4
    stop_all
}
wrong_psk_case 7 "wrong PSK: l2sec -> charon" "$ns" 10.99.5.2 %any "$nc" 192.168.77.2 --connect 10.99.5.2
wrong_psk_case 8 "wrong PSK: charon -> l2sec" "$nc" 192.168.77.2 10.99.5.2 "$ns" 10.99.5.2 --children 0 --hold 30
# 9: IKEv1 fragments, both ways.
run_case 9 "l2sec (NAT, fragments) -> charon" 1 transport "$ns" 10.99.5.2 %any "$nc" 192.168.77.2 --connect 10.99.5.2 --fragment-size 200
if grep -q "reassembled fragmented IKE message" "$work/c9/charon.log"; then
    echo "fragments: charon reassembled $(grep -c "reassembled fragmented IKE message" "$work/c9/charon.log") of our fragmented messages"
else
    echo "FAIL: fragments: charon reassembled none of ours"; grep -i fragment "$work/c9/charon.log" | head -5; rc=1
fi
charon_extra="fragment_size = 200"
run_case 10 "charon (NAT, fragments) -> l2sec" 1 transport "$nc" 192.168.77.2 10.99.5.2 "$ns" 10.99.5.2
charon_extra=""
if grep -q "splitting IKE message" "$work/c10/charon.log"; then
    echo "fragments: charon sent $(grep -c "splitting IKE message" "$work/c10/charon.log") messages in fragments, l2sec reassembled them (the checks above)"
else
    echo "FAIL: fragments: charon sent no fragments with fragment_size = 200"; rc=1
fi
# c: charon as each built-in client, with the proposal lists that client
# sends (set on charon's side), through the NAT. l2sec's defaults must take
# a strong entry of Windows' and macOS/iOS's lists (no 3DES, MD5 or
# MODP-1024), and Android's MODP-1024-only list with --weak, in Main Mode and
# in Quick Mode.
client_case() {  # NAME IKE-PROPOSALS ESP-PROPOSALS WEAK (an ERE; "" when weak is expected) [l2sec args]
    local name=$1 ike=$2 esp=$3 weak=$4
    shift 4
    charon_ike=$ike charon_esp=$esp run_case "-$name" "$name's lists (NAT) -> l2sec" 1 transport \
        "$nc" 192.168.77.2 10.99.5.2 "$ns" 10.99.5.2 "$@"
    report_choice "$name" "$work/c-$name" "$weak"
}
client_case windows "aes256-sha1-modp2048, aes128-sha1-modp2048, aes256-sha1-ecp384, aes128-sha1-ecp256, 3des-sha1-modp2048" \
    "aes256-sha1, aes128-sha1, 3des-sha1" "3DES|MD5|MODP_1024"
client_case macos "aes256-sha256-modp2048, aes256-sha1-modp2048, aes256-sha256-modp1536, aes128-sha1-modp1024, 3des-sha1-modp1024" \
    "aes256-sha256, aes256-sha1, aes128-sha1, 3des-sha1, aes256-md5" "3DES|MD5|MODP_1024"
client_case android "aes256-sha256-modp1024, aes128-sha1-modp1024, 3des-sha1-modp1024, 3des-md5-modp1024" \
    "aes256-sha256, aes128-sha1, 3des-md5" "" --weak
[ $tun_ok = 1 ] || echo "note: tunnel-mode cases skipped (no /dev/net/tun or kernel-libipsec)"
exit $rc
