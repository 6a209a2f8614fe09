#!/usr/bin/env bash
# Our LAC (l2sec-lac) against xl2tpd as the LNS, in a private network
# namespace: SCCRQ/SCCRP/SCCCN, ICRQ/ICRP/ICCN, then xl2tpd's CDN (its pppd
# cannot start here) which we handle, then our StopCCN. Run twice: without
# and with a tunnel secret (Challenge/Response).
# Exit 0 = passed, 77 = xl2tpd or a namespace is unavailable (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_tools xl2tpd
enter_netns 110

build=${L2SEC_BUILD:-$(pwd)/build}
lac=$build/examples/l2tp_lac/l2sec-lac
need_built "$lac"
make_workdir lac-xl2tpd

run_case() {  # $1 = name, $2 = secret ("" for none)
    local name=$1 secret=$2
    cat >"$work/ppp.options" <<CONF
noauth
nodefaultroute
CONF
    local auth="no"
    [ -n "$secret" ] && auth="yes"
    cat >"$work/lns.conf" <<CONF
[global]
listen-addr = 127.0.0.1
port = 1701
auth file = $work/l2tp-secrets
[lns default]
ip range = 10.99.0.2-10.99.0.20
local ip = 10.99.0.1
require authentication = no
challenge = $auth
name = xl2tpd-lns
pppoptfile = $work/ppp.options
CONF
    if [ -n "$secret" ]; then
        printf '* * %s\n' "$secret" >"$work/l2tp-secrets"
    else
        : >"$work/l2tp-secrets"
    fi
    : >"$work/secrets"
    start_xl2tpd lns "$work/secrets"
    sleep 0.7
    local args=(--lns 127.0.0.1:1701 --bind 127.0.0.2:0 --hold 5 --timeout 40)
    [ -n "$secret" ] && args+=(--secret "$secret")
    echo "== $name: l2sec-lac ${args[*]}"
    "$lac" "${args[@]}" >"$work/lac.out" 2>&1
    local rc=$?
    cat "$work/lac.out"
    stop_pids "$xl2tpd_pid"
    if [ $rc -ne 0 ]; then
        echo "FAIL ($name): l2sec-lac exited $rc; xl2tpd log:"; tail -n 30 "$work/lns.log"; return 1
    fi
    for want in "tunnel up" "session up" "session 1 down: result code" "tunnel 1 down"; do
        grep -q "$want" "$work/lac.out" || { echo "FAIL ($name): missing '$want'"; tail -n 30 "$work/lns.log"; return 1; }
    done
    # xl2tpd could not start pppd, so it is the one that sent the CDN.
    grep -q "session 1 down: result code [0-9]" "$work/lac.out"
    echo "PASS ($name)"
}

run_case "no secret" "" || exit 1
run_case "tunnel secret" "l2sec-shared" || exit 1
echo "OK"
exit 0
