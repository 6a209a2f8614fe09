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
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
B=${L2SEC_BUILD:-build}
test_bin=$B/tests/l2sec-test-ike
need_built "$test_bin"
need_root "for network namespaces"
need_charon
bound_runtime 120
tag=l2hs$$
ns1=${tag}a
ns2=${tag}b
make_workdir ike-hs
make_netns_pair "$tag" 10.99.2.1/24 10.99.2.2/24

d=$work/r
mkdir -p "$d"
write_strongswan_conf "$d" "" "default = 1, ike = 2, cfg = 2" "install_routes = no"
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

capture=0
if command -v dumpcap >/dev/null; then
    start_capture "$work/hs.pcap" "udp port 500 or udp port 4500" "v$tag" "$ns1"
    capture=1
fi
start_charon "$ns2" "$d" || skip "charon did not start"
load_swanctl_conf "$d" || { echo "FAIL: swanctl --load-all"; exit 1; }
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
if [ $capture -eq 1 ] && command -v tshark >/dev/null; then
    stop_all
    n=$(tshark -r "$work/hs.pcap" -Y isakmp 2>/dev/null | wc -l)
    echo "captured $n IKE messages"
    if [ -n "$(tshark -r "$work/hs.pcap" -Y _ws.malformed 2>/dev/null)" ]; then
        echo "FAIL: tshark flags a malformed packet"; rc=1
    fi
fi
exit $rc
