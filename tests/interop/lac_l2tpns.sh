#!/usr/bin/env bash
# Our LAC (l2sec-lac --ppp) against l2tpns, an LNS with its own userspace PPP,
# in a private network namespace: tunnel, session, LCP (l2tpns sends MRRU and
# Endpoint Discriminator, which we reject/accept), authentication through
# RADIUS (a tiny accept-all responder), IPCP with DNS, three pings through the
# session answered by the kernel behind l2tpns, LCP Terminate, CDN, StopCCN.
# l2tpns prefers CHAP, then PAP: one run answers only PAP (we Nak CHAP, and
# Protocol-Reject l2tpns's IPV6CP), the other CHAP-MD5, and IPV6CP as well.
# Exit 0 = passed, 77 = l2tpns or a namespace is unavailable (reason printed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" != "--in-netns" ]; then
    command -v l2tpns >/dev/null 2>&1 || { echo "SKIP: l2tpns not installed"; exit 77; }
    [ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing (RADIUS responder)"; exit 77; }
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
    [ -c /dev/net/tun ] || { echo "SKIP: l2tpns needs /dev/net/tun"; exit 77; }
    unshare -n true 2>/dev/null || { echo "SKIP: cannot create a network namespace (unshare -n)"; exit 77; }
    exec timeout -k 5 115 unshare -n bash "$0" --in-netns
fi

build=${L2SEC_BUILD:-$(pwd)/build}
lac=$build/examples/l2tp_lac/l2sec-lac
[ -x "$lac" ] || { echo "SKIP: $lac not built"; exit 77; }
work=$(mktemp -d /tmp/l2sec-lac-l2tpns.XXXXXX)
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
set radius_authtypes "chap,pap"
set bind_address 127.0.0.1
set cli_bind_address 127.0.0.1
set cluster_interface "l2s0"
set ppp_keepalive yes
set ipv6_prefix 2001:db8::
CONF

/usr/bin/python3 "$here/radius_accept.py" l2sec >"$work/radius.log" 2>&1 &
pids+=($!)
setsid l2tpns -c "$work/l2tpns.cfg" >"$work/l2tpns.out" 2>&1 &
lns=$!
pids+=($lns)

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

run_case() {  # $1 = auth we answer, $2 = "ipv6" to negotiate IPV6CP too
    local auth=$1 v6=${2:-}
    local extra=()
    [ -n "$v6" ] && extra+=(--ipv6)
    echo "== l2sec-lac --ppp --auth $auth ${extra[*]} against l2tpns"
    "$lac" --lns 127.0.0.1:1701 --bind 127.0.0.2:0 --ppp --user "alice-$auth" --password secret \
        --auth "$auth" --pings 3 --ping 10.77.0.1 --hold 1 --timeout 40 "${extra[@]}" >"$work/lac-$auth.out" 2>&1
    local rc=$?
    cat "$work/lac-$auth.out"
    if [ $rc -ne 0 ]; then
        echo "FAIL ($auth): l2sec-lac exited $rc; l2tpns log:"; tail -n 40 "$work/l2tpns.log"; return 1
    fi
    local want_auth="PAP"
    [ "$auth" = chap ] && want_auth="CHAP-MD5"
    for want in "tunnel up" "session up" "ppp: lcp-up" "ppp: auth-success ($want_auth)" \
        "ppp: ipcp-up: local address" "ppp: finished" "tunnel 1 down"; do
        grep -qF "$want" "$work/lac-$auth.out" || { echo "FAIL ($auth): missing '$want'"; tail -n 40 "$work/l2tpns.log"; return 1; }
    done
    # l2tpns hands out DNS servers 10.0.0.1 and 10.0.0.2 in IPCP Naks.
    grep -q "DNS 10.0.0.1 10.0.0.2" "$work/lac-$auth.out" || { echo "FAIL ($auth): DNS not negotiated"; return 1; }
    # Real IP through the session: l2tpns hands our ICMP to the kernel of its
    # namespace (tun0), which answers from the veth address.
    grep -q "3 of 3 echo requests answered" "$work/lac-$auth.out" || { echo "FAIL ($auth): pings not answered"; return 1; }
    # IPV6CP: l2tpns Naks our Interface-Identifier with one of its own making;
    # without --ipv6 we Protocol-Reject its IPV6CP and IPv4 goes on regardless.
    if [ -n "$v6" ]; then
        grep -q "ppp: ipv6cp-up: interface identifier" "$work/lac-$auth.out" || { echo "FAIL ($auth): no IPV6CP"; return 1; }
    fi
    echo "PASS ($auth)"
}

run_case pap || exit 1
run_case chap ipv6 || exit 1
echo "OK"
exit 0
