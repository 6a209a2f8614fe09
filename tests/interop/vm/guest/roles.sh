# shellcheck shell=bash
# The guest's side of the harness: status reporting and the two L2TP/IPsec
# roles, each configured as the real deployments configure them:
#   client: strongSwan (charon + swanctl, kernel ESP, transport mode, IKEv1 PSK)
#           + xl2tpd LAC (kernel L2TP) + pppd (pppol2tp plugin), with the
#           options NetworkManager-l2tp writes;
#   server: strongSwan responder (transport, remote_ts dynamic[udp]) + xl2tpd
#           LNS (kernel L2TP) + pppd as authenticator with chap/pap secrets.
# Sourced once by init.sh; each host command runs in a subshell of that
# shell, so these functions are there. Under TCG a fork costs ~50 ms: waits
# use `nap` (a read with a timeout on a FIFO nobody writes), not sleep.
#
# Status lines to the host: "STATUS <what> s=<session> key=value... t=<uptime>".
status_fifo=/run/l2sec/status.fifo
charon=/usr/lib/ipsec/charon

# status_raw LINE: one line to the host (through the FIFO init.sh forwards).
status_raw() { echo "$*" >"$status_fifo"; }

# status WHAT [KEY=VALUE...]: "STATUS WHAT KEY=VALUE... t=UPTIME".
status() {
    local up
    read -r up _ </proc/uptime
    status_raw "STATUS $* t=$up"
}

# nap SECONDS: sleeps without a fork.
nap() { read -r -t "$1" -u "$nap_fd" _ 2>/dev/null || :; }

# wait_for SECONDS COMMAND...: runs COMMAND (a builtin test, ideally) every
# 50 ms until it succeeds; false after SECONDS.
wait_for() {
    local n=$(($1 * 20))
    shift
    while ((n-- > 0)); do
        "$@" && return 0
        nap 0.05
    done
    return 1
}

# Called by init.sh once /run/l2sec exists.
guest_hooks_install() {
    mkfifo /run/l2sec/nap.fifo
    exec {nap_fd}<>/run/l2sec/nap.fifo
    # pppd always reads /etc/ppp/options (a tmpfs here, so the host's "auth"
    # and "lock" do not apply) and runs /etc/ppp/ip-up when IPCP is up.
    : >/etc/ppp/options
    local hook
    for hook in ip-up ip-down; do
        printf '#!/bin/bash\n. /run/vm/guest/roles.sh\nppp_hook %s "$@"\n' "${hook#ip-}" >/etc/ppp/$hook
        chmod 755 /etc/ppp/$hook
    done
    : >/etc/ppp/chap-secrets
    : >/etc/ppp/pap-secrets
    chmod 600 /etc/ppp/chap-secrets /etc/ppp/pap-secrets
}

guest_stop_all() {
    kill -TERM -1 2>/dev/null
    nap 0.5
    kill -KILL -1 2>/dev/null
}

# ppp_hook up|down IFACE TTY SPEED LOCAL PEER IPPARAM: pppd's ip-up/ip-down
# (a new bash each time, with pppd's environment: PEERNAME is the peer's
# authenticated name on the server). IPPARAM is the session name.
ppp_hook() {
    local what=$1 iface=$2 local_ip=$5 peer=$6 s=${7:-ppp} r
    if [ "$what" = up ]; then
        # Routes first: the client pings as soon as the up file is there.
        if [ -e "/run/l2sec/$s.routes" ]; then
            for r in $(cat "/run/l2sec/$s.routes"); do ip route add "$r" dev "$iface"; done
        fi
        echo "$PPID" >"/run/l2sec/$s.pppd.$iface"  # pppd runs ip-up
        echo "$iface $local_ip $peer" >"/run/l2sec/.$s.$$"
        mv "/run/l2sec/.$s.$$" "/run/l2sec/$s.up.$iface"
        status ppp_up "s=$s" "iface=$iface" "local=$local_ip" "peer=$peer" "user=${PEERNAME:-}"
        # The server role with IPsec: the kernel's SAs while this session is
        # up (a peer that tears down after its pings leaves none to look at).
        [ -e "/run/l2sec/$s.xfrm-on-up" ] && ip xfrm state >>"/run/vm/$s/xfrm.state"
    else
        rm -f "/run/l2sec/$s.up.$iface"
        status ppp_down "s=$s" "iface=$iface" "user=${PEERNAME:-}"
    fi
}

# pids_add SESSION PID: records a daemon of SESSION (for session_down).
pids_add() { echo "$2" >>"/run/l2sec/$1.pids"; }

