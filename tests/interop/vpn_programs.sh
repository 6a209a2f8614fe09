#!/usr/bin/env bash
# Interop: l2sec-server and l2sec-client as programs, over real sockets in
# network namespaces this script makes, with the Linux kernel (routing,
# masquerade, ping, TUN) and tshark as the peers nobody here wrote.
#
#   S (server, 192.0.2.1) -- R (router) -- D (198.51.100.2, routed: raw ESP)
#                                R masquerades 10.0.1.0/24 (N1) and 10.0.2.0/24 (N2)
#                                to 192.0.2.254 (ESP in UDP 4500)
#
# (a) direct client, raw ESP; (b) one client behind the NAT; (c) two clients
# behind it at once; (d) --tun on both sides and the kernel's ping through the
# TUN devices both ways, an 8 MB TCP flow each way through offloading TUNs
# (--tun-offload), plus --tun with --ping; (e) --keylog + a capture that
# tshark decrypts down to ICMP in PPP in L2TP, and IKEv1 (FILE.ikev1); (f) wrong PSK and wrong
# password: non-zero exit naming the cause; (g) --config FILE on both
# programs; (h) SIGTERM: l2tp_session_down and esp_sa_down in the server's --json;
# (i) --workers 2 with a multi-queue TUN. Both crypto backends on each side:
# the main server runs OpenSSL (--crypto openssl in its config file), client
# (a) Botan, the others OpenSSL (the default), the 2-worker server Botan.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
BUILD=${L2SEC_BUILD:-$(dirname "$0")/../../build}
SRV="$BUILD/examples/server/l2sec-server"
CLI="$BUILD/examples/client/l2sec-client"
need_built "$SRV" "build target l2sec-server"
need_built "$CLI" "build target l2sec-client"
need_root "for network namespaces, raw ESP and TUN devices"
need_tools ip iptables ping tshark dumpcap
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
bound_runtime 90
make_workdir vpn-programs

t=vp$$
S=${t}s R=${t}r D=${t}d N1=${t}n1 N2=${t}n2
for ns in $S $R $D $N1 $N2; do
    ip netns add "$ns" 2>/dev/null || skip "cannot create network namespaces here"
    netns_made+=("$ns")
    # ip netns exec needs / to be a mount point (it makes it rslave): not so in a bare chroot
    ip -n "$ns" link set lo up 2>/dev/null || skip "cannot enter network namespaces here (ip netns exec)"
