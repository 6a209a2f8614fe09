// The server under bad input and load (issue 10): a flood of half-open IKE
// exchanges must not lock a legitimate client out nor grow the server's
// memory, and every refused datagram is counted by reason.
#include "support/alloc_counter.hpp"
#include "world.hpp"

#include <doctest/doctest.h>

using namespace l2sec;
using namespace std::chrono_literals;
using test::world;

namespace {

constexpr std::uint32_t attacker_ip = 0xc6336463;  // 198.51.100.99

/// How long (simulated) a client at `ip` takes from start() to PPP up, in
/// world `w`, with `between(w)` called before each step of the world.
template <class W, class Between>
std::optional<std::chrono::milliseconds> connect_time(W& w, std::uint32_t ip, Between between) {
    auto& c = w.add_client(ip, false);
    const auto t0 = w.now;
    REQUIRE(c.client->start(w.now));
    for (int step = 0; step < 4000 && c.client->state() != vpn::client_state::up; ++step) {
        between(w);
        w.run([&] { return c.client->state() == vpn::client_state::up; }, 5ms);
        if (c.client->state() == vpn::client_state::failed) return std::nullopt;
    }
    if (c.client->state() != vpn::client_state::up) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(w.now - t0);
}

}  // namespace

TEST_CASE(
    "vpn load: 20,000 half-open Main Mode exchanges from 500 ports neither lock a "
    "client out nor allocate") {
    // A real first message (MM1) to copy: a client's, never delivered.
    std::vector<std::byte> mm1;
    {
        world<> scratch_world;
        auto& c = scratch_world.add_client(0xc6336401, false);
        REQUIRE(c.client->start(scratch_world.now));
        auto o = c.client->poll(scratch_world.scratch, scratch_world.now);
        REQUIRE(o);
        mm1.assign(o->data.begin(), o->data.end());
        REQUIRE(mm1.size() > 28);
    }

    // The baseline: a client alone.
    world<> quiet;
    auto normal = connect_time(quiet, 0xc6336402, [](auto&) {});
    REQUIRE(normal);

    world<> w;
    const std::size_t cap = vpn::server_config{}.ike.half_open_per_address;
    std::array<std::byte, 2048> buf{};
    std::uint64_t sent = 0, max_half_open = 0, allocations = 0;
    const auto server_500 = transport::endpoint::v4(test::server_ip, 500);
    // 20,000 MM1s (each its own initiator cookie) from 500 source ports of
    // one address, 200 at each step of the world: the first 100 before the
    // client starts, the rest while it connects.
    auto flood = [&](auto& world_) {
        if (sent >= 20000) return;
        test::alloc_guard g;
        for (int i = 0; i < 200 && sent < 20000; ++i, ++sent) {
            std::copy(mm1.begin(), mm1.end(), buf.begin());
            store_be64(buf.data(), 0x5eed000000000000ull + sent);  // a new exchange each time
            const auto from = transport::endpoint::v4(
                attacker_ip, static_cast<std::uint16_t>(20000 + sent % 500));
            (void)world_.server->receive(mutable_bytes(buf.data(), mm1.size()), server_500, from,
                                         world_.now);
            while (world_.server->poll(world_.scratch, world_.now)) {
            }  // the attacker never answers MM2
        }
        allocations += g.count();
        max_half_open = std::max<std::uint64_t>(max_half_open, world_.server->ike().half_open());
    };
    for (int i = 0; i < 50; ++i)
        flood(w);
    auto flooded = connect_time(w, 0xc6336403, flood);
    while (sent < 20000)
        flood(w);
    REQUIRE(flooded);
    MESSAGE("connect time alone " << normal->count() << " ms, during the flood " << flooded->count()
                                  << " ms; at most " << max_half_open
                                  << " half-open IKE SAs; ike_flood "
                                  << w.server->drops().ike_flood);
    CHECK(sent == 20000);
    // Within its normal time (the world's steps are 5 ms).
    CHECK(flooded->count() <= normal->count() + 50);
    // Bounded: the per-address cap holds the attacker, nothing is allocated.
    CHECK(max_half_open <= cap + 1);  // + the legitimate client's own
    CHECK(allocations == 0);
    const auto d = w.server->drops();
    CHECK(d.ike_flood + d.ike_evicted >= 20000 - cap);
    CHECK(w.server->clients() == 1);
    // Rate-limited reports: a handful of `dropped` lines, not one per datagram.
    CHECK(w.count(w.server_reports, vpn::report_kind::dropped) < 100);
}

TEST_CASE(
    "vpn load: garbage on 500, 4500 and 1701, unknown SPIs: counted by reason, reports "
    "rate-limited, nothing allocated") {
    world<> w;
    auto& c = w.add_client(0xc6336404, false);
    w.start_all();
    REQUIRE(w.run([&] { return c.client->state() == vpn::client_state::up; }));
    const auto from = transport::endpoint::v4(attacker_ip, 40000);
    std::array<std::byte, 256> buf{};
    const auto before = w.count(w.server_reports, vpn::report_kind::dropped);
    std::size_t allocations = test::allocations_in([&] {
        for (int i = 0; i < 1000; ++i) {
            buf.fill(std::byte{0x41});
            (void)w.server->receive(mutable_bytes(buf.data(), 60),
                                    transport::endpoint::v4(test::server_ip, 500), from, w.now);
            buf.fill(std::byte{0x41});
            (void)w.server->receive(mutable_bytes(buf.data(), 4),
                                    transport::endpoint::v4(test::server_ip, 4500), from, w.now);
            buf.fill(std::byte{0x41});  // ESP, SPI 0x41414141: no such SA
            (void)w.server->receive(mutable_bytes(buf.data(), 100),
                                    transport::endpoint::v4(test::server_ip, 4500), from, w.now);
            (void)w.server->receive_plain_l2tp(bytes_view(buf.data(), 3), from, w.now);
            std::array<std::byte, 12> sccrq{std::byte{0xc8}, std::byte{0x02}};
            (void)w.server->receive_plain_l2tp(sccrq, from, w.now);
        }
    });
    CHECK(allocations == 0);
    const auto d = w.server->drops();
    CHECK(d.garbage_500 == 1000);
    CHECK(d.garbage_4500 == 1000);
    CHECK(d.unknown_spi == 1000);
    CHECK(d.garbage_1701 == 1000);
    CHECK(d.l2tp_outside_esp == 1000);
    CHECK(d.total() >= 5000);
    w.pump();
    const auto reported = w.count(w.server_reports, vpn::report_kind::dropped) - before;
    CHECK(reported <= vpn::server_config{}.drop_reports_per_second);
    CHECK(d.reports_suppressed >= 5000 - reported);
    // The legitimate client is still up and served.
    REQUIRE(w.ping(c, 1));
    REQUIRE(w.run([&] { return c.echo_replies == 1; }, 5s));
}
