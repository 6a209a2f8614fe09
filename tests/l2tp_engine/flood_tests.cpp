// SCCRQ floods against the LNS: 20,000 SCCRQs from random ports of one
// address, then from random addresses, while an established tunnel carries
// data and new legitimate LACs open tunnels. The half-open limits
// (engine_config::max_half_open, max_half_open_per_peer, half_open_timeout)
// keep the flood's state bounded; the flood path allocates nothing.
#include <l2sec/crypto/botan/backend.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <vector>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include "l2tp_engine/names.hpp"

namespace {

using rnd = l2sec::testing::insecure_deterministic_random;
using eng = engine<l2sec::crypto::botan, limits<64, 128>, rnd>;

// An SCCRQ as a flood would send it: minimal, a random peer tunnel ID.
std::vector<std::byte> sccrq(std::uint16_t peer_tid) {
    std::array<std::byte, 128> buf{};
    message_builder b(buf, 0, 0, 0, 0);
    b.add(avps::message_type{message_type::sccrq})
        .add(avps::protocol_version{})
        .add(avps::host_name{l2sec::as_bytes("flood")})
        .add(avps::framing_capabilities{3})
        .add(avps::assigned_tunnel_id{peer_tid});
    auto m = b.finish();
    REQUIRE(m);
    return {m->begin(), m->end()};
}

// An LNS and two LACs, datagrams delivered directly by address; whatever the
// LNS sends to anyone else (the flood's sources) is counted and dropped.
struct world {
    const tr::endpoint lns_ep = tr::endpoint::v4(10, 0, 0, 2, 1701);
    const tr::endpoint a_ep = tr::endpoint::v4(10, 0, 0, 1, 1701);
    const tr::endpoint b_ep = tr::endpoint::v4(10, 0, 0, 3, 1701);
    std::unique_ptr<eng> lns, a, b;
    time_point now{};
    std::vector<engine_event> lns_events, a_events, b_events;
    std::size_t to_flood = 0, data_at_lns = 0, data_at_a = 0;
    std::size_t flood_allocations = 0, max_half_open = 0, max_tunnels = 0;
    std::array<std::byte, 1600> buf{};

    explicit world(const engine_config& lns_cfg) {
        engine_config lac{.host_name = "lac"};
        lac.accept_tunnels = false;
        lns = std::make_unique<eng>(lns_cfg, rnd(1));
        a = std::make_unique<eng>(lac, rnd(2));
        b = std::make_unique<eng>(lac, rnd(3));
    }

    // One flood SCCRQ from `from`, with a random peer tunnel ID; counts what
    // it allocated and how much state the LNS holds.
    l2sec::result<input> flood_one(const tr::endpoint& from,
                                   l2sec::testing::insecure_splitmix64& g) {
        const auto m = sccrq(static_cast<std::uint16_t>(1 + g.below(65535)));
        l2sec::test::alloc_guard guard;
        auto r = lns->handle_datagram(from, m, now);
        flood_allocations += guard.count();
        max_half_open = std::max(max_half_open, lns->half_open_count());
        max_tunnels = std::max(max_tunnels, lns->tunnel_count());
        return r;
    }

