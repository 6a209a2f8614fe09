#!/usr/bin/env bash
# Two strongSwan charon initiators behind one masquerading router, at the
# same time, against one l2sec responder: IKEv1 (l2sec-ike) and then IKEv2
# (l2sec-ike2). Both clients come from the router's one outside address,
# their 500/4500 ports rewritten by the NAT; each must get its own IKE SA and
# its own Child SA (different SPIs, different outer ports), and neither may
# replace or disturb the other, which is where responders that key SAs by
# the inner selectors or by the peer's address alone fail. Tunnel mode with
# kernel-libipsec, so that each charon installs its CHILD_SA in userspace.
#
#   c1 (192.168.81.2) --\
#                        router (masquerade as 10.99.8.1) -- l2sec (10.99.8.2)
#   c2 (192.168.82.2) --/
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
B=${L2SEC_BUILD:-build}
v1bin=$B/examples/ike/l2sec-ike
v2bin=$B/examples/ike2/l2sec-ike2
need_built "$v1bin" "cmake --build --preset default --target l2sec-ike"
need_built "$v2bin" "cmake --build --preset default --target l2sec-ike2"
need_root "for network namespaces"
need_charon kernel-libipsec libcharon-extra-plugins
need_tools iptables
[ -c /dev/net/tun ] || skip "/dev/net/tun missing (kernel-libipsec needs a TUN device)"
bound_runtime 240
tag=l2n2$$
n1=${tag}1 n2=${tag}2 nr=${tag}r ns=${tag}s
make_workdir ike-two-nat
for n in "$n1" "$n2" "$nr" "$ns"; do
    ip netns add "$n" 2>/dev/null || skip "cannot create network namespaces here"
    netns_made+=("$n")
    ip -n "$n" link set lo up
done
ip link add "a$tag" netns "$n1" type veth peer name "b$tag" netns "$nr" || skip "cannot create veth pairs"
ip link add "e$tag" netns "$n2" type veth peer name "f$tag" netns "$nr" || skip "cannot create veth pairs"
ip link add "c$tag" netns "$nr" type veth peer name "d$tag" netns "$ns" || skip "cannot create veth pairs"
ip -n "$n1" addr add 192.168.81.2/24 dev "a$tag"
ip -n "$nr" addr add 192.168.81.1/24 dev "b$tag"
ip -n "$n2" addr add 192.168.82.2/24 dev "e$tag"
ip -n "$nr" addr add 192.168.82.1/24 dev "f$tag"
ip -n "$nr" addr add 10.99.8.1/24 dev "c$tag"
ip -n "$ns" addr add 10.99.8.2/24 dev "d$tag"
for l in "$n1 a$tag" "$nr b$tag" "$n2 e$tag" "$nr f$tag" "$nr c$tag" "$ns d$tag"; do
    set -- $l
    ip -n "$1" link set "$2" up
done
ip -n "$n1" route add default via 192.168.81.1
ip -n "$n2" route add default via 192.168.82.1
ip -n "$ns" route add default via 10.99.8.1
ip netns exec "$nr" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$nr" iptables -t nat -A POSTROUTING -o "c$tag" -j MASQUERADE ||
    skip "iptables cannot masquerade here"
ip -n "$n1" addr add 10.88.1.1/32 dev lo  # the charons' inner addresses (tunnel mode)
ip -n "$n2" addr add 10.88.1.2/32 dev lo
psk=l2sec-two-behind-nat-psk
rc=0

# charon_conf DIR VERSION LOCAL INNER: one connection "l2tp" to 10.99.8.2,
# tunnel INNER/32 <-> 10.88.2.1/32, proposals both l2sec versions accept.
charon_conf() {
    local d=$1 version=$2 local_addr=$3 inner=$4
    write_strongswan_conf "$d" kernel-libipsec "default = 1, ike = 2, cfg = 1, chd = 1, net = 1" \
        "retransmit_tries = 3"
    cat >"$d/swanctl.conf" <<CONF
connections {
  l2tp {
    version = $version
    local_addrs = $local_addr
    remote_addrs = 10.99.8.2
    proposals = aes256-sha256-modp2048, aes128-sha1-modp2048
    local { auth = psk }
    remote { auth = psk }
    children { l2tp { mode = tunnel
      local_ts = $inner/32
      remote_ts = 10.88.2.1/32
      esp_proposals = aes256-sha256, aes128-sha1 } }
  }
}
secrets {
  ike-1 { secret = "$psk" }
}
CONF
}

