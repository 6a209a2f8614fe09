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
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" != "--in-netns" ]; then
    command -v xl2tpd >/dev/null 2>&1 || { echo "SKIP: xl2tpd not installed"; exit 77; }
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
    unshare -n true 2>/dev/null || { echo "SKIP: cannot create a network namespace (unshare -n)"; exit 77; }
    unshare -m true 2>/dev/null || { echo "SKIP: cannot create a mount namespace (unshare -m)"; exit 77; }
    exec timeout -k 5 110 unshare -n -m bash "$0" --in-netns
fi

build=${L2SEC_BUILD:-$(pwd)/build}
lns=$build/examples/l2tp_lns/l2sec-lns
[ -x "$lns" ] || { echo "SKIP: $lns not built"; exit 77; }
work=$(mktemp -d /tmp/l2sec-lns-xl2tpd.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    [ -n "${L2SEC_KEEP:-}" ] && { echo "kept $work"; return; }
    rm -rf "$work"
}
trap cleanup EXIT
ip link set lo up
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
    pids+=($l)
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
        setsid xl2tpd -D -c "$work/lac.conf" -s "$work/secrets" -p "$work/lac.pid" -C "$work/lac.ctl" >"$work/lac.log" 2>&1 &
    local x=$!
    pids+=($x)
    # Wait for the call to end (xl2tpd's CDN, or ours after LCP Terminate), then
    # make xl2tpd close its tunnel (StopCCN); our LNS exits when it is gone.
    for _ in $(seq 60); do
        grep -q "session 1 down" "$work/lns-$name.out" && break
        sleep 0.5
    done
    echo "d test" >"$work/lac.ctl"
    for _ in $(seq 40); do
        kill -0 "$l" 2>/dev/null || break
        sleep 0.25
    done
    wait "$l"
    local rc=$?
    kill "$x" 2>/dev/null; wait "$x" 2>/dev/null
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
if mount --make-rprivate / 2>/dev/null && mount --bind "$here/fake_pppd.py" /usr/sbin/pppd 2>/dev/null; then
    run_case "PPP with PAP via fake_pppd" "" ppp || exit 1
else
    echo "NOTE: cannot bind-mount fake_pppd.py over /usr/sbin/pppd: PPP case not run"
fi
echo "OK"
exit 0