done
# link NS1 IF1 ADDR1 NS2 IF2 ADDR2
link() {
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || skip "cannot create veth pairs"
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$4" addr add "$6" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}
link "$S" s0 192.0.2.1/24 "$R" rs 192.0.2.254/24
link "$D" d0 198.51.100.2/24 "$R" rd 198.51.100.254/24
link "$N1" n0 10.0.1.2/24 "$R" rn1 10.0.1.254/24
link "$N2" n0 10.0.2.2/24 "$R" rn2 10.0.2.254/24
D2=${t}e
ip netns add "$D2" && netns_made+=("$D2") && ip -n "$D2" link set lo up
# 203.0.113.6 and 198.51.100.2 are on different shards of 2 (shard_of, by address).
link "$D2" d0 203.0.113.6/24 "$R" re 203.0.113.254/24
ip -n "$D2" route add default via 203.0.113.254
ip -n "$S" route add default via 192.0.2.254
ip -n "$D" route add default via 198.51.100.254
ip -n "$N1" route add default via 10.0.1.254
ip -n "$N2" route add default via 10.0.2.254
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$R" iptables -t nat -A POSTROUTING -s 10.0.0.0/16 -o rs -j MASQUERADE 2>"$work/ipt.err" ||
    skip "iptables cannot masquerade in a namespace: $(cat "$work/ipt.err")"

failed=0
fail() {
    echo "FAIL: $*"
    failed=1
}
ok() { echo "ok: $*"; }

printf 'alice wonderland\nbob builder\n# a comment\n' >"$work/users"
# (g) the server from a config file: "key value", "key = value", flags alone.
cat >"$work/server.conf" <<CONF
# l2sec-server configuration
listen 192.0.2.1
psk = secret
users $work/users
tun l2s0
local-ip 10.10.0.1
pool = 10.10.0.100-10.10.0.150
dns 192.0.2.53
json
keylog $work/server.keys
crypto openssl
tun-offload
CONF

start_capture "$work/vpn.pcap" "udp port 500 or udp port 4500 or esp" s0 "$S"
ip netns exec "$S" "$SRV" --config "$work/server.conf" >"$work/server.json" 2>"$work/server.err" &
server_pid=$!
pids+=("$server_pid")
retry 50 0.1 grep -q . "$work/server.err" "$work/server.json" 2>/dev/null || true
sleep 0.3
kill -0 "$server_pid" 2>/dev/null || {
    cat "$work/server.err"
    echo "FAIL: l2sec-server did not start"
    exit 1
}

# client NS NAME ARGS...: runs l2sec-client in NS (output in $work/NAME.out,
# errors in $work/NAME.err); returns its exit status.
client() {
    local ns=$1 name=$2
    shift 2
    local rc=0
    timeout 30 ip netns exec "$ns" "$CLI" --server 192.0.2.1 --psk secret "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    return $rc
}
show() {
    echo "--- $1:"
    cat "$work/$1.out" "$work/$1.err" 2>/dev/null | tail -n 20
}

# (a) + (g): direct, raw ESP, the client from a config file.
cat >"$work/client.conf" <<CONF
user alice
password = wonderland
auth mschapv2
ping 10.10.0.1
count 3
json
crypto botan
CONF
if client "$D" a --config "$work/client.conf" &&
    grep -q '"event":"esp_sa".*"udp_encap":false' "$work/a.out" &&
    grep -q '"event":"ping","sent":[0-9]*,"answered":3' "$work/a.out" &&
    grep -q '"event":"client_up".*"crypto":"botan"' "$work/a.out"; then
    ok "(a)+(g) direct client (Botan) to the server (OpenSSL) over raw ESP, configured by --config, 3/3 echoes"
else
    fail "(a) direct client"
    show a
fi
grep -q '"dns":"192.0.2.53"' "$work/a.out" && ok "DNS from the server shown by the client" ||
    fail "the client did not show the DNS server"

# A second server on the same ports: refused at startup, saying why.
rc=0
timeout 10 ip netns exec "$S" "$SRV" --listen 192.0.2.1 --psk x --users "$work/users" --no-tun \
    >"$work/dup.out" 2>"$work/dup.err" || rc=$?
if [ $rc -ne 0 ] && grep -q 'holds the port' "$work/dup.err"; then
    ok "a second server on UDP 500 exits $rc: \"$(head -n 1 "$work/dup.err")\""
else
    fail "a second server on the same ports (exit $rc)"
    cat "$work/dup.err"
fi

rc=0
timeout 10 "$SRV" --listen 192.0.2.1 --psk x --users "$work/users" --crypto nope >/dev/null 2>"$work/crypto.err" || rc=$?
[ $rc -eq 2 ] && grep -q -- '--crypto: not a crypto library' "$work/crypto.err" &&
    ok "--crypto nope: exit 2, \"$(head -n 1 "$work/crypto.err")\"" ||
    { fail "--crypto nope (exit $rc)"; cat "$work/crypto.err"; }

# Other startup failures name their cause: a TUN name taken by another
# interface, and no privileges (run as nobody).
rc=0
timeout 10 ip netns exec "$S" "$SRV" --listen 192.0.2.1 --psk x --users "$work/users" --tun s0 \
    --ike-port 1500 --nat-port 14500 --no-raw-esp >/dev/null 2>"$work/tun.err" || rc=$?
[ $rc -ne 0 ] && grep -q 'cannot create TUN s0.*pick another --tun name' "$work/tun.err" &&
    ok "TUN name in use: exit $rc, \"$(head -n 1 "$work/tun.err")\"" ||
    { fail "TUN name in use (exit $rc)"; cat "$work/tun.err"; }
if command -v setpriv >/dev/null; then
    rc=0
    chmod 711 "$work"
    chmod 644 "$work/users"
    timeout 10 ip netns exec "$S" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$SRV" --listen 192.0.2.1 --psk x --users "$work/users" --ike-port 600 --nat-port 4600 \
        >/dev/null 2>"$work/noroot.err" || rc=$?
    [ $rc -ne 0 ] && grep -q 'run as root' "$work/noroot.err" &&
        ok "no privileges: exit $rc, \"$(head -n 1 "$work/noroot.err")\"" ||
        { fail "unprivileged start (exit $rc)"; cat "$work/noroot.err"; }
fi

# (b) one client behind the NAT.
if client "$N1" b --user bob --password builder --auth mschapv2 --ping 10.10.0.1 --count 3 --json &&
    grep -q '"udp_encap":true' "$work/b.out" && grep -q '"event":"client_up".*"crypto":"openssl"' "$work/b.out"; then
    ok "(b) client (OpenSSL, the default) behind masquerade, ESP in UDP 4500"
else
    fail "(b) client behind NAT"
    show b
fi

# (c) two clients behind the same NAT at once.
client "$N1" c1 --user alice --password wonderland --ping 10.10.0.1 --count 5 --json &
c1=$!
client "$N2" c2 --user bob --password builder --ping 10.10.0.1 --count 5 --json &
c2=$!
rc1=0 rc2=0
wait "$c1" || rc1=$?
wait "$c2" || rc2=$?
p1=$(grep -o '"peer":"192.0.2.254:[0-9]*"' "$work/c1.out" | head -1 || true)
p2=$(grep -o '"peer":"192.0.2.254:[0-9]*"' "$work/c2.out" | head -1 || true)
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]; then
    ok "(c) two clients behind one NAT at once, both 5/5"
