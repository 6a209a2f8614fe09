#!/usr/bin/env bash
# Captures real IKE exchanges between two strongSwan charons, each in its own
# network namespace (and mount namespace, for its own /run), with PSK auth:
#   v2cbc : IKEv2 IKE_SA_INIT + IKE_AUTH, aes128-sha256-modp2048 (AES-CBC + HMAC)
#   v2gcm : IKEv2 IKE_SA_INIT + IKE_AUTH, aes256gcm16-prfsha384-ecp384
#   v1    : IKEv1 Main Mode + Quick Mode, aes128-sha1-modp2048, transport mode
#           with the L2TP/IPsec selectors (udp/1701)
#   v1aes256: the same with aes256-sha1-ecp384 (Windows' first choice; the
#           AES-256 key needs RFC 2409 Appendix B key expansion with SHA-1)
# charon logs at "ike 4" (DH secret, SKEYSEED/SKEYID, SK_* keys).
# Passes when every exchange reaches ESTABLISHED and the capture holds the
# expected number of IKE messages, and l2sec's test suite (if built) decodes it.
# With L2SEC_IKE_CAPTURE_OUT=<dir> the pcaps and logs are copied there (this
# is how tests/data/ike_*.pcap were made).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_root "for network namespaces"
need_charon
need_tools dumpcap
bound_runtime 120
tag=l2ike$$
ns1=${tag}a
ns2=${tag}b
make_workdir ike
make_netns_pair "$tag" 10.99.0.1/24 10.99.0.2/24

# conf <dir> <local> <remote> <connection> <child>
conf() {
    local d=$1 me=$2 peer=$3 conn=$4 child=$5
    mkdir -p "$d"
    write_strongswan_conf "$d" "" "time_format = %s, default = 1, ike = 4, cfg = 2, chd = 4, enc = 2, lib = 1" \
        "install_routes = no" "install_virtual_ip = no" "retransmit_tries = 2"
    # One connection per pair of charons (a responder picks the first config
    # that matches the addresses, so several would shadow each other).
    local ver prop esp
    case $conn in
        v2cbc) ver=2 prop=aes128-sha256-modp2048 esp=aes128-sha256 ;;
        v2gcm) ver=2 prop=aes256gcm16-prfsha384-ecp384 esp=aes256gcm16 ;;
        v1) ver=1 prop=aes128-sha1-modp2048 esp=aes128-sha1 ;;
        v1aes256) ver=1 prop=aes256-sha1-ecp384 esp=aes256-sha1 ;;
    esac
    cat >"$d/swanctl.conf" <<CONF
connections {
  $conn {
    version = $ver
    local_addrs = $me
    remote_addrs = $peer
    proposals = $prop
    local { auth = psk
      id = $me }
    remote { auth = psk
      id = $peer }
    children { $child { mode = transport
      local_ts = dynamic[udp/1701]
      remote_ts = dynamic[udp/1701]
      esp_proposals = $esp } }
  }
}
secrets {
  ike-1 {
    id-1 = 10.99.0.1
    id-2 = 10.99.0.2
    secret = "l2sec-ike-test-psk"
  }
}
CONF
}

# run <conn> <child>: a fresh pair of charons, one exchange, one pcap
run() {
    local conn=$1 child=$2 d1=$work/$1/i d2=$work/$1/r
    conf "$d1" 10.99.0.1 10.99.0.2 "$conn" "$child"
    conf "$d2" 10.99.0.2 10.99.0.1 "$conn" "$child"
    start_capture "$work/$conn.pcap" "udp port 500 or udp port 4500" "v$tag" "$ns1"
    start_charon "$ns1" "$d1" || return 2
    start_charon "$ns2" "$d2" || return 2
    sleep 0.5
    load_swanctl_conf "$d1" || return 1
    load_swanctl_conf "$d2" || return 1
    initiate_child "$d1" "$conn" "$child"
    sleep 1
    stop_all
    if ! grep -q "IKE_SA $conn\[1\] established" "$d1/charon.log"; then
        echo "FAIL: $conn did not reach ESTABLISHED"; cat "$d1/initiate.log"; tail -30 "$d1/charon.log"; return 1
    fi
    echo "$conn: established"
    if [ -n "${L2SEC_IKE_CAPTURE_OUT:-}" ]; then
        mkdir -p "$L2SEC_IKE_CAPTURE_OUT"
        cp "$work/$conn.pcap" "$L2SEC_IKE_CAPTURE_OUT/ike_$conn.pcap"
        cp "$d1/charon.log" "$L2SEC_IKE_CAPTURE_OUT/ike_$conn.initiator.log"
        cp "$d2/charon.log" "$L2SEC_IKE_CAPTURE_OUT/ike_$conn.responder.log"
        # The secrets as tests/data/ike_<conn>.keys holds them: the initiator's, then the
        # CHILD_SA keys the responder derived (prefixed responder_).
        { /usr/bin/python3 "$interop_dir/ike_keys.py" "$d1/charon.log"
          /usr/bin/python3 "$interop_dir/ike_keys.py" "$d2/charon.log" |
              grep -E '^(seed|encryption_|integrity_)' | sed 's/^/responder_/'
        } >"$L2SEC_IKE_CAPTURE_OUT/ike_$conn.keys"
    fi
    local n
    n=$(tshark -r "$work/$conn.pcap" -Y isakmp 2>/dev/null | wc -l)
    echo "$conn: $n IKE messages captured"
    [ "$n" -ge 4 ] || { echo "FAIL: too few IKE messages"; return 1; }
    if command -v tshark >/dev/null && [ -n "$(tshark -r "$work/$conn.pcap" -Y _ws.malformed 2>/dev/null)" ]; then
        echo "FAIL: tshark flags a malformed packet in $conn"; return 1
    fi
    return 0
}

rc=0
for c in "v2cbc c2cbc" "v2gcm c2gcm" "v1 c1" "v1aes256 c1aes256"; do
    run $c
    r=$?
    [ $r -eq 2 ] && skip "charon cannot start here"
    [ $r -ne 0 ] && rc=1
done
exit $rc
