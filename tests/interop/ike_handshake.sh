#!/usr/bin/env bash
# Real handshakes between l2sec and strongSwan: a charon responder in one
# network namespace, l2sec's test binary (the "... with a strongSwan
# responder" test cases) in another.
#  - IKEv2, twice (AES-CBC+HMAC with ECP-256, AES-GCM-16 with Curve25519):
#    l2sec builds IKE_SA_INIT (with NAT detection hashes, checked against
#    charon's), derives the keys, moves to UDP 4500 (non-ESP marker), sends
#    IKE_AUTH with a PSK AUTH in an SK payload, verifies the responder's AUTH,
#    deletes the IKE SA.
#  - IKEv1 Main Mode (PSK) + Quick Mode with the L2TP/IPsec selectors
#    (udp/1701, transport): HASH_I/HASH(1)/HASH(3) from l2sec, HASH_R/HASH(2)
#    verified by l2sec, CBC with chained IVs both ways.
# Passes when l2sec's checks pass and charon logged the IKE SAs established
# and answered Quick Mode; the capture must dissect in tshark with no
# malformed packet.
set -u
B=${L2SEC_BUILD:-build}
tag=l2hs$$
ns1=${tag}a
ns2=${tag}b
work=$(mktemp -d /tmp/l2sec-ike-hs-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns1" 2>/dev/null
    ip netns del "$ns2" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
skip() { echo "SKIP: $*"; exit 77; }

test_bin=$B/tests/l2sec-test-ike
[ -x "$test_bin" ] || skip "$test_bin not built"
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
charon=/usr/lib/ipsec/charon
[ -x "$charon" ] || skip "strongSwan charon not installed ($charon)"
command -v swanctl >/dev/null || skip "swanctl not installed (strongswan-swanctl)"
[ -e /usr/lib/ipsec/plugins/libstrongswan-openssl.so ] || skip "strongSwan openssl plugin missing (libstrongswan-standard-plugins)"
ip netns add "$ns1" 2>/dev/null || skip "cannot create network namespaces here"
ip netns add "$ns2" || skip "cannot create a second network namespace"
ip link add v${tag} netns "$ns1" type veth peer name w${tag} netns "$ns2" || skip "cannot create veth pair"
ip -n "$ns1" addr add 10.99.2.1/24 dev v${tag}
ip -n "$ns2" addr add 10.99.2.2/24 dev w${tag}
for ns in "$ns1" "$ns2"; do ip -n "$ns" link set lo up; done
ip -n "$ns1" link set v${tag} up
ip -n "$ns2" link set w${tag} up

d=$work/r
mkdir -p "$d"
cat >"$d/strongswan.conf" <<CONF
charon {
  load = random nonce aes sha1 sha2 hmac gcm openssl pem pkcs1 x509 kdf kernel-netlink socket-default vici
  install_routes = no
  filelog {
    log {
      path = $d/charon.log
      flush_line = yes
      default = 1
      ike = 2
      cfg = 2
    }
  }
  plugins {
    vici {
      socket = unix://$d/charon.vici
    }
  }
}
CONF
cat >"$d/swanctl.conf" <<CONF
connections {
  l2sec {
    version = 2
    local_addrs = 10.99.2.2
    remote_addrs = 10.99.2.1
    proposals = aes128-sha256-ecp256, aes256gcm16-prfsha384-curve25519
    local { auth = psk
      id = 10.99.2.2 }
    remote { auth = psk
      id = 10.99.2.1 }
    children { c { esp_proposals = aes128-sha256 } }
  }
  l2sec1 {
    version = 1
    local_addrs = 10.99.2.2
    remote_addrs = 10.99.2.1
    proposals = aes128-sha1-modp2048
    local { auth = psk
      id = 10.99.2.2 }
    remote { auth = psk
      id = 10.99.2.1 }
    children { l2tp { mode = transport
      local_ts = dynamic[udp/1701]
      remote_ts = dynamic[udp/1701]
      esp_proposals = aes128-sha1 } }
  }
}
secrets {
  ike-1 {
    id-1 = 10.99.2.1
    id-2 = 10.99.2.2
    secret = "l2sec-ike-test-psk"
  }
}
CONF

if command -v dumpcap >/dev/null; then
    ip netns exec "$ns1" dumpcap -q -P -i v${tag} -f "udp port 500 or udp port 4500" -w "$work/hs.pcap" >/dev/null 2>&1 &
    pids+=($!)
fi
ip netns exec "$ns2" unshare -m sh -c "mount -t tmpfs tmpfs /run && STRONGSWAN_CONF=$d/strongswan.conf exec $charon" \
    >"$d/stdout" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    [ -S "$d/charon.vici" ] && break
    sleep 0.1
done
[ -S "$d/charon.vici" ] || { cat "$d/stdout"; skip "charon did not start"; }
STRONGSWAN_CONF=$d/strongswan.conf swanctl --load-all --file "$d/swanctl.conf" --uri "unix://$d/charon.vici" >"$d/load.log" 2>&1 ||
    { cat "$d/load.log"; echo "FAIL: swanctl --load-all"; exit 1; }
sleep 0.5

rc=0
L2SEC_IKE_PEER=10.99.2.2 L2SEC_IKE_LOCAL=10.99.2.1 timeout 60 ip netns exec "$ns1" \
    "$test_bin" -tc="*with a strongSwan responder*" -s >"$work/test.log" 2>&1 || rc=1
grep -E "MESSAGE|responder notify|payloads|ERROR|passed|failed" "$work/test.log" | head -20
sleep 0.5
for c in l2sec l2sec1; do
    if grep -q "IKE_SA $c\[[0-9]*\] established" "$d/charon.log"; then
        echo "charon: $(grep -m1 "IKE_SA $c\[[0-9]*\] established" "$d/charon.log" | sed 's/^.*IKE_SA/IKE_SA/')"
    else
        echo "FAIL: charon did not establish IKE SA $c"; rc=1
    fi
done
n2=$(grep -c "IKE_SA l2sec\[[0-9]*\] established" "$d/charon.log")
echo "charon established $n2 IKEv2 SAs (aes128-cbc/ecp256 and aes256-gcm16/curve25519)"
[ "$n2" -ge 2 ] || { echo "FAIL: expected two IKEv2 SAs"; rc=1; }
# l2sec's NAT_DETECTION hashes are right: charon sees no NAT.
if grep -q "behind NAT" "$d/charon.log"; then
    echo "FAIL: charon thinks there is a NAT (wrong NAT detection hash)"; grep "behind NAT" "$d/charon.log"; rc=1
fi
# IKEv1 Quick Mode: charon accepted HASH(1) (it answered) and HASH(3) (no hash error logged).
grep -q "generating QUICK_MODE response" "$d/charon.log" || { echo "FAIL: no Quick Mode response"; rc=1; }
grep -q "parsed QUICK_MODE request [0-9]* \[ HASH \]" "$d/charon.log" || { echo "FAIL: QM3 not parsed"; rc=1; }
if grep -iE "hash.*(invalid|mismatch|verification failed)|integrity check failed" "$d/charon.log"; then
    echo "FAIL: charon rejected a hash"; rc=1
fi
grep -E "parsed|generating" "$d/charon.log" | sed 's/^.*\] /charon: /' | head -16
[ $rc -eq 0 ] || grep -E "IKE\]|ENC\]|CHD\]" "$d/charon.log" | tail -25
if [ -f "$work/hs.pcap" ] && command -v tshark >/dev/null; then
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.5
    n=$(tshark -r "$work/hs.pcap" -Y isakmp 2>/dev/null | wc -l)
    echo "captured $n IKE messages"
    if [ -n "$(tshark -r "$work/hs.pcap" -Y _ws.malformed 2>/dev/null)" ]; then
        echo "FAIL: tshark flags a malformed packet"; rc=1
    fi
fi
exit $rc
