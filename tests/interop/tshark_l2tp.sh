#!/usr/bin/env bash
# Cross-checks l2sec against tshark, the reference dissector:
#  1. l2sec-l2tp-gen builds every L2TP control message type (with hidden AVPs,
#     a vendor AVP, ZLB) and data messages carrying LCP/IPCP/IPV6CP/PAP/CHAP,
#     on the non-standard UDP port 11701, into a pcap with real checksums;
#  2. tshark dissects it (-d udp.port==11701,l2tp, checksum validation on) and
#     l2sec-inspect prints it; compare_tshark.py checks that both agree field by
#     field, that tshark flags nothing malformed and no expert warning/error,
#     and that every IPv4/UDP checksum is Good;
#  3. the same comparison on the committed real captures of xl2tpd and l2tpns.
# Needs the build tree (L2SEC_BUILD) with examples built. Exit 77 = skipped.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
src=${L2SEC_SOURCE:-$(cd "$here/../.." && pwd)}
build=${L2SEC_BUILD:-$src/build}
inspect=$build/examples/inspect/l2sec-inspect
gen=$build/examples/inspect/l2sec-l2tp-gen

need_tools tshark
need_python3
for b in "$inspect" "$gen"; do
    need_built "$b" "configure with L2SEC_BUILD_EXAMPLES=ON"
done
bound_runtime 120
make_workdir tshark
export HOME=$work  # tshark writes a profile directory; keep it out of the user's home

tshark -G values 2>/dev/null | grep -P '^V\tl2tp\.avp\.type\t' >"$work/avp_names.tsv"
status=0

compare() {  # name pcap port [extra compare args...]
    local name=$1 pcap=$2 port=$3
    shift 3
    local decode=()
    [ "$port" != 1701 ] && decode=(-d "udp.port==$port,l2tp")
    local check=()
    for a in "$@"; do
        [ "$a" = --checksums ] && check=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE)
    done
    if ! timeout 60 tshark -r "$pcap" -T pdml "${decode[@]}" "${check[@]}" \
        >"$work/$name.pdml" 2>"$work/$name.tshark.err"; then
        echo "FAIL: tshark could not read $pcap"; cat "$work/$name.tshark.err"; status=1; return
    fi
    local secret_args=()
    for a in "$@"; do
        case $a in --secret=*) secret_args=(--l2tp-secret "${a#--secret=}") ;; esac
    done
    if ! "$inspect" --l2tp-port "$port" "${secret_args[@]}" "$pcap" >"$work/$name.jsonl"; then
        echo "FAIL: l2sec-inspect failed on $pcap"; status=1; return
    fi
    echo "== $name ($pcap)"
    if ! /usr/bin/python3 "$here/compare_tshark.py" "$work/$name.jsonl" "$work/$name.pdml" \
        "$work/avp_names.tsv" "$@"; then
        status=1
    fi
}

"$gen" --port 11701 --secret l2sec-secret "$work/generated.pcap" || { echo "FAIL: generator"; exit 1; }
compare generated "$work/generated.pcap" 11701 --checksums --secret=l2sec-secret
# Loopback captures carry offloaded (partial) UDP checksums: not checked there.
for real in xl2tpd_lns xl2tpd_auth l2tpns l2tpns_ppp l2tpns_chap; do
    if [ -f "$src/tests/data/$real.pcap" ]; then
        compare "$real" "$src/tests/data/$real.pcap" 1701
    else
        echo "FAIL: tests/data/$real.pcap missing"; status=1
    fi
done
# Every message type must be in the generated capture (guards the generator).
types=$(tshark -r "$work/generated.pcap" -d udp.port==11701,l2tp -T fields \
    -e l2tp.avp.message_type 2>/dev/null | cut -d, -f1 | sort -un | tr '\n' ' ')
[ "$(echo $types)" = "1 2 3 4 6 7 8 9 10 11 12 14 15 16" ] || {
    echo "FAIL: generated capture has message types '$types'"; status=1; }
[ $status -eq 0 ] && echo "OK: l2sec-inspect and tshark agree"
exit $status
