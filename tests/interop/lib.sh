# shellcheck shell=bash
# What the interop scripts share; each script sources it first:
#   . "$(dirname "$0")/lib.sh"
# It is not a test itself (tests/CMakeLists.txt leaves it out).
#
# Conventions: exit 0 = passed, 1 = failed, 77 = skipped, with the reason
# printed as "SKIP: <reason>" (ctest's SKIP_RETURN_CODE).
#
# Clean-up: on exit, for whatever reason (failure half-way, `timeout`'s TERM,
# Ctrl-C), every process recorded in `pids` is stopped (TERM, then KILL), the
# network namespaces made by make_netns_pair are deleted and $work (made by
# make_workdir) is removed; with L2SEC_KEEP set, $work is kept and named.

interop_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pids=()        # background processes to stop on exit: pids+=($!)
netns_made=()  # network namespaces to delete on exit
work=""        # the scratch directory, see make_workdir

skip() {
    echo "SKIP: $*"
    exit 77
}

# need_tools TOOL...: skips unless every TOOL is on the PATH.
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
    done
}

# need_built FILE [HINT]: skips unless FILE (a binary of the build tree) exists.
need_built() {
    [ -x "$1" ] || skip "$1 not built${2:+ ($2)}"
}

# need_python3 [WHAT FOR]: skips unless /usr/bin/python3 is there.
need_python3() {
    [ -x /usr/bin/python3 ] || skip "/usr/bin/python3 missing${1:+ ($1)}"
}

# need_root WHY: skips unless running as root.
need_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root $1"
}

# need_cxx: exports CXX, the C++ compiler to build a test peer with ($CXX,
# else c++, g++ or clang++); skips when there is none.
need_cxx() {
    CXX=${CXX:-$(command -v c++ || command -v g++ || command -v clang++)}
    [ -n "$CXX" ] || skip "no C++ compiler to build the test peer"
    export CXX
}

# compile_peer SOURCE OUTPUT: builds a one-file C++ peer against l2sec's
# headers ($src/include) with warnings as errors; on failure prints the
# compiler's output and fails the test.
compile_peer() {
    if ! timeout 120 "$CXX" -std=c++20 -O1 -Wall -Wextra -Werror -I"${src:?}/include" "$1" -o "$2" \
        2>"$2.build.log"; then
        cat "$2.build.log"
        echo "FAIL: $(basename "$1") does not build"
        exit 1
    fi
}

# The script re-runs itself once, bounded by `timeout`: in_rerun is true in
# that second run. Checks that may skip belong before the re-run, so that a
# skip costs nothing.
in_rerun() { [ "${L2SEC_INTEROP_RERUN:-}" = "$0" ]; }

# enter_netns SECONDS [--mount]: re-runs this script as root
# in a new network namespace (and mount namespace with --mount) where only
# loopback exists, killed after SECONDS; in the re-run, brings loopback up and
# returns. Skips when the namespaces cannot be made.
enter_netns() {
    local bound=$1 flags=(-n)
    if ! in_rerun; then
        need_root "for a network namespace"
        unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n)"
        if [ "${2:-}" = --mount ]; then
            unshare -m true 2>/dev/null || skip "cannot create a mount namespace (unshare -m)"
            flags+=(-m)
        fi
        L2SEC_INTEROP_RERUN=$0 exec timeout -k 5 "$bound" unshare "${flags[@]}" bash "$0"
    fi
    ip link set lo up
}

# bound_runtime SECONDS: re-runs this script killed after SECONDS, for the
# scripts that make their namespaces with `ip netns`.
bound_runtime() {
    in_rerun && return 0
    L2SEC_INTEROP_RERUN=$0 exec timeout -k 5 "$1" bash "$0"
}

# make_workdir NAME: $work = a new /tmp/l2sec-NAME.XXXXXX, removed on exit.
make_workdir() {
    work=$(mktemp -d "/tmp/l2sec-$1.XXXXXX")
}

