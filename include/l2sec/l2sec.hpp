// Everything l2sec offers. Prefer a single protocol's header (<l2sec/l2tp.hpp>,
// <l2sec/ppp.hpp>, ...) when you need only one.
#pragma once

#include <l2sec/core.hpp>
#include <l2sec/crypto.hpp>
#include <l2sec/esp.hpp>
#include <l2sec/ike.hpp>
#include <l2sec/l2tp.hpp>
#include <l2sec/pcap.hpp>
#include <l2sec/ppp.hpp>
#include <l2sec/transport.hpp>
