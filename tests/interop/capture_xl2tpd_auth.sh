#!/usr/bin/env bash
# xl2tpd LAC <-> LNS with tunnel authentication and hidden AVPs:
# capture_xl2tpd.sh with L2SEC_XL2TPD_AUTH=1. Writes
# $L2SEC_BUILD/captures/xl2tpd_auth.pcap. Exit 77 = skipped (reason printed).
L2SEC_XL2TPD_AUTH=1 exec bash "$(dirname "$0")/capture_xl2tpd.sh" "$@"