# retry TRIES PAUSE COMMAND...: runs COMMAND until it succeeds, at most TRIES
# times, sleeping PAUSE seconds in between; false if it never did.
retry() {
    local tries=$1 pause=$2 i
    shift 2
    for ((i = 0; i < tries; i++)); do
        "$@" && return 0
        sleep "$pause"
    done
    return 1
}

# all_exited PID...: true when none of the processes runs any more.
all_exited() {
    local p
    for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done
    return 0
}

# stop_pids PID...: TERM, up to 1 s to exit, then KILL; reaps them.
stop_pids() {
    local p
    for p in "$@"; do kill "$p" 2>/dev/null || true; done
    retry 10 0.1 all_exited "$@" || true
    for p in "$@"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# stop_all: stops every process in `pids` and forgets them.
stop_all() {
    stop_pids "${pids[@]}"
    pids=()
}

interop_cleanup() {
    set +e
    stop_all
    local ns
    for ns in "${netns_made[@]}"; do ip netns del "$ns" 2>/dev/null; done
    [ -n "$work" ] || return 0
    if [ -n "${L2SEC_KEEP:-}" ]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap interop_cleanup EXIT
# A signal ends the script through exit, so that the EXIT trap runs.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- packet captures (dumpcap, tshark) ---------------------------------------

# start_capture PCAP FILTER [IFACE [NETNS]]: dumpcap on IFACE (default lo),
# in NETNS when given, into PCAP; returns once the capture is running.
# Sets capture_pid.
start_capture() {
    local pcap=$1 filter=$2 iface=${3:-lo} ns=${4:-}
    local in_ns=()
    [ -n "$ns" ] && in_ns=(ip netns exec "$ns")
    "${in_ns[@]}" dumpcap -P -q -i "$iface" -f "$filter" -w "$pcap" >"$pcap.dumpcap.log" 2>&1 &
    capture_pid=$!
    pids+=("$capture_pid")
    retry 50 0.1 test -s "$pcap"
    sleep 0.3
}

# stop_capture: lets dumpcap write out the capture and exit. SIGINT ends
# dumpcap's loop at once: what the kernel still holds for it (libpcap hands
# packets over every 250 ms) is lost, so the last packets of a peer that has
# just exited would be missing; give it one read timeout and more first.
stop_capture() {
    sleep 1
    kill -INT "$capture_pid" 2>/dev/null
    retry 30 0.1 all_exited "$capture_pid"
    stop_pids "$capture_pid"
}

# pcap_has PCAP FILTER [TSHARK OPTIONS...]: true when a packet of PCAP
# matches the display filter FILTER.
pcap_has() {
    local pcap=$1 filter=$2
    shift 2
    # Count rather than `grep -q`: grep -q closes the pipe at the first match,
    # and under `set -o pipefail` tshark's SIGPIPE would make that false.
    [ "$(tshark -r "$pcap" "$@" -Y "$filter" 2>/dev/null | wc -l)" -gt 0 ]
}

# --- L2TP peers ----------------------------------------------------------------

# start_xl2tpd NAME SECRETS: xl2tpd in the foreground of its own session with
# $work/NAME.conf, the l2tp-secrets file SECRETS, its control pipe
# $work/NAME.ctl ("d <lac>" hangs a LAC's tunnel up) and its log in
# $work/NAME.log. Sets xl2tpd_pid.
start_xl2tpd() {
    local name=$1 secrets=$2
    setsid xl2tpd -D -c "$work/$name.conf" -s "$secrets" -p "$work/$name.pid" -C "$work/$name.ctl" \
        >"$work/$name.log" 2>&1 &
    xl2tpd_pid=$!
    pids+=("$xl2tpd_pid")
}

# start_l2tpns [CONFIG LINE...]: l2tpns (an LNS with its own userspace PPP)
# listening on 127.0.0.1:1701, with an accept-all RADIUS responder
# (radius_accept.py, secret "l2sec") and the DNS servers 10.0.0.1 and
# 10.0.0.2 for IPCP; CONFIG LINEs are added to its configuration. Its cluster
# heartbeat needs an interface with an address: a veth pair l2s0/l2s1 with
# 10.77.0.1/24. Returns once l2tpns answers SCCRQ, which it does only after
# electing itself cluster master (~16 s); skips if it never does.
# Log: $work/l2tpns.log. Sets l2tpns_pid.
start_l2tpns() {
    ip link add l2s0 type veth peer name l2s1 || skip "cannot create a veth pair"
    ip addr add 10.77.0.1/24 dev l2s0
    ip link set l2s0 up
    ip link set l2s1 up
    {
        cat <<CONF
set debug 3
set log_file "$work/l2tpns.log"
set pid_file "$work/l2tpns.pid"
set primary_dns 10.0.0.1
set secondary_dns 10.0.0.2
set primary_radius 127.0.0.1
set radius_secret "l2sec"
set radius_accounting no
set bind_address 127.0.0.1
set cli_bind_address 127.0.0.1
set cluster_interface "l2s0"
set ppp_keepalive yes
CONF
        printf '%s\n' "$@"
    } >"$work/l2tpns.cfg"
    /usr/bin/python3 "$interop_dir/radius_accept.py" l2sec >"$work/radius.log" 2>&1 &
    pids+=($!)
    setsid l2tpns -c "$work/l2tpns.cfg" >"$work/l2tpns.out" 2>&1 &
    l2tpns_pid=$!
    pids+=("$l2tpns_pid")
    local i
    for i in $(seq 60); do
        grep -q "declaring myself the master" "$work/l2tpns.log" 2>/dev/null && return 0
        kill -0 "$l2tpns_pid" 2>/dev/null || break
        sleep 0.5
    done
    echo "SKIP: l2tpns did not become ready; its log:"
    tail -n 20 "$work/l2tpns.log" "$work/l2tpns.out" 2>/dev/null
    exit 77
}

# use_fake_pppd: in this script's private mount namespace, fake_pppd.py (a
# minimal PPP client) replaces /usr/sbin/pppd, which xl2tpd starts for a
# call; false when the bind mount is not possible.
use_fake_pppd() {
    mount --make-rprivate / 2>/dev/null && mount --bind "$interop_dir/fake_pppd.py" /usr/sbin/pppd 2>/dev/null
}

# --- strongSwan ----------------------------------------------------------------

charon=/usr/lib/ipsec/charon

# need_charon [PLUGIN MISSING-HINT]...: skips unless charon, swanctl and the
# openssl plugin are installed, and each extra plugin (libstrongswan-PLUGIN.so).
need_charon() {
    [ -x "$charon" ] || skip "strongSwan charon not installed ($charon): apt-get install strongswan-charon"
    command -v swanctl >/dev/null || skip "swanctl not installed (strongswan-swanctl)"
    [ -e /usr/lib/ipsec/plugins/libstrongswan-openssl.so ] ||
        skip "strongSwan openssl plugin missing (libstrongswan-standard-plugins)"
    while [ $# -ge 2 ]; do
        [ -e "/usr/lib/ipsec/plugins/libstrongswan-$1.so" ] || skip "strongSwan $1 plugin missing ($2)"
        shift 2
    done
}

# make_netns_pair TAG ADDR1/LEN ADDR2/LEN: network namespaces ${TAG}a and
# ${TAG}b (deleted on exit), loopback up, joined by a veth pair (vTAG in the
# first, wTAG in the second) with the two addresses. Skips when not possible.
make_netns_pair() {
    local tag=$1
    need_root "for network namespaces"
    ip netns add "${tag}a" 2>/dev/null || skip "cannot create network namespaces here"
    netns_made+=("${tag}a")
    ip netns add "${tag}b" || skip "cannot create a second network namespace"
    netns_made+=("${tag}b")
    ip link add "v$tag" netns "${tag}a" type veth peer name "w$tag" netns "${tag}b" || skip "cannot create veth pair"
    ip -n "${tag}a" addr add "$2" dev "v$tag"
    ip -n "${tag}b" addr add "$3" dev "w$tag"
    ip -n "${tag}a" link set lo up
    ip -n "${tag}b" link set lo up
    ip -n "${tag}a" link set "v$tag" up
    ip -n "${tag}b" link set "w$tag" up
}

# write_strongswan_conf DIR EXTRA-PLUGINS LOG-LEVELS [OPTION]...: writes
# DIR/strongswan.conf for a charon with the plugins PSK IKE needs (AES, SHA,
# GCM, openssl, netlink, vici) plus EXTRA-PLUGINS, logging to DIR/charon.log
# at LOG-LEVELS ("default = 1, chd = 4"), its vici socket DIR/charon.vici,
# and each OPTION ("install_routes = no") in its charon section.
write_strongswan_conf() {
    local d=$1 extra=$2 levels=$3
    shift 3
    mkdir -p "$d"
    {
        echo "charon {"
        echo "  load = random nonce aes sha1 sha2 hmac gcm openssl pem pkcs1 x509 kdf ${extra:+$extra }kernel-netlink socket-default vici"
        printf '  %s\n' "$@"
        echo "  filelog {"
        echo "    log {"
        echo "      path = $d/charon.log"
        echo "      flush_line = yes"
        echo "$levels" | tr ',' '\n' | sed 's/^ */      /'
        echo "    }"
        echo "  }"
        echo "  plugins {"
        echo "    vici {"
        echo "      socket = unix://$d/charon.vici"
        echo "    }"
        echo "  }"
        echo "}"
    } >"$d/strongswan.conf"
}

# start_charon NETNS DIR: charon in NETNS with DIR/strongswan.conf and a
# private /run; returns once its vici socket DIR/charon.vici is up, else
# prints its output and returns 1. Sets charon_pid.
start_charon() {
    local ns=$1 d=$2
    ip netns exec "$ns" unshare -m sh -c "mount -t tmpfs tmpfs /run && STRONGSWAN_CONF=$d/strongswan.conf exec $charon" \
        >"$d/stdout" 2>&1 &
    charon_pid=$!
    pids+=("$charon_pid")
    retry 50 0.1 test -S "$d/charon.vici" && return 0
    echo "charon did not start in $ns:"
    cat "$d/stdout"
    tail -20 "$d/charon.log" 2>/dev/null
    return 1
}

# load_swanctl_conf DIR: loads DIR/swanctl.conf into the charon of DIR
# (output in DIR/load.log, printed on failure).
load_swanctl_conf() {
    local d=$1
    STRONGSWAN_CONF=$d/strongswan.conf swanctl --load-all --file "$d/swanctl.conf" --uri "unix://$d/charon.vici" \
        >"$d/load.log" 2>&1 || {
        cat "$d/load.log"
        return 1
    }
}

# initiate_child DIR IKE CHILD: the charon of DIR initiates IKE SA IKE and
# CHILD SA CHILD, waiting at most 15 s (output in DIR/initiate.log).
initiate_child() {
    local d=$1
    STRONGSWAN_CONF=$d/strongswan.conf timeout 20 swanctl --initiate --ike "$2" --child "$3" --timeout 15 \
        --uri "unix://$d/charon.vici" >"$d/initiate.log" 2>&1
}

# report_choice NAME DIR WEAK: the IKE and ESP proposals charon's log in DIR
# says were selected (with charon as a client whose lists it was given).
# FAIL (rc=1) when either is missing or, WEAK (an ERE) not empty, when one
# matches it: a weak choice although the list has strong entries.
report_choice() {
    local name=$1 d=$2 weak=$3 p1 p2
    p1=$(grep -m1 -o "selected proposal: IKE:[^ ]*" "$d/charon.log" | sed 's/selected proposal: //')
    p2=$(grep -m1 -o "selected proposal: ESP:[^ ]*" "$d/charon.log" | sed 's/selected proposal: //')
    echo "$name: l2sec chose ${p1:-nothing} and ${p2:-nothing}"
    [ -n "$p1" ] && [ -n "$p2" ] || { echo "FAIL: $name: no proposal selected for the IKE and the ESP SA"; rc=1; }
    if [ -n "$weak" ] && echo "$p1 $p2" | grep -qE "$weak"; then
        echo "FAIL: $name: a weak choice although the client offers strong ones"; rc=1
    fi
}