    void pump() {
        for (bool any = true; any;) {
            any = false;
            while (auto o = lns->poll_transmit(now, buf)) {
                any = true;
                const bytes_view d(buf.data(), o->size);
                if (o->to == a_ep) {
                    if (auto in = a->handle_datagram(lns_ep, d, now); in && in->data) ++data_at_a;
                } else if (o->to == b_ep) {
                    (void)b->handle_datagram(lns_ep, d, now);
                } else {
                    ++to_flood;
                }
            }
            for (auto [lac, from] : {std::pair{a.get(), a_ep}, std::pair{b.get(), b_ep}})
                while (auto o = lac->poll_transmit(now, buf)) {
                    any = true;
                    auto in = lns->handle_datagram(from, bytes_view(buf.data(), o->size), now);
                    if (in && in->data) ++data_at_lns;
                }
        }
        while (auto e = lns->poll_event())
            lns_events.push_back(*e);
        while (auto e = a->poll_event())
            a_events.push_back(*e);
        while (auto e = b->poll_event())
            b_events.push_back(*e);
    }
    void advance(l2sec::duration d) {
        now += d;
        lns->on_timer(now);
        a->on_timer(now);
        b->on_timer(now);
        pump();
    }
    static const engine_event* find(const std::vector<engine_event>& v, event_kind k) {
        for (auto& e : v)
            if (e.kind == k) return &e;
        return nullptr;
    }
    // A up with one session, both ends.
    std::uint16_t bring_up_a() {
        auto tid = a->open_tunnel(lns_ep, now);
        REQUIRE(tid);
        pump();
        auto sid = a->open_session(*tid, now);
        REQUIRE(sid);
        pump();
        REQUIRE(a->session_info(*sid));
        REQUIRE(a->session_info(*sid)->state == session_state::established);
        return *sid;
    }
    // One PPP frame each way on A's session.
    bool data_both_ways(std::uint16_t a_sid) {
        const auto lns_sid = a->session_info(a_sid)->peer_id;
        const auto frame = test::hex("ff 03 00 21 45 00");
        std::array<std::byte, 64> out{};
        const auto before_lns = data_at_lns, before_a = data_at_a;
        auto o = a->encode_data(a_sid, frame, out);
        if (!o) return false;
        auto in = lns->handle_datagram(a_ep, bytes_view(out.data(), o->size), now);
        if (!in || !in->data) return false;
        ++data_at_lns;
        auto r = lns->encode_data(lns_sid, frame, out);
        if (!r) return false;
        auto back = a->handle_datagram(lns_ep, bytes_view(out.data(), r->size), now);
        if (!back || !back->data) return false;
        ++data_at_a;
        return data_at_lns == before_lns + 1 && data_at_a == before_a + 1;
    }
};

}  // namespace

TEST_CASE(
    "flood: 20,000 SCCRQs from random ports of one address stop neither an established "
    "tunnel nor a new legitimate one") {
    engine_config cfg{.host_name = "lns"};
    world w(cfg);
    const auto a_sid = w.bring_up_a();
    l2sec::testing::insecure_splitmix64 g(42);
    std::size_t refused = 0, accepted = 0;
    std::optional<std::uint16_t> b_tid;
    for (int i = 0; i < 20000; ++i) {
        auto r = w.flood_one(
            tr::endpoint::v4(10, 6, 6, 6, static_cast<std::uint16_t>(1024 + g.below(60000))), g);
        if (r) {
            ++accepted;
        } else {
            REQUIRE(r.error() == engine_errc::half_open_limit);
            ++refused;
        }
        if (i == 10000) b_tid = *w.b->open_tunnel(w.lns_ep, w.now);  // a new LAC, mid-flood
        if (i % 50 == 49) w.advance(1ms * 50);  // 1 ms per SCCRQ: 20 s of flood
        if (i % 1000 == 999) REQUIRE(w.data_both_ways(a_sid));
    }
    w.advance(1s);
    CHECK(w.flood_allocations == 0);
    CHECK(w.max_half_open <= cfg.max_half_open_per_peer + 1);  // the flood's, and B's
    CHECK(refused >= 19990);
    CHECK(w.lns->stats().half_open_refused == refused);
    // The flood's tunnels expired after half_open_timeout (16 s), and new ones took their place.
    CHECK(w.lns->stats().half_open_expired >= 4);
    CHECK(accepted >= 8);
    CHECK(accepted <= 4 * (20 / 16 + 1));
    // A's tunnel was never disturbed; B's came up.
    CHECK(w.find(w.a_events, event_kind::tunnel_down) == nullptr);
    CHECK(w.a->tunnel_info(1)->state == tunnel_state::established);
    CHECK(w.data_both_ways(a_sid));
    REQUIRE(b_tid);
    CHECK(w.b->tunnel_info(*b_tid)->state == tunnel_state::established);
    auto b_up = w.find(w.b_events, event_kind::tunnel_up);
    REQUIRE(b_up);
    CHECK(w.lns->tunnel_info(w.b->tunnel_info(*b_tid)->peer_id)->state ==
          tunnel_state::established);
    CHECK(w.lns->stats().dropped == refused);
    // Once the flood stops, its tunnels expire and nothing is left half-open.
    w.advance(20s);
    CHECK(w.lns->half_open_count() == 0);
    CHECK(w.lns->tunnel_count() == 2);
}

