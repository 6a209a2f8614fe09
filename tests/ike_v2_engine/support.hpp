// What the IKEv2 engine suites share: an engine with the test generator and
// one PSK, the two endpoints the in-memory network gives them, a
// connection from one to the other, and whether ESP sealed with one Child
// SA opens with the other.
#pragma once

#include "ike_engine/harness.hpp"

#include <l2sec/esp/sa.hpp>
#include <l2sec/ike/v2/engine.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <memory>
#include <string_view>

namespace l2sec::test::ike2 {

namespace v2 = l2sec::ike::v2;
template <class Limits = v2::default_limits, class B = crypto::botan>
using engine = v2::engine<B, ike1::rng, Limits>;

inline const ike1::endpoint server_ep = ike1::ep(198, 51, 100, 1, 500);
inline const ike1::endpoint client_ep = ike1::ep(192, 0, 2, 10, 500);

template <class E = engine<>>
std::unique_ptr<E> make(std::uint64_t seed, const v2::config& cfg = {},
                        std::string_view psk = "l2sec-v2-psk") {
    auto e = E::make(cfg, ike1::rng(seed), v2::single_psk(as_bytes(psk)));
    REQUIRE(e.has_value());
    return std::make_unique<E>(std::move(*e));
}

inline v2::connection conn(ike1::endpoint local = client_ep, ike1::endpoint peer = server_ep) {
    v2::connection c;
    c.local = local;
    c.peer = peer;
    return c;
}

/// A UDP datagram sealed with `from`'s outbound SA opens with `to`'s inbound one.
template <class B = crypto::botan>
bool esp_crosses(const v2::child_sa& from, const v2::child_sa& to) {
    ike1::rng r(7);
    auto out = esp::sa<B>::make(from.outbound_config(), r);
    auto in = esp::sa<B>::make(to.inbound_config(), r);
    if (!out || !in) return false;
    std::array<std::byte, 256> buf{};
    const char msg[] = "L2TP over ESP, IKEv2";
    std::memcpy(buf.data() + 64, msg, sizeof msg);
    auto pkt = out->protect(buf, 64, sizeof msg, esp::proto::udp);
    if (!pkt) return false;
    auto got = in->unprotect(*pkt);
    return got && got->payload.size() == sizeof msg &&
           std::memcmp(got->payload.data(), msg, sizeof msg) == 0;
}

}  // namespace l2sec::test::ike2
