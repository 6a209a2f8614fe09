// ESP (RFC 4303): packet codec, anti-replay window, security associations
// over any crypto backend, IP tunnel/transport helpers and UDP encapsulation
// for NAT traversal (RFC 3948). Add <l2sec/crypto/botan.hpp> for the Botan backend.
#pragma once

#include <l2sec/esp/algorithms.hpp>
#include <l2sec/esp/error.hpp>
#include <l2sec/esp/ip.hpp>
#include <l2sec/esp/packet.hpp>
#include <l2sec/esp/replay_window.hpp>
#include <l2sec/esp/sa.hpp>
#include <l2sec/esp/sad.hpp>
#include <l2sec/esp/udp_encap.hpp>