# session_down SESSION: stops the session in the order a real client does:
# xl2tpd first (it hangs up its pppd: LCP Terminate, CDN, StopCCN, all still
# inside ESP), then the IKE SA (Delete payloads), then charon.
session_down() {
    local s=$1 d=/run/vm/$1 p
    [ -e "/run/l2sec/$s.pids" ] || return 0
    local f pppds=()
    for f in /run/l2sec/"$s".pppd.*; do
        [ -e "$f" ] && read -r p <"$f" && pppds+=("$p")
    done
    if read -r p <"/run/l2sec/$s.xl2tpd.pid" 2>/dev/null; then
        kill -TERM "$p" 2>/dev/null
        wait_for 5 test ! -d "/proc/$p"
    fi
    # xl2tpd does not wait for its pppd's LCP Terminate: wait here, and a
    # little more for the server's last words, before the SA goes away.
    for p in "${pppds[@]}"; do wait_for 5 test ! -d "/proc/$p"; done
    nap 0.5
    if [ -S "/run/l2sec/$s.vici" ]; then
        swanctl_ "$d" --terminate --ike l2tp --timeout 3 >>"$d/swanctl.log" 2>&1
    fi
    while read -r p; do kill -TERM "$p" 2>/dev/null; done <"/run/l2sec/$s.pids"
    wait_for 3 pids_gone "$s"
    while read -r p; do kill -KILL "$p" 2>/dev/null; done <"/run/l2sec/$s.pids"
    rm -f "/run/l2sec/$s.pids" /run/l2sec/"$s".up.* /run/l2sec/"$s".pppd.*
    status down "s=$s"
}

pids_gone() {
    local p
    while read -r p; do [ -d "/proc/$p" ] && return 1; done <"/run/l2sec/$1.pids"
    return 0
}

# --- strongSwan -----------------------------------------------------------------

