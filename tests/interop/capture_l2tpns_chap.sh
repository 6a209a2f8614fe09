#!/usr/bin/env bash
# A PPP session with l2tpns using CHAP-MD5, held 12 s so that l2tpns's LCP
# Echo-Requests are captured: capture_l2tpns.sh with L2SEC_L2TPNS_PPP=1 and
# L2SEC_L2TPNS_AUTH=chap. Writes $L2SEC_BUILD/captures/l2tpns_chap.pcap.
# Exit 77 = skipped (reason printed).
L2SEC_L2TPNS_PPP=1 L2SEC_L2TPNS_AUTH=chap exec bash "$(dirname "$0")/capture_l2tpns.sh" "$@"
