#!/usr/bin/env bash
# Interop with a real ESP implementation: strongSwan's userspace ESP
# (kernel-libipsec, tunnel mode, ESP in UDP 4500) between two charons, each in
# its own network and mount namespace. After IKEv2 sets up the CHILD_SA, UDP
# datagrams carrying an L2TP Hello go through the tunnel (and ICMP errors come
# back). charon logs the CHILD_SA keys ("chd 4"). Then l2sec protects three
# Hellos with the same SA, sends them in place of the initiator, and the
# responder's libipsec must accept and deliver them. Finally l2sec-inspect
# --esp-sa must decrypt every captured ESP packet of both directions with a
# good ICV and find all six inner L2TP Hellos. Repeated for each ESP proposal.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
BUILD=${L2SEC_BUILD:-$(dirname "$0")/../../build}
INSPECT="$BUILD/examples/inspect/l2sec-inspect"
TEST_BIN="$BUILD/tests/l2sec-test-esp"
need_root "for network namespaces"
need_charon kernel-libipsec libcharon-extra-plugins
need_tools dumpcap
[ -c /dev/net/tun ] || skip "/dev/net/tun missing (kernel-libipsec needs a TUN device)"
need_built "$INSPECT"
need_built "$TEST_BIN"
bound_runtime 120
tag=l2esp$$
ns1=${tag}a
ns2=${tag}b
make_workdir esp-ssw
make_netns_pair "$tag" 10.97.0.1/24 10.97.0.2/24
ip -n "$ns1" addr add 10.98.1.1/32 dev lo
ip -n "$ns2" addr add 10.98.2.1/32 dev lo

# conf <dir> <local> <remote> <local ts> <remote ts> <esp proposal>
conf() {
    local d=$1 me=$2 peer=$3 lts=$4 rts=$5 esp=$6
    mkdir -p "$d"
    write_strongswan_conf "$d" kernel-libipsec "default = 1, chd = 4" "retransmit_tries = 2"
    cat >"$d/swanctl.conf" <<CONF
connections {
  t {
    version = 2
    local_addrs = $me
    remote_addrs = $peer
    proposals = aes256-sha256-modp2048
    local { auth = psk
      id = $me }
    remote { auth = psk
      id = $peer }
    children { c { mode = tunnel
      local_ts = $lts
      remote_ts = $rts
      esp_proposals = $esp } }
  }
}
secrets {
  ike-1 {
    id-1 = 10.97.0.1
    id-2 = 10.97.0.2
    secret = "l2sec-esp-test-psk"
  }
}
CONF
}