# write_strongswan_conf DIR LOG-LEVELS: charon with kernel-netlink (kernel
# ESP), the plugins every proposal of the presets needs, its vici socket
# /run/l2sec/SESSION.vici (a UNIX socket cannot be bound on 9p).
write_strongswan_conf() {
    local d=$1 levels=${2//,/$'\n'}
    cat >"$d/strongswan.conf" <<CONF
charon {
  load = random nonce openssl aes sha1 sha2 md5 hmac gcm xcbc pem pkcs1 x509 kdf kernel-netlink socket-default vici updown
  install_routes = no
  install_virtual_ip = no
  retransmit_tries = 3
  retransmit_timeout = 2
  filelog {
    log {
      path = $d/charon.log
      time_format = %H:%M:%S
      flush_line = yes
      ${levels}
    }
  }
  plugins {
    vici {
      socket = unix:///run/l2sec/${d##*/}.vici
    }
  }
}
CONF
}

# start_charon SESSION DIR: charon in the background with DIR's config;
# waits for its vici socket (10 s).
start_charon() {
    local s=$1 d=$2
    rm -f "/run/l2sec/${d##*/}.vici"
    STRONGSWAN_CONF=$d/strongswan.conf "$charon" >"$d/charon.out" 2>&1 &
    pids_add "$s" $!
    wait_for 10 test -S "/run/l2sec/${d##*/}.vici" || { status fail "s=$s" "why=charon_did_not_start"; return 1; }
}

swanctl_() {
    local d=$1
    shift
    STRONGSWAN_CONF=$d/strongswan.conf swanctl "$@" --uri "unix:///run/l2sec/${d##*/}.vici"
}

# ipsec_report SESSION DIR WHAT: "STATUS WHAT" with what swanctl --list-sas
# says of the SAs: the IKE and ESP suites, UDP encapsulation, the SPIs.
ipsec_report() {
    local s=$1 d=$2 what=$3 out ike esp encap=no spi_in spi_out
    out=$(swanctl_ "$d" --list-sas 2>&1)
    echo "$out" >"$d/list-sas.$what"
    ike=$(grep -m 1 -oE '^ +[A-Z0-9_]+(-[0-9]+)?/[A-Z0-9_/-]+$' <<<"$out" | tr -d ' ')
    esp=$(grep -m 1 -oE 'ESP:[A-Z0-9_/-]+' <<<"$out")
    grep -q 'INSTALLED, TRANSPORT.*UDP' <<<"$out" && encap=yes
    spi_in=$(sed -n 's/.* in  \([0-9a-f]\{8\}\).*/\1/p' <<<"$out" | tail -n 1)
    spi_out=$(sed -n 's/.* out \([0-9a-f]\{8\}\).*/\1/p' <<<"$out" | tail -n 1)
    status "$what" "s=$s" "ike=$ike" "esp=${esp#ESP:}" "encap=$encap" "spi_in=$spi_in" "spi_out=$spi_out"
}

# --- the client role --------------------------------------------------------------
#
# client_run ENVFILE: the whole client, configured by ENVFILE (written by the
# host's vm_client): ipsec (yes|no), server, psk, user, password, auth
# (mschapv2|chap|pap), ike, esp (strongSwan proposal lists), encap (yes: force
# UDP encapsulation), ping (target; default: the PPP peer), count, rekey
# (seconds after PPP came up: swanctl --rekey --child, then ping again), hold
# (seconds to stay up before tearing down; 0 = leave it up), mtu, mru, routes
# (prefixes to route through ppp), log (charon log levels), s (session name),
# keep (yes: leave a failed session up).
# The kernel's SAs (ip xfrm state: SPIs and keys) go to /run/vm/SESSION/xfrm.state
# after IKE and after each rekey, for decrypting captures (vm_esp_sa_uat).
# Status lines, in order: ipsec_start, ipsec_up (ike=, esp=, encap=, SPIs),
# l2tp_start, ppp_up (local=, peer=), ping (sent=, received=, result=ok|fail),
# rekey (old=, new= inbound SPIs, result=), ping again, down; or fail (why=).
# On failure the session is torn down (keep=yes leaves it, for debugging).
client_run() {
    local s="" keep=no
    # shellcheck source=/dev/null
    . "$1"
    client_steps "$1" && return 0
    [ "$keep" = yes ] || session_down "$s"
    return 1
}

client_steps() {
    local s="" ipsec=yes server="" psk="" user="" password="" auth=mschapv2 ike="" esp=""
    local encap=no ping="" count=3 rekey=0 hold=0 mtu=1400 mru=1400 routes="" log="" timeout=60
    # shellcheck source=/dev/null
    . "$1"
    local d=/run/vm/$s
    mkdir -p "$d"
    : >"/run/l2sec/$s.pids"
    [ -n "$routes" ] && echo "$routes" >"/run/l2sec/$s.routes"
    if [ "$ipsec" = yes ]; then
        status ipsec_start "s=$s"
        write_strongswan_conf "$d" "${log:-default = 1}"
        cat >"$d/swanctl.conf" <<CONF
connections {
  l2tp {
    version = 1
    remote_addrs = $server
    proposals = $ike
    encap = $encap
    rekey_time = 0
    local {
      auth = psk
    }
    remote {
      auth = psk
      id = %any
    }
    children {
      l2tp {
        mode = transport
        local_ts = dynamic[udp/1701]
        remote_ts = dynamic[udp/1701]
        esp_proposals = $esp
        start_action = none
      }
    }
  }
}
secrets {
  ike-l2tp {
    secret = "$psk"
  }
}
CONF
        start_charon "$s" "$d" || return 1
        swanctl_ "$d" --load-all --file "$d/swanctl.conf" >"$d/swanctl.log" 2>&1 ||
            { status fail "s=$s" "why=swanctl_load"; return 1; }
        if ! swanctl_ "$d" --initiate --ike l2tp --child l2tp --timeout 30 >>"$d/swanctl.log" 2>&1; then
            status fail "s=$s" "why=ipsec" "detail=$(grep -m 1 -E 'NO_PROPOSAL|AUTHENTICATION_FAILED|no shared key|received .* error|INVALID' "$d/charon.log" | tr ' ' '_' | cut -c1-120)"
            return 1
        fi
        ipsec_report "$s" "$d" ipsec_up
        ip xfrm state >>"$d/xfrm.state"
    fi
    status l2tp_start "s=$s"
    local refuse
    case $auth in
        mschapv2) refuse="refuse-eap refuse-pap refuse-chap refuse-mschap" ;;
        chap) refuse="refuse-eap refuse-pap refuse-mschap refuse-mschap-v2" ;;
        pap) refuse="refuse-eap refuse-chap refuse-mschap refuse-mschap-v2" ;;
        any) refuse="refuse-eap" ;;
        *) status fail "s=$s" "why=unknown_auth_$auth"; return 1 ;;
    esac
    # xl2tpd and pppd as NetworkManager-l2tp writes them (nm-l2tp-service.c).
    cat >"$d/xl2tpd.conf" <<CONF
[global]
port = 1701
access control = yes

