// The IKE engines take the same seams as the others: a user-written random
// source (SPIs, cookies, nonces, IVs and DH private values all come from it)
// and a user-written pre-shared-key store (the place a database plugs in),
// checked by their concepts.
#include <l2sec/crypto/botan.hpp>
#include <l2sec/crypto/portable.hpp>
#include <l2sec/ike/v1/engine.hpp>
#include <l2sec/ike/v2/engine.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string_view>

using namespace l2sec;

namespace {

int fills = 0, lookups = 0;

/// One's own generator (the OS's, counted). Move-only.
struct my_random {
    my_random() = default;
    my_random(my_random&&) noexcept = default;
    my_random(const my_random&) = delete;
    bool fill(mutable_bytes out) noexcept {
        ++fills;
        return os.fill(out);
    }
    crypto::portable::random os;
};
static_assert(crypto::random_source<my_random>);

/// One's own PSK store: one key for 10.0.0.0/8, none for anyone else.
struct my_psks {
    std::optional<std::size_t> find_psk(const transport::endpoint& peer, bytes_view,
                                        std::span<std::byte> out) noexcept {
        ++lookups;
        if (peer.addr[0] != 10) return std::nullopt;
        constexpr std::string_view k = "from my database";
        if (out.size() < k.size()) return std::nullopt;
        std::memcpy(out.data(), k.data(), k.size());
        return k.size();
    }
};
static_assert(ike::v1::psk_store<my_psks>);
static_assert(ike::v2::psk_store<my_psks>);

const auto a = transport::endpoint::v4(10, 0, 0, 1, 500);
const auto b = transport::endpoint::v4(10, 0, 0, 2, 500);

/// Move datagrams between the two until both are quiet; count Child SAs up.
template <class E>
int pump(E& x, E& y, std::chrono::steady_clock::time_point now) {
    int up = 0;
    for (int round = 0; round < 50; ++round) {
        bool any = false;
        while (auto d = x.poll_datagram()) {
            any = true;
            y.receive(d->data, d->peer, d->local, now);
        }
        while (auto d = y.poll_datagram()) {
            any = true;
            x.receive(d->data, d->peer, d->local, now);
        }
        for (E* e : {&x, &y})
            while (auto ev = e->poll_event())
                up += ev->kind == decltype(ev->kind)::child_up;
        if (!any) break;
    }
    return up;
}

}  // namespace

/// Both roles of engine `E`, each with its own random source and PSK store:
/// one Child SA each side, keys looked up, randomness drawn from the source.
template <class E, class Connection>
void handshake_with_own_policies() {
    fills = lookups = 0;
    auto x = E::make({}, my_random{}, my_psks{});
    auto y = E::make({}, my_random{}, my_psks{});
    REQUIRE(x);
    REQUIRE(y);
    const auto now = std::chrono::steady_clock::time_point{} + std::chrono::seconds(1);
    Connection c;
    c.local = a;
    c.peer = b;
    REQUIRE(x->connect(c, now));
    CHECK(pump(*x, *y, now) == 2);  // one child_up on each side
    CHECK(fills >= 6);              // cookies/SPIs, nonces, DH values, IVs, ESP SPIs
    CHECK(lookups >= 2);            // each side found the key for the other
}

TEST_CASE("IKEv1 with a user-written random source and PSK store: both roles, one Child SA") {
    handshake_with_own_policies<
        ike::v1::engine<crypto::botan, my_random, ike::v1::default_limits, my_psks>,
        ike::v1::connection>();
}

TEST_CASE("IKEv2 with a user-written random source and PSK store: both roles, one Child SA") {
    handshake_with_own_policies<
        ike::v2::engine<crypto::botan, my_random, ike::v2::default_limits, my_psks>,
        ike::v2::connection>();
}