else
    fail "(c) two clients behind one NAT (exit $rc1 and $rc2)"
    show c1
    show c2
fi
n_peers=$(grep '"event":"ike_established"' "$work/server.json" | grep -o '"peer":"192.0.2.254:[0-9]*"' | sort -u | wc -l)
[ "$n_peers" -ge 2 ] && ok "the server saw the NAT's address on $n_peers different ports" ||
    fail "the server did not see two NATed peers (${p1:-?} ${p2:-?})"

# (d) --tun on both sides; the kernel's ping through the TUN devices both ways.
ip netns exec "$D" "$CLI" --server 192.0.2.1 --psk secret --user alice --password wonderland \
    --tun l2c0 --tun-offload --hold 30 --json >"$work/d.out" 2>"$work/d.err" &
d_pid=$!
pids+=("$d_pid")
# has_inet NS DEV: DEV in NS has its IPv4 address (the client sets it once PPP is up).
has_inet() { ip -n "$1" -4 -o addr show "$2" 2>/dev/null | grep -q inet; }
if retry 100 0.1 grep -qs '"event":"client_up"' "$work/d.out" && retry 30 0.1 has_inet "$D" l2c0; then
    cip=$(ip -n "$D" -4 -o addr show l2c0 | awk '{print $4}' | cut -d/ -f1)
    if ip netns exec "$D" ping -n -c 3 -i 0.2 -W 2 10.10.0.1 >"$work/ping_d.txt" 2>&1; then
        ok "(d) kernel ping client -> server through both TUN devices"
    else
        fail "(d) ping client -> server"
        cat "$work/ping_d.txt"
    fi
    if ip netns exec "$S" ping -n -c 3 -i 0.2 -W 2 "$cip" >"$work/ping_s.txt" 2>&1; then
        ok "(d) kernel ping server -> client ($cip) through both TUN devices"
    else
        fail "(d) ping server -> client $cip"
        cat "$work/ping_s.txt"
    fi
    # A bulk TCP flow each way through the offloading TUNs (both programs run
    # with --tun-offload): the sender's kernel hands over 64 KiB TSO
    # super-packets that the program cuts into segments, the receiving
    # program coalesces them again. The bytes must arrive whole.
    if command -v python3 >/dev/null; then
        head -c 8000000 /dev/urandom >"$work/bulk"
        want=$(sha256sum <"$work/bulk" | cut -d' ' -f1)
        # tcp_pass NS_RX ADDR NS_TX PORT: NS_RX listens on ADDR:PORT, NS_TX sends the file.
        tcp_pass() {
            ip netns exec "$1" timeout 30 python3 -c "
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$2', $4)); s.listen(1); c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())" >"$work/tcp_rx.$4" 2>&1 &
            local rx=$!
            sleep 0.5
            ip netns exec "$3" timeout 30 python3 -c "
import socket
c = socket.create_connection(('$2', $4), timeout=20); c.sendall(open('$work/bulk', 'rb').read()); c.close()" 2>"$work/tcp_tx.$4"
            wait "$rx"
            [ "$(cat "$work/tcp_rx.$4")" = "8000000 $want" ]
        }
        if tcp_pass "$S" 10.10.0.1 "$D" 5001; then
            ok "(d) --tun-offload: 8 MB TCP client -> server arrives whole (sha256)"
        else
            fail "(d) --tun-offload: TCP client -> server: $(cat "$work/tcp_rx.5001" "$work/tcp_tx.5001")"
        fi
        if tcp_pass "$D" "$cip" "$S" 5002; then
            ok "(d) --tun-offload: 8 MB TCP server -> client arrives whole (sha256)"
        else
            fail "(d) --tun-offload: TCP server -> client: $(cat "$work/tcp_rx.5002" "$work/tcp_tx.5002")"
        fi
    else
        echo "SKIP (this case only): (d) --tun-offload TCP transfer needs python3"
    fi
