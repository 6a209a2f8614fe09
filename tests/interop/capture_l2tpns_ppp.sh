#!/usr/bin/env bash
# A whole PPP session with l2tpns (LCP, PAP via RADIUS, IPCP, Echo, Terminate):
# capture_l2tpns.sh with the LAC's pppd replaced by fake_pppd.py. Writes
# $L2SEC_BUILD/captures/l2tpns_ppp.pcap. Exit 77 = skipped (reason printed).
L2SEC_L2TPNS_PPP=1 exec bash "$(dirname "$0")/capture_l2tpns.sh" "$@"
