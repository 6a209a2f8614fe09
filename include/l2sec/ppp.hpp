// PPP codecs: frames (as carried in L2TP), RFC 1662 async HDLC framing,
// LCP/IPCP/IPV6CP control packets with typed options, PAP and CHAP, and
// MTU/MRU helpers for L2TP/IPsec.
#pragma once

#include <l2sec/ppp/any_option.hpp>
#include <l2sec/ppp/chap.hpp>
#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/error.hpp>
#include <l2sec/ppp/frame.hpp>
#include <l2sec/ppp/hdlc.hpp>
#include <l2sec/ppp/ipcp.hpp>
#include <l2sec/ppp/ipv6cp.hpp>
#include <l2sec/ppp/lcp.hpp>
#include <l2sec/ppp/mtu.hpp>
#include <l2sec/ppp/pap.hpp>