else
    fail "(d) client with --tun did not come up"
    show d
fi
kill -TERM "$d_pid" 2>/dev/null || true
rc=0
wait "$d_pid" || rc=$?
[ $rc -eq 0 ] && grep -q '"event":"l2tp_session_down"' "$work/d.out" && ok "(d) client: SIGTERM tears down and exits 0" ||
    { fail "(d) client SIGTERM exit $rc"; show d; }
# --tun and --ping together: the self-test still counts its echo replies.
if client "$N1" dp --user bob --password builder --tun l2c1 --ping 10.10.0.1 --count 3 --json &&
    grep -q '"answered":3' "$work/dp.out"; then
    ok "(d) --tun with --ping: 3/3 echo replies counted"
else
    fail "(d) --tun with --ping"
    show dp
fi

# The client's own proposal list: AES-128-GCM offered alone is what the SA gets;
# a name that is no suite is refused before anything is sent.
if client "$N1" gcm --user bob --password builder --esp-proposals aes128-gcm --ping 10.10.0.1 \
    --count 2 --json && grep -q '"suite":"aes128-gcm"' "$work/gcm.out"; then
    ok "client --esp-proposals aes128-gcm: the ESP SA is AES-128-GCM, 2/2 echo replies"
else
    fail "client --esp-proposals aes128-gcm"
    show gcm
fi
# A suite the server does not take: its NO-PROPOSAL-CHOSEN ends the attempt
# at once (not the 20 s connect timeout), with a message saying so.
rc=0
t0=$(date +%s)
client "$N1" noprop --user bob --password builder --esp-proposals aes256-cbc-sha512 --timeout 20 || rc=$?
t1=$(date +%s)
if [ $rc -ne 0 ] && [ $((t1 - t0)) -lt 10 ] && grep -q 'no acceptable proposal' "$work/noprop.err"; then
    ok "client offering only AES-256-CBC + SHA-512 (not the server's): refused in $((t1 - t0)) s, exit $rc, \"$(head -n 1 "$work/noprop.err")\""
else
    fail "client offering only AES-256-CBC + SHA-512: exit $rc after $((t1 - t0)) s"
    show noprop
