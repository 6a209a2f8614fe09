#!/usr/bin/env bash
# l2sec-inspect agrees with tshark on IKE: on the real strongSwan captures
# (tests/data/ike_*.pcap, IKEv2 SK payloads decrypted by both with the keys
# charon logged) and on messages built with l2sec's builders (which tshark
# must dissect with no malformed flag, and whose SK ICVs it must find correct).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
B=${L2SEC_BUILD:-build}
S=${L2SEC_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
inspect=$B/examples/inspect/l2sec-inspect
gen=$B/tests/l2sec-test-ike
need_tools tshark
need_built "$inspect"
need_built "$gen"
bound_runtime 120
make_workdir ike-tshark
py=/usr/bin/python3
rc=0

fields=(-T fields -e frame.number -e isakmp.version -e isakmp.exchangetype -e isakmp.ispi
        -e isakmp.rspi -e isakmp.messageid -e isakmp.flag_i -e isakmp.flag_r
        -e isakmp.typepayload -e isakmp.notify.msgtype)

# compare NAME PCAP [tshark decryption uat entries...] -- [inspect options...]
compare() {
    local name=$1 pcap=$2
    shift 2
    local topts=() iopts=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do topts+=(-o "$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    iopts=("$@")
    timeout 60 tshark -r "$pcap" "${topts[@]}" "${fields[@]}" -Y isakmp >"$work/$name.tsv" 2>/dev/null
    timeout 60 tshark -r "$pcap" "${topts[@]}" -V >"$work/$name.txt" 2>/dev/null
    timeout 60 "$inspect" --no-skipped "${iopts[@]}" "$pcap" >"$work/$name.jsonl"
    echo "== $name"
    $py "$S/tests/interop/ike_compare.py" "$work/$name.tsv" "$work/$name.txt" "$work/$name.jsonl" || rc=1
    if [ -n "$(timeout 60 tshark -r "$pcap" "${topts[@]}" -Y _ws.malformed 2>/dev/null)" ]; then
        echo "FAIL: tshark flags a malformed packet in $name"; rc=1
    fi
}

key() { grep "^$2 " "$S/tests/data/ike_$1.keys" | cut -d' ' -f2; }
spis() { tshark -r "$S/tests/data/ike_$1.pcap" -T fields -e isakmp.ispi -e isakmp.rspi -Y "frame.number==2" 2>/dev/null; }

read -r si sr < <(spis v2cbc)
compare v2cbc "$S/tests/data/ike_v2cbc.pcap" \
    "uat:ikev2_decryption_table:$si,$sr,$(key v2cbc sk_ei_secret),$(key v2cbc sk_er_secret),\"AES-CBC-128 [RFC3602]\",$(key v2cbc sk_ai_secret),$(key v2cbc sk_ar_secret),\"HMAC_SHA2_256_128 [RFC4868]\"" \
    -- --ikev2-sa "$si:$sr:$(key v2cbc sk_ei_secret):$(key v2cbc sk_er_secret):$(key v2cbc sk_ai_secret):$(key v2cbc sk_ar_secret):aes128-cbc:hmac-sha256-128"
read -r si sr < <(spis v2gcm)
compare v2gcm "$S/tests/data/ike_v2gcm.pcap" \
    "uat:ikev2_decryption_table:$si,$sr,$(key v2gcm sk_ei_secret),$(key v2gcm sk_er_secret),\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"" \
    -- --ikev2-sa "$si:$sr:$(key v2gcm sk_ei_secret):$(key v2gcm sk_er_secret):::aes256-gcm:none"
compare v1 "$S/tests/data/ike_v1.pcap"
compare v1aes256 "$S/tests/data/ike_v1aes256.pcap"

# Messages built with l2sec (keys fixed in tests/ike/ike_build_tests.cpp).
L2SEC_IKE_GEN_PCAP=$work/gen.pcap "$gen" -tc="messages built*" >"$work/gen.log" 2>&1 ||
    { echo "FAIL: generator"; cat "$work/gen.log"; exit 1; }
e1=$(printf 'e1%.0s' $(seq 16)); a1=$(printf 'a1%.0s' $(seq 32)); g1=$(printf 'e1%.0s' $(seq 20))
cbc="uat:ikev2_decryption_table:1111111111111111,2222222222222222,$e1,$e1,\"AES-CBC-128 [RFC3602]\",$a1,$a1,\"HMAC_SHA2_256_128 [RFC4868]\""
gcm="uat:ikev2_decryption_table:3333333333333333,4444444444444444,$g1,$g1,\"AES-GCM-128 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\""
compare generated "$work/gen.pcap" "$cbc" "$gcm" -- \
    --ikev2-sa "1111111111111111:2222222222222222:$e1:$e1:$a1:$a1:aes128-cbc:hmac-sha256-128" \
    --ikev2-sa "3333333333333333:4444444444444444:$g1:$g1:::aes128-gcm:none"
n=$(tshark -r "$work/gen.pcap" -o "$cbc" -o "$gcm" -V 2>/dev/null | grep -c "Integrity Checksum Data.*\[correct\]")
[ "$n" -ge 5 ] || { echo "FAIL: tshark does not find l2sec's SK ICV correct"; rc=1; }
echo "tshark verified $n SK integrity checksum(s) computed by l2sec"
exit $rc