# run <esp proposal> <l2sec suite>
run() {
    local esp=$1 suite=$2 d1=$work/$1/i d2=$work/$1/r
    conf "$d1" 10.97.0.1 10.97.0.2 10.98.1.1/32 10.98.2.1/32 "$esp"
    conf "$d2" 10.97.0.2 10.97.0.1 10.98.2.1/32 10.98.1.1/32 "$esp"
    start_capture "$work/$esp.pcap" "udp port 4500 or esp" "v$tag" "$ns1"
    start_charon "$ns1" "$d1" || return 2
    local charon1=$charon_pid
    start_charon "$ns2" "$d2" || return 2
    sleep 0.5
    load_swanctl_conf "$d1" || return 1
    load_swanctl_conf "$d2" || return 1
    initiate_child "$d1" t c
    if ! grep -qF "CHILD_SA c{1} established" "$d1/initiate.log"; then
        echo "FAIL: $esp: no CHILD_SA"; tail -20 "$d1/initiate.log"; return 1
    fi
    # Three L2TP Hellos 10.98.1.1:1701 -> 10.98.2.1:1701 through the tunnel.
    ip netns exec "$ns1" timeout 10 /usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.98.1.1", 1701))
hello = bytes.fromhex("c8020014000100000000000080080000000000 06".replace(" ", ""))
for _ in range(3):
    s.sendto(hello, ("10.98.2.1", 1701)); time.sleep(0.2)
'
    sleep 1
    local specs
    specs=$(/usr/bin/python3 - "$d1/charon.log" "$suite" <<'PY'
import re, sys
log, suite = open(sys.argv[1], errors="replace").read().splitlines(), sys.argv[2]
keys, cur = {}, None
for line in log:
    m = re.search(r"\[CHD\] (\w+) (initiator|responder) key => (\d+) bytes", line)
    if m:
        cur = (m.group(1), m.group(2)); keys[cur] = ""; continue
    m = re.search(r"\[CHD\]\s+\d+: ((?:[0-9A-F]{2} )+)", line)
    if m and cur:
        keys[cur] += m.group(1).replace(" ", "").lower(); continue
    cur = None
spi = re.search(r"established with SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o", "\n".join(log))
spi_in, spi_out = spi.group(1), spi.group(2)
def spec(spi, who):
    s = f"0x{spi}:{suite}:{keys[('encryption', who)]}"
    if ("integrity", who) in keys: s += ":" + keys[("integrity", who)]
    return s
print(spec(spi_out, "initiator"), spec(spi_in, "responder"))
PY
    ) || { echo "FAIL: $esp: keys not found in the charon log"; return 1; }
    set -- $specs
    # The other way round: l2sec protects three more Hellos with the initiator's
    # outbound SA (sequence numbers 100..102) and sends them from UDP 4500 in
    # place of the initiator's charon (killed without a DELETE); the
    # responder's libipsec must decrypt them and deliver the inner datagrams.
    kill -9 "$charon1" 2>/dev/null
    wait "$charon1" 2>/dev/null
    sleep 0.3
    ip netns exec "$ns2" timeout 8 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.98.2.1", 1701)); s.settimeout(6)
n = 0
try:
    while n < 3:
        d, a = s.recvfrom(2000)
        if a == ("10.98.1.1", 1701) and d.hex() == "c80200140001000000000000800800000000 0006".replace(" ", ""): n += 1
except socket.timeout:
    pass
open(sys.argv[1], "w").write(str(n))
' "$work/$esp.received" &
    local listener=$!
    pids+=("$listener")
    sleep 0.3
    local out_spec=${1#0x}
    out_spec=${out_spec%%:*}
    local keyhex=${1#*:*:}
    local ek=${keyhex%%:*} ik=-
    [ "$keyhex" != "$ek" ] && ik=${keyhex#*:}
    echo "$suite 0x$out_spec $ek $ik 100 3" >"$work/$esp.protect_in"
    L2SEC_ESP_PROTECT_IN="$work/$esp.protect_in" L2SEC_ESP_PROTECT_OUT="$work/$esp.protect_out" \
        timeout 30 "$TEST_BIN" -tc="interop: protect*" >/dev/null || { echo "FAIL: l2sec could not protect"; return 1; }
    ip netns exec "$ns1" timeout 10 /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.97.0.1", 4500))
for line in open(sys.argv[1]):
    s.sendto(bytes.fromhex(line.strip()), ("10.97.0.2", 4500)); time.sleep(0.1)
' "$work/$esp.protect_out"
    wait "$listener" 2>/dev/null
    local received
    received=$(cat "$work/$esp.received" 2>/dev/null || echo 0)
    sleep 0.5
    stop_capture
    stop_all
    if [ -n "${L2SEC_ESP_CAPTURE_OUT:-}" ]; then  # how tests/data/esp_strongswan_*.{pcap,keys} were made
        mkdir -p "$L2SEC_ESP_CAPTURE_OUT"
        cp "$work/$esp.pcap" "$L2SEC_ESP_CAPTURE_OUT/esp_strongswan_$esp.pcap"
        printf '%s\n%s\n' "$1" "$2" >"$L2SEC_ESP_CAPTURE_OUT/esp_strongswan_$esp.keys"
    fi
    if [ "$received" != "3" ]; then
        echo "FAIL: $esp: strongSwan delivered $received of 3 l2sec-protected packets"
        grep -i -E "esp|replay|icv|mac|verif" "$d2/charon.log" | tail -5
        return 1
    fi
    echo "$esp: 3 packets protected by l2sec accepted by strongSwan's libipsec and delivered"
    timeout 30 "$INSPECT" --no-skipped --esp-sa "$1" --esp-sa "$2" "$work/$esp.pcap" >"$work/$esp.jsonl"
    /usr/bin/python3 - "$work/$esp.jsonl" "$esp" <<'PY'
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1])]
esp = [f for f in frames if "esp" in f]
bad = [f for f in esp if not (f["esp"]["decrypted"] and f["esp"]["icv_ok"])]
hellos = [f for f in esp if f.get("l2tp", {}).get("type") == "HELLO"]
spis = {f["esp"]["spi"] for f in esp}
for f in bad: print("FAIL:", f)
print(f"{sys.argv[2]}: {len(esp)} ESP packets (strongSwan's and l2sec's, {len(spis)} SPIs, both directions) decrypted by l2sec,"
      f" ICV ok; {len(hellos)} inner L2TP Hellos decoded")
sys.exit(0 if esp and not bad and len(hellos) == 6 and len(spis) == 2 else 1)
PY
}

rc=0
# ESP proposal (strongSwan) : suite (l2sec); ESP_PROPOSALS narrows the list.
proposals=${ESP_PROPOSALS:-"aes256gcm16:aes256-gcm aes128gcm16:aes128-gcm aes128-sha1:aes128-cbc-sha1 aes256-sha256:aes256-cbc-sha256 aes128-sha512:aes128-cbc-sha512 chacha20poly1305:chacha20-poly1305"}
for p in $proposals; do
    run "${p%%:*}" "${p##*:}"
    r=$?
    [ $r -eq 2 ] && skip "charon cannot start here"
    [ $r -ne 0 ] && rc=1
done
[ $rc -eq 0 ] && echo "PASS"
exit $rc
