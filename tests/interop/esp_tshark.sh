#!/usr/bin/env bash
# Interop: ESP packets protected by l2sec (every suite; raw ESP over IPv4,
# ESP in UDP 4500, raw ESP over IPv6) are decrypted by tshark with the same
# keys, and tshark must show each ICV as good and find the inner IPv4/UDP
# packet (an L2TP Hello on port 1701, or filler to port 9) inside.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
BUILD=${L2SEC_BUILD:-$(dirname "$0")/../../build}
TEST_BIN="$BUILD/tests/l2sec-test-esp"
need_tools tshark
need_built "$TEST_BIN" "build target l2sec-test-esp"
bound_runtime 120
make_workdir esp-tshark

L2SEC_ESP_PCAP_OUT="$work" timeout 60 "$TEST_BIN" -tc="interop: write*" >/dev/null

# tshark's names for our suites ("" = tshark cannot decrypt it).
enc_name() {
    case "$1" in
        aes128-gcm|aes256-gcm) echo "AES-GCM with 16 octet ICV [RFC4106]" ;;
        aes*-cbc-*) echo "AES-CBC [RFC3602]" ;;
        null-*) echo "NULL" ;;
        chacha20-poly1305)
            if strings "$(ldconfig -p | awk '/libwireshark.so/ && !f {print $NF; f = 1}')" 2>/dev/null |
                grep 'ChaCha20.*RFC7634' >/dev/null; then echo "ChaCha20 with Poly1305 [RFC7634]"; fi ;;
    esac
}
auth_name() {
    case "$1" in
        *-gcm|chacha20-poly1305) echo "NULL" ;;
        *-sha1) echo "HMAC-SHA-1-96 [RFC2404]" ;;
        *-sha256) echo "HMAC-SHA-256-128 [RFC4868]" ;;
        *-sha384) echo "HMAC-SHA-384-192 [RFC4868]" ;;
        *-sha512) echo "HMAC-SHA-512-256 [RFC4868]" ;;
        *-md5) echo "HMAC-MD5-96 [RFC2403]" ;;
    esac
}

opts=()
declare -A want
skipped=()
while read -r spi suite ek ik variant; do
    enc=$(enc_name "$suite")
    if [ -z "$enc" ]; then
        skipped+=("$suite")
        continue
    fi
    [ "$ek" = "-" ] && ek=""
    [ "$ik" = "-" ] && ik=""
    spi_hex=$(printf '0x%08x' "$spi")
    if [ "$variant" = 2 ]; then addrs='"IPv6","2001:db8::1","2001:db8::2"'; else addrs='"IPv4","192.0.2.1","192.0.2.2"'; fi
    opts+=(-o "uat:esp_sa:$addrs,\"$spi_hex\",\"$enc\",\"0x$ek\",\"$(auth_name "$suite")\",\"0x$ik\"")
    want[$((spi))]="$suite"
done <"$work/esp.keys"

timeout 60 tshark -r "$work/esp.pcap" -o esp.enable_encryption_decode:TRUE \
    -o esp.enable_authentication_check:TRUE "${opts[@]}" \
    -T fields -e esp.spi -e esp.sequence -e esp.icv_good -e esp.protocol -e udp.dstport \
    2>/dev/null >"$work/out.tsv"

fail=0
checked=0
declare -A per_suite
while IFS=$'\t' read -r spi seq good nh ports; do
    spi=$((spi))
    suite=${want[$spi]:-}
    [ -z "$suite" ] && continue
    checked=$((checked + 1))
    if [ "$good" != "1" ] || [ "$nh" != "0x04" ] || ! [[ "$ports" =~ (^|,)(1701|9)$ ]]; then
        echo "FAIL: $suite spi=$spi seq=$seq icv_good=$good next_header=$nh udp=$ports"
        fail=1
    else
        per_suite[$suite]=$((${per_suite[$suite]:-0} + 1))
    fi
done <"$work/out.tsv"

for s in "${!per_suite[@]}"; do echo "ok: $s: ${per_suite[$s]} packets decrypted by tshark, ICV good"; done | sort
for s in $(printf "%s\n" "${skipped[@]}" | sort -u); do echo "note: tshark $(tshark --version 2>/dev/null | sed -n '1s/^TShark (Wireshark) \([^ ]*\).*/\1/p') cannot decrypt $s; not checked"; done
expected=$(( ${#want[@]} * 3 ))
if [ "$checked" -ne "$expected" ]; then
    echo "FAIL: tshark reported $checked packets, expected $expected"
    fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS: $checked ESP packets from l2sec verified by tshark"
exit $fail
