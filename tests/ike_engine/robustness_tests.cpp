// IKEv1 engine under pressure: a burst of 40 clients behind one NAT, a flood
// of 20,000 first messages, bad messages that must change nothing, and zero
// allocations per message once the engine exists.
#include "harness.hpp"
#include "support/alloc_counter.hpp"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <vector>

using namespace l2sec;
using namespace l2sec::test::ike1;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
const endpoint server_ep = ep(198, 51, 100, 1, 500);
}

TEST_CASE("a burst of 40 clients behind one NAT: all connect, each with its own SAs") {
    auto server = make_engine(1);
    nat_box nat(ep(203, 0, 113, 5, 0));
    network<engine_t<>> net;
    std::vector<std::unique_ptr<engine_t<>>> clients;
    auto s = net.add(*server);
    net.hosts[s].addrs = {server_ep};
    for (int i = 0; i < 40; ++i) {
        clients.push_back(make_engine(100 + static_cast<std::uint64_t>(i)));
        auto h = net.add(*clients.back(), &nat);
        net.hosts[h].addrs = {ep(192, 168, 1, static_cast<std::uint8_t>(10 + i), 500)};
    }
    for (int i = 0; i < 40; ++i)
        REQUIRE(clients[static_cast<std::size_t>(i)]
                    ->connect(l2tp_connection(net.hosts[static_cast<std::size_t>(i) + 1].addrs[0],
                                              server_ep),
                              net.now)
                    .has_value());
    net.run_for(seconds(30));
    CHECK(server->established() == 40);
    CHECK(net.of(s, v1::event_kind::child_up).size() == 40);
    CHECK(server->stats().half_open_refused > 0);   // the per-address limit did bite...
    CHECK(server->stats().half_open_evicted == 0);  // ...without evicting young half-open SAs
    for (std::size_t i = 1; i <= 40; ++i) {
        CHECK(net.of(i, v1::event_kind::child_up).size() == 1);
        CHECK(net.of(i, v1::event_kind::failed).empty());
    }
}

TEST_CASE("flood of 20,000 MM1 from random addresses: bounded, no allocation, peers unaffected") {
    v1::config cc;
    cc.phase2_lifetime = seconds(10);  // the established peer keeps rekeying through the flood
    auto client = make_engine(2, cc);
    auto server = make_engine(3);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    REQUIRE(net.of(s, v1::event_kind::child_up).size() == 1);

    // A real MM1 to copy: from a throwaway initiator.
    auto proto = make_engine(4);
    REQUIRE(proto->connect(l2tp_connection(ep(10, 0, 0, 1, 500), server_ep), net.now).has_value());
    auto d = proto->poll_datagram();
    REQUIRE(d.has_value());
    std::vector<std::byte> mm1(d->data.begin(), d->data.end());
    testing::insecure_splitmix64 g(5);
    std::size_t max_half = 0, allocations = 0;
    for (int i = 0; i < 20000; ++i) {
        for (int k = 0; k < 8; ++k)
            mm1[static_cast<std::size_t>(k)] = static_cast<std::byte>(g.next());
        const auto from = endpoint::v4(static_cast<std::uint32_t>(g.next()), 500);
        net.now += milliseconds(1);
        {
            test::alloc_guard guard;
            server->receive(mm1, server_ep, from, net.now);
            while (server->poll_datagram()) {
            }
            server->tick(net.now);
            while (server->poll_datagram()) {
            }
            allocations += guard.count();
        }
        max_half = std::max(max_half, server->half_open());
        if (i % 500 == 0) net.run_for(milliseconds(0));  // the established peer's traffic
    }
    CHECK(allocations == 0);
    CHECK(max_half <= v1::default_limits::max_half_open);
    CHECK(server->stats().half_open_refused + server->stats().half_open_evicted > 0);
    net.run_for(seconds(15));
    // The established client never noticed: it rekeyed through the flood and is still up.
    CHECK(net.of(c, v1::event_kind::failed).empty());
    CHECK(net.of(c, v1::event_kind::peer_dead).empty());
    CHECK(net.of(c, v1::event_kind::child_up).size() >= 3);
    CHECK(server->established() == 1);
}