[lac l2tp]
lns = $server
pppoptfile = $d/ppp-options
autodial = yes
tunnel rws = 8
tx bps = 100000000
rx bps = 100000000
require authentication = no
CONF
    {
        echo "ipparam $s"
        echo "nodetach"
        echo "usepeerdns"
        echo "noipdefault"
        echo "nodefaultroute"
        echo "noauth"
        echo "noccp"
        echo "name $user"
        echo "password $password"
        printf '%s\n' $refuse
        echo "lcp-echo-failure 0"
        echo "lcp-echo-interval 0"
        echo "mru $mru"
        echo "mtu $mtu"
        echo "logfile $d/pppd.log"
        echo "debug"
    } >"$d/ppp-options"
    : >"$d/l2tp-secrets"
    xl2tpd -D -c "$d/xl2tpd.conf" -s "$d/l2tp-secrets" -p "/run/l2sec/$s.xl2tpd.pid" -C "/run/l2sec/$s.xl2tpd.ctl" \
        >"$d/xl2tpd.log" 2>&1 &
    xl2tpd_pid=$!
    pids_add "$s" $!
    if ! wait_for "$timeout" have_up_or_gone "$s"; then
        status fail "s=$s" "why=ppp_not_up"
        return 1
    fi
    have_up "$s" || { status fail "s=$s" "why=xl2tpd_exited"; return 1; }
    local iface local_ip peer
    read -r iface local_ip peer <"$up_file"
    [ -n "$ping" ] || ping=$peer
    ping_report "$s" "$ping" "$count" || return 1
    if [ "$rekey" -gt 0 ]; then
        nap "$rekey"
        client_rekey "$s" || return 1
        [ -e "$up_file" ] || { status fail "s=$s" "why=ppp_dropped_by_rekey"; return 1; }
        ping_report "$s" "$ping" "$count" || return 1
    fi
    if [ "$hold" -gt 0 ]; then
        nap "$hold"
        [ -e "$up_file" ] || { status fail "s=$s" "why=ppp_dropped"; return 1; }
        session_down "$s"
    fi
    return 0
}

# have_up SESSION: true once pppd's ip-up ran for SESSION; sets up_file.
have_up() {
    local f
    for f in /run/l2sec/"$1".up.*; do
        [ -e "$f" ] && { up_file=$f; return 0; }
    done
    return 1
}

# have_up_or_gone SESSION: have_up, or xl2tpd ($xl2tpd_pid) has exited.
have_up_or_gone() { have_up "$1" || [ ! -d "/proc/$xl2tpd_pid" ]; }

# ping_report SESSION TARGET COUNT: busybox ping (iputils is not installed on
# the host); "STATUS ping ... result=ok" when every echo was answered.
ping_report() {
    local s=$1 target=$2 count=$3 out sent=0 received=0
    out=$(busybox ping -c "$count" -W 2 "$target" 2>&1)
    echo "$out" >>"/run/vm/$s/ping.log"
    if [[ $out =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ packets\ received ]]; then
        sent=${BASH_REMATCH[1]}
        received=${BASH_REMATCH[2]}
    fi
    if [ "$sent" -gt 0 ] && [ "$sent" = "$received" ]; then
        status ping "s=$s" "target=$target" "sent=$sent" "received=$received" result=ok
    else
        status ping "s=$s" "target=$target" "sent=$sent" "received=$received" result=fail
        return 1
    fi
}

# client_rekey SESSION: rekeys the CHILD_SA (a new Quick Mode) and waits for
# the new one to replace the old; "STATUS rekey old=SPI new=SPI result=ok".
client_rekey() {
    local s=$1 d=/run/vm/$1 old new i
    old=$(child_spi_in "$d")
    swanctl_ "$d" --rekey --child l2tp >>"$d/swanctl.log" 2>&1
    for ((i = 0; i < 200; i++)); do
        new=$(child_spi_in "$d")
        [ -n "$new" ] && [ "$new" != "$old" ] && break
        nap 0.1
    done
    if [ -n "$new" ] && [ "$new" != "$old" ]; then
        ip xfrm state >>"$d/xfrm.state"
        status rekey "s=$s" "old=$old" "new=$new" result=ok
    else
        status rekey "s=$s" "old=$old" "new=$new" result=fail
        return 1
    fi
}

# child_spi_in DIR: the inbound SPI of the newest installed CHILD_SA.
child_spi_in() {
    swanctl_ "$1" --list-sas 2>/dev/null | sed -n 's/.* in  \([0-9a-f]\{8\}\).*/\1/p' | tail -n 1
}

