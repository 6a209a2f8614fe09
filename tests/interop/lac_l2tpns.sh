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
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_tools l2tpns
need_python3 "RADIUS responder"
[ -c /dev/net/tun ] || skip "l2tpns needs /dev/net/tun"
enter_netns 115

build=${L2SEC_BUILD:-$(pwd)/build}
lac=$build/examples/l2tp_lac/l2sec-lac
need_built "$lac"
make_workdir lac-l2tpns

start_l2tpns 'set radius_authtypes "chap,pap"' 'set ipv6_prefix 2001:db8::'

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