TEST_CASE("4,000 half-open SAs: tick() visits only the due ones, admission stays bounded") {
    using big = v1::limits<16, 4000>;
    v1::config cfg;
    cfg.half_open_per_address = 4;
    auto server = make_engine<big>(6, cfg);
    auto proto = make_engine(7);
    const auto t0 = tp{} + seconds(1);
    REQUIRE(proto->connect(l2tp_connection(ep(10, 0, 0, 1, 500), server_ep), t0).has_value());
    auto d = proto->poll_datagram();
    REQUIRE(d.has_value());
    std::vector<std::byte> mm1(d->data.begin(), d->data.end());
    testing::insecure_splitmix64 g(8);
    // 4,000 MM1 from 1,000 addresses (4 each: the per-address limit), 1 ms apart.
    for (std::uint32_t i = 0; i < 4000; ++i) {
        for (int k = 0; k < 8; ++k)
            mm1[static_cast<std::size_t>(k)] = static_cast<std::byte>(g.next());
        const auto from =
            endpoint::v4(0x0a000000u + i / 4, static_cast<std::uint16_t>(500 + i % 4));
        server->receive(mm1, server_ep, from, t0 + milliseconds(i));
        while (server->poll_datagram()) {
        }
    }
    REQUIRE(server->half_open() == 4000);
    CHECK(server->stats().half_open_refused == 0);
    // The fifth MM1 from an address is refused (its four are younger than
    // under_load_timeout), whatever else is in the table.
    mm1[0] = std::byte{0x42};
    server->receive(mm1, server_ep, endpoint::v4(0x0a000000u, 600), t0 + seconds(1));
    CHECK(server->stats().half_open_refused == 1);
    CHECK(server->half_open() == 4000);
    // Nothing is due before the first one's half-open timeout: 10,000 ticks
    // look at no SA at all, and the next deadline is that timeout.
    REQUIRE(server->next_deadline() == t0 + cfg.half_open_timeout);
    const auto before = server->stats().timer_visits;
    for (int i = 0; i < 10000; ++i)
        server->tick(t0 + seconds(2) + milliseconds(i));
    CHECK(server->stats().timer_visits == before);
    // Past the timeout of the first 1,000: exactly those are visited and freed.
    server->tick(t0 + cfg.half_open_timeout + milliseconds(999));
    CHECK(server->stats().timer_visits == before + 1000);
    CHECK(server->half_open() == 3000);
    CHECK(server->next_deadline() == t0 + cfg.half_open_timeout + milliseconds(1000));
}

// (IKEv1 leaves MM1/MM3 unauthenticated and Main Mode's HASH_I does not
// cover payloads after ID, so only what can be detected is tried: a
// malformed MM3, and the authenticated first block of MM5, QM1 and QM3.)
TEST_CASE("a corrupted copy before the real message changes nothing (MM3, MM5, QM1, QM3)") {
    for (int target : {1, 2, 3, 4}) {  // which client message gets a corrupted twin first
        CAPTURE(target);
        auto client = make_engine(10);
        auto server = make_engine(11);
        network<engine_t<>> net;
        auto c = net.add(*client);
        auto s = net.add(*server);
        const endpoint client_ep = ep(192, 0, 2, 10, 500);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
        int seen = 0;
        net.tap = [&](packet& p) {
            if (p.dst.addr != server_ep.addr) return;
            ++seen;  // 1 MM1, 2 MM3, 3 MM5, 4 QM1, 5 QM3
            if (seen != target + 1) return;
            packet bad = p;
            if (target == 1)
                bad.data.pop_back();  // length disagrees with the header
            else
                bad.data[30] ^= std::byte{0x40};  // first ciphertext block
            net.deliver(bad);
        };
        REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
        net.pump();
        CHECK(server->stats().dropped >= 1);
        REQUIRE(net.of(c, v1::event_kind::child_up).size() == 1);
        REQUIRE(net.of(s, v1::event_kind::child_up).size() == 1);
        CHECK(net.of(s, v1::event_kind::child_up)[0].child.spi_out ==
              net.of(c, v1::event_kind::child_up)[0].child.spi_in);
    }
}

