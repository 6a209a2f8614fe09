#!/usr/bin/env bash
# xl2tpd as the LAC against our LNS (l2sec-lns), in private network (and
# mount) namespaces.
#  1. Control plane: SCCRQ/SCCRP/SCCCN and ICRQ/ICRP/ICCN from xl2tpd, whose
#     pppd cannot start here, so it sends CDN, which we handle; then StopCCN.
#     Run without and with a tunnel secret (Challenge/Response both ways).
#  2. PPP: xl2tpd relays PPP (async HDLC) for a minimal PPP client
#     (fake_pppd.py, bind-mounted over /usr/sbin/pppd): our LNS negotiates
#     LCP, authenticates it with PAP from the users file, assigns an address
#     from the pool through IPCP, and sees LCP Terminate.
# Exit 0 = passed, 77 = xl2tpd or a namespace is unavailable (reason printed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_tools xl2tpd
enter_netns 110 --mount

build=${L2SEC_BUILD:-$(pwd)/build}
lns=$build/examples/l2tp_lns/l2sec-lns
need_built "$lns"
make_workdir lns-xl2tpd
printf 'alice wonderland\nbob builder\n' >"$work/users"
printf 'noauth\nnodefaultroute\n' >"$work/ppp.options"
: >"$work/secrets"

run_case() {  # $1 = name, $2 = secret, $3 = "ppp" to run fake_pppd
    local name=$1 secret=$2 ppp=${3:-}
    local lns_args=(--bind 127.0.0.1:1701 --users "$work/users" --auth pap --pool 10.98.0.10-10.98.0.20
        --local-ip 10.98.0.1 --sessions 1 --timeout 45)
    [ -n "$secret" ] && lns_args+=(--secret "$secret")
    [ -z "$ppp" ] && lns_args+=(--no-ppp)
    "$lns" "${lns_args[@]}" >"$work/lns-$name.out" 2>&1 &
    local l=$!
    pids+=("$l")
    local auth_lines=""
    if [ -n "$secret" ]; then
        printf '* * %s\n' "$secret" >"$work/l2tp-secrets"
        auth_lines="challenge = yes"
    else
        : >"$work/l2tp-secrets"
    fi
    cat >"$work/lac.conf" <<CONF
[global]
listen-addr = 127.0.0.2
port = 1701
auth file = $work/l2tp-secrets
[lac test]
lns = 127.0.0.1
autodial = yes
redial = no
require authentication = no
name = xl2tpd-lac
pppoptfile = $work/ppp.options
$auth_lines
CONF
    sleep 0.3
    L2SEC_PPP_USER=alice L2SEC_PPP_PASS=wonderland L2SEC_FAKEPPP_LOG=$work/fake_pppd.log \
        start_xl2tpd lac "$work/secrets"
    # Wait for the call to end (xl2tpd's CDN, or ours after LCP Terminate), then
    # make xl2tpd close its tunnel (StopCCN); our LNS exits when it is gone.
    retry 60 0.5 grep -q "session 1 down" "$work/lns-$name.out"
    echo "d test" >"$work/lac.ctl"
    retry 40 0.25 all_exited "$l"
    wait "$l"
    local rc=$?
    stop_pids "$xl2tpd_pid"
    echo "== $name"
    cat "$work/lns-$name.out"
    if [ $rc -ne 0 ]; then
        echo "FAIL ($name): l2sec-lns exited $rc; xl2tpd log:"; tail -n 30 "$work/lac.log"; return 1
    fi
    local wants=("tunnel 1 up" "incoming call, session 1" "session 1 up" "session 1 down: result code" "tunnel 1 down")
    [ -n "$ppp" ] && wants+=("ppp[1]: lcp-up" "ppp[1]: auth-success (PAP, user alice)" "ppp[1]: ipcp-up: assigned 10.98.0.10")
    for want in "${wants[@]}"; do
        grep -qF "$want" "$work/lns-$name.out" || {
            echo "FAIL ($name): missing '$want'"; tail -n 30 "$work/lac.log"
            [ -f "$work/fake_pppd.log" ] && tail -n 30 "$work/fake_pppd.log"
            return 1
        }
    done
    echo "PASS ($name)"
}

run_case "control plane" "" || exit 1
run_case "control plane, tunnel secret" "l2sec-shared" || exit 1
if use_fake_pppd; then
    run_case "PPP with PAP via fake_pppd" "" ppp || exit 1
else
    echo "NOTE: cannot bind-mount fake_pppd.py over /usr/sbin/pppd: PPP case not run"
fi
echo "OK"
exit 0