# --- the server role --------------------------------------------------------------
#
# server_run ENVFILE: strongSwan responder + xl2tpd LNS + pppd, configured by
# ENVFILE: ipsec (yes|no), psk, users ("name:password ..."), auth (which of
# mschapv2,chap,pap pppd requires: the client picks among them), ike, esp,
# local (the server's PPP address), pool (A-B), behind (an address on a dummy
# interface, reachable through the tunnel), log, s (session name).
# Reports "STATUS server_ready s=... addr=... local=... behind=... kernel_l2tp=yes",
# then one
# ppp_up / ppp_down line per client session (user=).
server_run() {
    local s="" ipsec=yes psk="" users="" auth="mschapv2,chap,pap" ike="" esp="" log=""
    local local_ip=10.97.8.1 pool=10.97.8.10-10.97.8.99 behind=10.97.9.1
    # shellcheck source=/dev/null
    . "$1"
    local d=/run/vm/$s addr=${VM_ADDR%/*}
    mkdir -p "$d"
    : >"/run/l2sec/$s.pids"
    if [ -n "$behind" ]; then
        ip link add behind0 type dummy 2>/dev/null
        ip addr add "$behind/32" dev behind0
        ip link set behind0 up
    fi
    if [ "$ipsec" = yes ]; then
        write_strongswan_conf "$d" "${log:-default = 1}"
        cat >"$d/swanctl.conf" <<CONF
connections {
  l2tp {
    version = 1
    local_addrs = $addr
    remote_addrs = %any
    proposals = $ike
    rekey_time = 0
    local {
      auth = psk
    }
    remote {
      auth = psk
    }
    children {
      l2tp {
        mode = transport
        local_ts = dynamic[udp/1701]
        remote_ts = dynamic[udp]
        esp_proposals = $esp
      }
    }
  }
}
secrets {
  ike-l2tp {
    secret = "$psk"
  }
}
CONF
        start_charon "$s" "$d" || return 1
        swanctl_ "$d" --load-all --file "$d/swanctl.conf" >"$d/swanctl.log" 2>&1 ||
            { status fail "s=$s" "why=swanctl_load"; return 1; }
        : >"/run/l2sec/$s.xfrm-on-up"  # ppp_hook: ip xfrm state >> $d/xfrm.state at each ip-up
    fi
    local u
    : >/etc/ppp/chap-secrets
    for u in $users; do
        printf '"%s" * "%s" *\n' "${u%%:*}" "${u#*:}" >>/etc/ppp/chap-secrets
    done
    cp /etc/ppp/chap-secrets /etc/ppp/pap-secrets
    {
        echo "ipparam $s"
        echo "auth"
        case ,$auth, in *,mschapv2,*) echo require-mschap-v2 ;; esac
        case ,$auth, in *,chap,*) echo require-chap ;; esac
        case ,$auth, in *,pap,*) echo require-pap ;; esac
        echo "noccp"
        echo "nodefaultroute"
        echo "proxyarp"
        echo "mru 1400"
        echo "mtu 1400"
        echo "lcp-echo-failure 0"
        echo "lcp-echo-interval 0"
        echo "logfile $d/pppd.log"
        echo "debug"
    } >"$d/ppp-options"
    cat >"$d/xl2tpd.conf" <<CONF
[global]
port = 1701
listen-addr = $addr

[lns default]
ip range = $pool
local ip = $local_ip
require authentication = yes
name = l2sec-vm-lns
pppoptfile = $d/ppp-options
length bit = yes
CONF
    : >"$d/l2tp-secrets"
    xl2tpd -D -c "$d/xl2tpd.conf" -s "$d/l2tp-secrets" -p "/run/l2sec/$s.xl2tpd.pid" -C "/run/l2sec/$s.xl2tpd.ctl" \
        >"$d/xl2tpd.log" 2>&1 &
    xl2tpd_pid=$!
    pids_add "$s" $!
    # Ready once xl2tpd listens (it logs its kernel-L2TP detection before).
    if ! wait_for 10 log_has "$d/xl2tpd.log" "Listening on IP address"; then
        status fail "s=$s" "why=xl2tpd_not_listening"
        return 1
    fi
    local kernel=no
    log_has "$d/xl2tpd.log" "Using l2tp kernel support" && kernel=yes
    status server_ready "s=$s" "addr=$addr" "local=$local_ip" "pool=$pool" "behind=$behind" "kernel_l2tp=$kernel"
}

# log_has FILE TEXT: FILE contains TEXT (read by the shell: no grep fork).
log_has() {
    local line
    while IFS= read -r line; do
        [[ $line == *"$2"* ]] && return 0
    done <"$1"
    return 1
}