fi
rc=0
client "$N1" badp --user bob --password builder --esp-proposals rot13 || rc=$?
[ $rc -eq 2 ] && grep -q 'rot13' "$work/badp.err" && ok "client --esp-proposals rot13: exit 2, \"$(head -n 1 "$work/badp.err")\"" ||
    { fail "client --esp-proposals rot13 (exit $rc)"; show badp; }

# (f) wrong PSK, wrong password: non-zero exit, a message naming the cause.
rc=0
client "$D" f1 --psk wrong --user alice --password wonderland --timeout 6 || rc=$?
if [ $rc -ne 0 ] && grep -q 'pre-shared key' "$work/f1.err"; then
    ok "(f) wrong PSK: exit $rc, \"$(tail -n 1 "$work/f1.err")\""
else
    fail "(f) wrong PSK (exit $rc)"
    show f1
fi
rc=0
client "$D" f2 --user alice --password nope --timeout 10 || rc=$?
if [ $rc -ne 0 ] && grep -qi 'authentication' "$work/f2.err"; then
    ok "(f) wrong password: exit $rc, \"$(tail -n 1 "$work/f2.err")\""
else
    fail "(f) wrong password (exit $rc)"
    show f2
fi
grep -q '"event":"auth_failed".*"user":"alice"' "$work/server.json" && ok "(f) the server reports auth_failed for alice" ||
    fail "(f) no auth_failed report for alice in the server's log"
grep -q '"event":"failed","peer":"198.51.100.2:500".*"reason":"wrong PSK' "$work/server.json" &&
    ok "(f) the server names the wrong PSK of 198.51.100.2" || fail "(f) no wrong-PSK report in the server's log"
grep -q 'client_down.*authentication failed for user alice' "$work/f2.out" &&
    ok "(f) the client's client_down names the user" || fail "(f) no client_down naming alice"

# The --json event names of issue 10, each layer up and down, and the
# addresses of ppp_up from each side.
for ev in ike_established esp_sa l2tp_tunnel_up l2tp_session_up ppp_up ppp_down \
    l2tp_session_down l2tp_tunnel_down esp_sa_down client_down; do
    grep -q "\"event\":\"$ev\"" "$work/server.json" || fail "no $ev event in the server's --json"
done
grep -q '"event":"esp_sa".*"suite":"[a-z0-9-]*","encapsulation":"esp"' "$work/server.json" ||
    fail "no esp_sa with its suite and encapsulation"
grep -q '"event":"ppp_up".*"user":"alice","local_ip":"10.10.0.1","peer_ip":"10.10.0.1[0-9][0-9]"' "$work/server.json" &&
    grep -q '"event":"ppp_up".*"local_ip":"10.10.0.1[0-9][0-9]","peer_ip":"10.10.0.1"' "$work/a.out" &&
    ok "ppp_up: user, local_ip and peer_ip from each side" || fail "ppp_up without its addresses"

# Garbage on UDP 1701 and 500 is counted by reason: SIGUSR1 prints the stats line.
ip netns exec "$D" bash -c 'for i in 1 2 3; do echo garbage >/dev/udp/192.0.2.1/1701; echo junk >/dev/udp/192.0.2.1/500; done' || true
sleep 0.3
kill -USR1 "$server_pid"
if retry 30 0.1 grep -qs '"event":"stats".*"garbage_500":[1-9].*"garbage_1701":[1-9]' "$work/server.json"; then
    ok "SIGUSR1: $(grep '"event":"stats"' "$work/server.json" | tail -n 1)"
else
    fail "no stats line with the garbage counted after SIGUSR1"
    grep '"event":"\(stats\|dropped\)"' "$work/server.json" | tail -n 5
fi

# (h) SIGTERM to the server with a client up: orderly teardown in its --json.
ip netns exec "$N2" "$CLI" --server 192.0.2.1 --psk secret --user bob --password builder \
    --hold 20 --json >"$work/h.out" 2>"$work/h.err" &