TEST_CASE(
    "flood: 20,000 SCCRQs from random addresses: bounded state, the oldest half-open "
    "tunnel goes first, established tunnels and quick new ones survive") {
    engine_config cfg{.host_name = "lns"};
    world w(cfg);
    const auto a_sid = w.bring_up_a();
    l2sec::testing::insecure_splitmix64 g(43);
    std::optional<std::uint16_t> b_tid;
    for (int i = 0; i < 20000; ++i) {
        const auto from = tr::endpoint::v4(11, static_cast<std::uint8_t>(g.below(256)),
                                           static_cast<std::uint8_t>(g.below(256)),
                                           static_cast<std::uint8_t>(g.below(256)),
                                           static_cast<std::uint16_t>(1024 + g.below(60000)));
        REQUIRE(w.flood_one(from, g));
        // The legitimate LAC's round trip is shorter than ten flood SCCRQs.
        if (i == 10000) b_tid = *w.b->open_tunnel(w.lns_ep, w.now);
        if (i % 10 == 9) w.advance(1ms * 10);
        if (i % 1000 == 999) REQUIRE(w.data_both_ways(a_sid));
    }
    w.advance(1s);
    CHECK(w.flood_allocations == 0);
    CHECK(w.max_half_open == w.lns->half_open_limit());
    CHECK(w.lns->half_open_limit() == cfg.max_half_open);
    CHECK(w.max_tunnels <= cfg.max_half_open + 2);  // never the whole table
    CHECK(w.lns->stats().half_open_evicted >= 20000 - 2 * cfg.max_half_open);
    CHECK(w.find(w.a_events, event_kind::tunnel_down) == nullptr);
    CHECK(w.data_both_ways(a_sid));
    REQUIRE(b_tid);
    CHECK(w.b->tunnel_info(*b_tid)->state == tunnel_state::established);
    CHECK(w.lns->tunnel_info(w.b->tunnel_info(*b_tid)->peer_id)->state ==
          tunnel_state::established);
}

TEST_CASE(
    "flood: the half-open limit is at most half the tunnel slots; per-address limit 0 is off") {
    engine_config cfg{.max_half_open = 1000, .max_half_open_per_peer = 0};
    eng e(cfg, rnd(9));
    CHECK(e.half_open_limit() == 32);  // 64 tunnel slots
    const auto from = tr::endpoint::v4(10, 6, 6, 6, 1);
    for (std::uint16_t i = 1; i <= 100; ++i)
        REQUIRE(e.handle_datagram(from, sccrq(i), {}));
    CHECK(e.half_open_count() == 32);
    CHECK(e.tunnel_count() == 32);
    CHECK(e.stats().half_open_evicted == 100 - 32);
    // The survivors are the newest 32: a retransmission of SCCRQ 100 finds its tunnel,
    // one of SCCRQ 1 makes a new one (and evicts the oldest).
    REQUIRE(e.handle_datagram(from, sccrq(100), {}));
    CHECK(e.stats().half_open_evicted == 100 - 32);
    REQUIRE(e.handle_datagram(from, sccrq(1), {}));
    CHECK(e.stats().half_open_evicted == 100 - 32 + 1);
    // And they expire.
    e.on_timer(time_point{} + cfg.half_open_timeout);
    CHECK(e.half_open_count() == 0);
    CHECK(e.tunnel_count() == 0);
    CHECK(e.stats().half_open_expired == 32);
}
