#!/usr/bin/env bash
# tshark reads what the PPP codecs write: LCP (all option kinds we encode,
# Echo, Protocol-/Code-Reject, Terminate, Discard), IPCP, IPV6CP, PAP, CHAP and
# an ACFC+PFC IPv4 frame (DLT_PPP); and the RFC 1662 async-HDLC encoding of
# three of them, whose escaping and FCS-16/FCS-32 tshark's ppp_raw_hdlc
# dissector must accept ("Good" FCS status). No packet may be malformed or
# raise an expert warning.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

build=${L2SEC_BUILD:-build}
bin="$build/tests/l2sec-test-ppp"
need_tools tshark
need_built "$bin" "cmake --build <dir> --target l2sec-test-ppp"
bound_runtime 120
make_workdir ppp-tshark
export HOME="$work"  # tshark's profile directory: keep it out of the user's home

L2SEC_PPP_PCAP_OUT="$work/ppp.pcap" L2SEC_PPP_HDLC_OUT="$work/hdlc.pcap" \
  timeout 60 "$bin" -tc='tshark sample*' >"$work/test.log" 2>&1 || { cat "$work/test.log"; exit 1; }
[ -s "$work/ppp.pcap" ] && [ -s "$work/hdlc.pcap" ] || { echo "FAIL: sample files not written"; exit 1; }

ts() { timeout 60 tshark "$@" 2>/dev/null; }
fail=0

actual=$(ts -r "$work/ppp.pcap" -T fields -E separator='|' \
  -e frame.number -e ppp.protocol -e ppp.code -e ppp.identifier -e ppp.length \
  -e lcp.opt.mru -e lcp.opt.auth_protocol -e lcp.opt.algorithm -e lcp.opt.magic_number \
  -e lcp.opt.mrru -e lcp.opt.ep_disc_class -e lcp.opt.ip_address -e lcp.opt.asyncmap \
  -e lcp.magic_number -e lcp.rej_proto \
  -e ipcp.opt.ip_address -e ipcp.opt.pri_dns_address -e ipcp.opt.sec_dns_address \
  -e ipcp.opt.pri_nbns_address -e ipcp.opt.sec_nbns_address -e ipcp.opt.compress_proto \
  -e ipcp.opt.max_slot_id -e ipcp.opt.comp_slot_id -e ipv6cp.interface_identifier \
  -e pap.code -e pap.peer_id -e pap.password -e pap.message \
  -e chap.code -e chap.value -e chap.name -e chap.message -e ip.dst)
expected=$(cat <<'TABLE'
1|0xc021|1|1|29|1462|0xc023||0x6b08dfa6|1614|2|127.0.0.1|||||||||||||||||||||
2|0xc021|1|1|29|1400|0xc223|5|0x01020304||||0x000a0000||||||||||||||||||||
3|0xc021|1|1|9||0xc223|129|||||||||||||||||||||||||
4|0xc021|9|9|12|||||||||0xcafebabe|||||||||||||||||||
5|0xc021|8|10|8||||||||||0x8281||||||||||||||||||
6|0xc021|7|11|10||||||||||||||||||||||||||||
7|0xc021|5|12|7||||||||||||||||||||||||||||
8|0xc021|11|13|8|||||||||0x11223344|||||||||||||||||||
9|0x8021|1|1|40|||||||||||192.168.0.2|8.8.8.8|8.8.4.4|10.0.0.1|10.0.0.2|0x002d|15|1||||||||||
10|0x8057|1|1|14|||||||||||||||||||02:11:22:ff:fe:33:44:55|||||||||
11|0xc023|||||||||||||||||||||||1|user|secret||||||
12|0xc023|||||||||||||||||||||||2|||welcome|||||
13|0xc223|||||||||||||||||||||||||||1|00112233445566778899aabbccddeeff|lns||
14|0xc223|||||||||||||||||||||||||||2|0f0e0d0c0b0a09080706050403020100|user||
15|0xc223|||||||||||||||||||||||||||3|||Welcome|
16|0x0021|||||||||||||||||||||||||||||||10.0.0.2
TABLE
)
if [ "$actual" != "$expected" ]; then
  echo "FAIL: tshark reads our PPP packets differently:"
  diff <(echo "$expected") <(echo "$actual") || true
  fail=1
else
  echo "ok: tshark reads all 16 PPP frames field for field as encoded"
fi

bad=$(ts -r "$work/ppp.pcap" -Y '_ws.malformed || _ws.expert.severity >= "Warning"' | wc -l)
if [ "$bad" -ne 0 ]; then
  echo "FAIL: $bad PPP frames malformed or with expert warnings"
  ts -r "$work/ppp.pcap" -Y '_ws.malformed || _ws.expert.severity >= "Warning"' -V | head -60
  fail=1
else
  echo "ok: no malformed packet, no expert warning"
fi

# Async HDLC: records 1-3 carry FCS-16, 4-6 FCS-32.
dlt='uat:user_dlts:"User 0 (DLT=147)","ppp_raw_hdlc","0","","0",""'
h16=$(ts -r "$work/hdlc.pcap" -o "$dlt" -o ppp.fcs_type:16-Bit -T fields -E separator='|' \
  -e frame.number -e ppp.protocol -e ppp.fcs.status -e lcp.opt.mru -e pap.peer_id | head -3)
h32=$(ts -r "$work/hdlc.pcap" -o "$dlt" -o ppp.fcs_type:32-Bit -T fields -E separator='|' \
  -e frame.number -e ppp.protocol -e ppp.fcs.status -e lcp.opt.mru -e pap.peer_id | tail -3)
exp16=$'1|0xc021|1|1462|\n2|0xc021|1|1400|\n3|0xc023|1||user'
exp32=$'4|0xc021|1|1462|\n5|0xc021|1|1400|\n6|0xc023|1||user'
if [ "$h16" != "$exp16" ] || [ "$h32" != "$exp32" ]; then
  echo "FAIL: tshark's ppp_raw_hdlc disagrees with our HDLC framing / FCS:"
  echo "$h16"; echo "$h32"
  fail=1
else
  echo "ok: tshark unescapes our async-HDLC frames and finds FCS-16 and FCS-32 good"
fi
bad16=$(ts -r "$work/hdlc.pcap" -o "$dlt" -o ppp.fcs_type:16-Bit -Y 'frame.number <= 3 && (_ws.malformed || _ws.expert.severity >= "Warning")' | wc -l)
bad32=$(ts -r "$work/hdlc.pcap" -o "$dlt" -o ppp.fcs_type:32-Bit -Y 'frame.number > 3 && (_ws.malformed || _ws.expert.severity >= "Warning")' | wc -l)
if [ "$bad16" -ne 0 ] || [ "$bad32" -ne 0 ]; then
  echo "FAIL: HDLC frames malformed or with expert warnings ($bad16 FCS-16, $bad32 FCS-32)"
  fail=1
fi
exit $fail