TEST_CASE("malformed input is refused with a code and an offset") {
    auto server = make_engine(12);
    const endpoint peer = ep(192, 0, 2, 10, 500);
    std::array<std::byte, 40> junk{};
    server->receive(bytes_view(junk.data(), 10), server_ep, peer, {});
    CHECK(server->stats().last_error == ike::errc::truncated);
    junk[17] = std::byte{0x10};  // v1, length 0
    server->receive(junk, server_ep, peer, {});
    CHECK(server->stats().last_error == ike::errc::header_length_mismatch);
    CHECK(server->stats().last_error.offset == 24);
    // On 4500 without the non-ESP marker: not IKE.
    std::array<std::byte, 8> esp{std::byte{1}};
    server->receive(esp, ep(198, 51, 100, 1, 4500), peer, {});
    CHECK(server->stats().last_error == ike::errc::non_esp_marker_missing);
    // Unknown cookies.
    std::array<std::byte, 28> h{};
    h[0] = h[8] = std::byte{1};
    h[17] = std::byte{0x10};
    h[18] = std::byte{2};
    h[27] = std::byte{28};
    server->receive(h, server_ep, peer, {});
    CHECK(server->stats().last_error == v1::engine_errc::invalid_cookie);
    CHECK(server->size() == 0);
    CHECK(server->stats().dropped == 4);
}

TEST_CASE("established: DPD, duplicates and bad messages allocate nothing") {
    auto client = make_engine(20);
    auto server = make_engine(21);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    REQUIRE(net.of(c, v1::event_kind::child_up).size() == 1);
    std::array<std::byte, 2048> a{}, b{};
    std::size_t an = 0, bn = 0, allocs = 0;
    net.now += seconds(31);  // idle: the client's DPD is due
    {
        test::alloc_guard g;
        client->tick(net.now);
        auto d = client->poll_datagram();
        REQUIRE(d.has_value());
        an = d->data.size();
        std::copy(d->data.begin(), d->data.end(), a.begin());
        server->receive(bytes_view(a.data(), an), server_ep, client_ep, net.now);  // R-U-THERE
        auto r = server->poll_datagram();
        REQUIRE(r.has_value());
        bn = r->data.size();
        std::copy(r->data.begin(), r->data.end(), b.begin());
        client->receive(bytes_view(b.data(), bn), client_ep, server_ep, net.now);  // ACK
        server->receive(bytes_view(a.data(), an), server_ep, client_ep, net.now);  // replayed
        a[an - 3] ^= std::byte{1};
        server->receive(bytes_view(a.data(), an), server_ep, client_ep, net.now);  // corrupted
        while (server->poll_datagram()) {
        }
        allocs = g.count();
    }
    CHECK(allocs == 0);
    CHECK(client->stats().dpd_sent == 1);
    CHECK(server->stats().dropped >= 1);
    net.now += seconds(200);
    client->tick(net.now);
    CHECK(client->established() == 1);  // the ACK was taken: no peer_dead yet
}

TEST_CASE("memory per IKE SA: one fixed slot with its Quick Mode slots") {
    constexpr std::size_t per_sa = sizeof(v1::detail::ike_sa<crypto::botan, 4>);
    MESSAGE("bytes per IKE SA slot (4 Quick Mode slots): " << per_sa);
    CHECK(per_sa < 32 * 1024);
}

TEST_CASE("more than 65534 Quick Mode slots: SPIs found by a scan (compiles, no 16-bit overflow)") {
    using big = v1::limits<16400, 1, 4>;
    using core = v1::detail::engine_core<crypto::botan, rng, big, v1::single_psk>;
    static_assert(!core::spi_indexed);
    static_assert(v1::detail::engine_core<crypto::botan, rng, v1::server_limits<10000>,
                                          v1::single_psk>::spi_indexed);
    auto find = &core::find_child;
    auto index = &core::index_child;
    auto unindex = &core::unindex_child;
    CHECK(find != nullptr);
    CHECK(index != nullptr);
    CHECK(unindex != nullptr);
}