# run_version V BIN: both charons initiate IKEv V to l2sec at once.
run_version() {
    local v=$1 bin=$2 d=$work/v$1
    mkdir -p "$d/c1" "$d/c2"
    charon_conf "$d/c1" "$v" 192.168.81.2 10.88.1.1
    charon_conf "$d/c2" "$v" 192.168.82.2 10.88.1.2
    start_charon "$n1" "$d/c1" && load_swanctl_conf "$d/c1" || { echo "FAIL: IKEv$v: charon 1 did not start"; rc=1; stop_all; return; }
    start_charon "$n2" "$d/c2" && load_swanctl_conf "$d/c2" || { echo "FAIL: IKEv$v: charon 2 did not start"; rc=1; stop_all; return; }
    local extra=()
    [ "$v" = 2 ] && extra=(--tunnel)
    ip netns exec "$ns" timeout 60 "$bin" --bind 10.99.8.2 --psk "$psk" --children 2 --hold 4 \
        --timeout 45 "${extra[@]}" >"$d/l2sec.log" 2>&1 &
    local lpid=$!
    pids+=("$lpid")
    sleep 0.3
    initiate_child "$d/c1" l2tp l2tp &
    local i1=$!
    initiate_child "$d/c2" l2tp l2tp &
    local i2=$!
    wait "$i1" "$i2" || true
    wait "$lpid" || echo "(IKEv$v: l2sec exited non-zero)"
    local ups peers spis
    ups=$(grep -c "event child_up" "$d/l2sec.log")
    peers=$(grep "event child_up" "$d/l2sec.log" | grep -o " peer=[0-9.:]*" | sort -u | wc -l)
    spis=$(grep "event child_up" "$d/l2sec.log" | grep -o " spi_in=[0-9a-f]*" | sort -u | wc -l)
    if [ "$ups" -eq 2 ] && [ "$peers" -eq 2 ] && [ "$spis" -eq 2 ]; then
        echo "IKEv$v: l2sec: two Child SAs for two peers behind 10.99.8.1: $(grep "event child_up" "$d/l2sec.log" | grep -o " peer=[0-9.:]*" | sort -u | tr '\n' ' ')"
    else
        echo "FAIL: IKEv$v: l2sec: $ups child_up for $peers outer endpoints, $spis inbound SPIs (want 2, 2, 2)"; rc=1
    fi
    grep "event child_up" "$d/l2sec.log" | grep -q "udp_encap=0" && { echo "FAIL: IKEv$v: a Child SA without UDP encapsulation behind the NAT"; rc=1; }
    if grep -E "event (child_down|ike_down|failed)" "$d/l2sec.log"; then
        echo "FAIL: IKEv$v: an SA went down or failed while both clients were up"; rc=1
    fi
    for c in c1 c2; do
        if grep -q "CHILD_SA l2tp{[0-9]*} established with SPIs" "$d/$c/charon.log"; then
            echo "IKEv$v: charon $c: $(grep -m1 "CHILD_SA l2tp{[0-9]*} established with SPIs" "$d/$c/charon.log" | sed 's/^.*CHILD_SA/CHILD_SA/' | cut -c1-80)"
        else
            echo "FAIL: IKEv$v: charon $c installed no CHILD_SA"; grep -E "IKE\]|CHD\]" "$d/$c/charon.log" | tail -10; rc=1
        fi
        grep -qE "local host is behind NAT" "$d/$c/charon.log" || { echo "FAIL: IKEv$v: charon $c saw no NAT"; rc=1; }
        # its SPIs are ours the other way round: each charon has its own pair
        local ci co
        ci=$(grep -m1 -o "with SPIs [0-9a-f]*_i" "$d/$c/charon.log" | sed 's/with SPIs //; s/_i//')
        co=$(grep -m1 -o "[0-9a-f]*_o and TS" "$d/$c/charon.log" | sed 's/_o and TS//')
        grep -q "spi_in=$co spi_out=$ci" "$d/l2sec.log" ||
            { echo "FAIL: IKEv$v: charon $c's SPIs ${ci:-?}/${co:-?} are not one of l2sec's pairs"; rc=1; }
    done
    [ $rc -eq 0 ] || tail -15 "$d/l2sec.log"
    stop_all
}

run_version 1 "$v1bin"
run_version 2 "$v2bin"
[ $rc -eq 0 ] && echo "PASS: two charons behind one NAT, IKEv1 and IKEv2"
exit $rc