h_pid=$!
pids+=("$h_pid")
retry 100 0.1 grep -qs '"event":"ppp_up"' "$work/h.out" || fail "(h) client did not come up"
before=$(grep -c '"event":"esp_sa_down"' "$work/server.json" || true)
kill -TERM "$server_pid"
rc=0
retry 100 0.1 all_exited "$server_pid" || fail "(h) the server did not exit within 10 s of SIGTERM"
wait "$server_pid" || rc=$?
after=$(grep -c '"event":"esp_sa_down"' "$work/server.json" || true)
if [ $rc -eq 0 ] && [ "$after" -gt "$before" ] && tail -n 30 "$work/server.json" | grep -q '"event":"l2tp_session_down"' &&
    tail -n 1 "$work/server.json" | grep -q '"event":"stopped"'; then
    ok "(h) SIGTERM: l2tp_session_down, esp_sa_down, stopped, exit 0"
else
    fail "(h) server teardown on SIGTERM (exit $rc)"
    tail -n 12 "$work/server.json" "$work/server.err"
fi
retry 50 0.1 all_exited "$h_pid" && ok "(h) the client left when the server tore down" ||
    fail "(h) the client still runs after the server left"

# (e) tshark decrypts the capture with the server's key log, down to ICMP
# inside PPP inside L2TP, for raw ESP and for ESP in UDP 4500.
stop_capture
opts=()
while read -r line; do
    opts+=(-o "uat:esp_sa:$line")
done <"$work/server.keys"
[ ${#opts[@]} -ge 4 ] || fail "(e) the key log holds ${#opts[@]} SAs"
timeout 60 tshark -r "$work/vpn.pcap" -o esp.enable_encryption_decode:TRUE \
    -o esp.enable_authentication_check:TRUE "${opts[@]}" -Y "icmp" \
    -T fields -e frame.protocols -e ip.src -e ip.dst -e icmp.type -e esp.icv_good -e udp.srcport \
    >"$work/decrypted.tsv" 2>"$work/tshark.err" || true
raw=$(grep -c 'ip:esp:udp:l2tp:ppp:ip:icmp' "$work/decrypted.tsv" || true)
nat=$(grep -c 'udpencap:esp:udp:l2tp:ppp:ip:icmp' "$work/decrypted.tsv" || true)
replies=$(awk -F'\t' '$4 ~ /(^|,)0$/' "$work/decrypted.tsv" | wc -l)
if [ "$raw" -ge 6 ] && [ "$nat" -ge 6 ] && [ "$replies" -ge 6 ]; then
    ok "(e) tshark decrypts $raw raw-ESP and $nat UDP-encapsulated ICMP packets inside PPP inside L2TP ($replies echo replies)"
else
    fail "(e) tshark found $raw raw ESP and $nat UDP-encapsulated ICMP packets, $replies replies"
    head -n 5 "$work/decrypted.tsv" "$work/tshark.err"
    tshark -r "$work/vpn.pcap" 2>/dev/null | head -n 10
fi
bad=$(awk -F'\t' '$5 ~ /False/' "$work/decrypted.tsv" | wc -l)
[ "$bad" -eq 0 ] && ok "(e) every decrypted ICV is good" || fail "(e) $bad packets with a bad ICV"

# (e) the IKE key log beside it (FILE.ikev1, ikev1_decryption_table lines)
# decrypts Main Mode 5/6 and Quick Mode: their ID payloads (UDP port 1701
# in Quick Mode's IDci/IDcr) exist for tshark only when the cookie and Ka are
# right, and a wrong line leaves "Encrypted Data" in their place.
ike_opts=()
while read -r line; do
    ike_opts+=(-o "uat:ikev1_decryption_table:$line")
done <"$work/server.keys.ikev1"
timeout 60 tshark -r "$work/vpn.pcap" "${ike_opts[@]}" -Y "isakmp" \
    -T fields -e isakmp.exchangetype -e isakmp.id.type -e isakmp.id.port \
    >"$work/ike.tsv" 2>"$work/tshark_ike.err" || true
mm_ids=$(awk -F'\t' '$1 == 2 && $2 != ""' "$work/ike.tsv" | wc -l)
qm_ids=$(awk -F'\t' '$1 == 32 && $3 ~ /1701/' "$work/ike.tsv" | wc -l)
if [ ${#ike_opts[@]} -ge 2 ] && [ "$mm_ids" -ge 4 ] && [ "$qm_ids" -ge 4 ]; then
    ok "(e) the ${#ike_opts[@]}-line IKEv1 key log decrypts $mm_ids Main Mode ID messages and $qm_ids Quick Mode messages (IDs with port 1701)"
else
    fail "(e) IKEv1 key log (${#ike_opts[@]} lines): $mm_ids decrypted Main Mode IDs, $qm_ids Quick Mode IDs"
    head -n 3 "$work/server.keys.ikev1" "$work/tshark_ike.err"
    head -n 12 "$work/ike.tsv"
fi

# (i) --workers 2: two direct peers on different workers (SO_REUSEPORT groups
# and raw ESP filters by outer address), a multi-queue TUN, the kernel's ping
# both ways for each (a reply may leave the TUN on the other worker's queue:
# it is passed over), and SIGTERM stops both workers.
ip netns exec "$S" "$SRV" --listen 192.0.2.1 --psk secret --users "$work/users" --tun l2s1 \
    --workers 2 --crypto botan --json >"$work/w.json" 2>"$work/w.err" &
w_pid=$!
pids+=("$w_pid")
sleep 0.5
for n in 1 2; do
    ns=$D
    [ $n = 2 ] && ns=$D2
    ip netns exec "$ns" "$CLI" --server 192.0.2.1 --psk secret --user alice --password wonderland \
        --tun l2w$n --hold 20 --json >"$work/w$n.out" 2>"$work/w$n.err" &
    pids+=($!)
done
if retry 100 0.1 grep -qs '"event":"client_up"' "$work/w1.out" && retry 50 0.1 grep -qs '"event":"client_up"' "$work/w2.out"; then
    for n in 1 2; do
        ns=$D
        [ $n = 2 ] && ns=$D2
        cip=$(grep -o '"event":"client_up","local_ip":"[0-9.]*"' "$work/w$n.out" | grep -o '[0-9.]*"$' | tr -d '"')
        retry 30 0.1 has_inet "$ns" l2w$n || fail "(i) l2w$n has no address"
        if ip netns exec "$ns" ping -n -c 3 -i 0.2 -W 2 10.10.0.1 >"$work/wping$n.txt" 2>&1 &&
            ip netns exec "$S" ping -n -c 3 -i 0.2 -W 2 "$cip" >>"$work/wping$n.txt" 2>&1; then
            ok "(i) --workers 2: kernel ping both ways with client $n ($cip)"
        else
            fail "(i) --workers 2: ping with client $n ($cip)"
            cat "$work/wping$n.txt"
        fi
    done
    if grep -q '"worker":0,.*"event":"ppp_up"\|"event":"ppp_up","worker":0' "$work/w.json" &&
        grep -q '"event":"ppp_up","worker":1' "$work/w.json"; then
        ok "(i) the two peers are served by workers 0 and 1"
    else
        fail "(i) the peers were not spread over both workers"
        grep ppp_up "$work/w.json"
    fi
else
    fail "(i) clients of the 2-worker server did not come up"
    show w1
    show w2
    tail -n 5 "$work/w.err"
fi
kill -TERM "$w_pid"
rc=0
retry 100 0.1 all_exited "$w_pid" || fail "(i) the 2-worker server did not stop within 10 s"
wait "$w_pid" || rc=$?
[ $rc -eq 0 ] && tail -n 1 "$work/w.json" | grep -q '"event":"stopped".*"workers":2.*"crypto":"botan"' &&
    ok "(i) SIGTERM stops both workers: $(tail -n 1 "$work/w.json")" ||
    { fail "(i) 2-worker server exit $rc"; tail -n 3 "$work/w.json" "$work/w.err"; }

[ $failed -eq 0 ] || {
    echo "--- server:"
    tail -n 30 "$work/server.err"
    exit 1
}
echo "PASS: l2sec-server and l2sec-client in namespaces (a-i)"
