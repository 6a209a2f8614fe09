// shard_of and the kernel programs that implement it: SO_REUSEPORT groups
// steered by classic BPF, raw ESP sockets filtered per shard, checked against
// the real kernel in a namespace of the test's own (suite kernel.shard: ctest
// transport.shard): datagrams from many source addresses and ports land on the
// socket shard_of names, every time.
#include <l2sec/transport/shard.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "support/alloc_counter.hpp"
#include "transport/netns.hpp"

using l2sec::bytes_view;
using l2sec::result;
namespace test = l2sec::test;
using namespace l2sec::transport;

TEST_CASE("shard_of: stable, in range, spread, keys and families") {
    const auto p = endpoint::v4(198, 51, 100, 7, 4500);
    CHECK(shard_of(p, 8) == shard_of(p, 8));
    CHECK(shard_of(p, 1) == 0);
    CHECK(shard_of(p, 0) == 0);
    // address-only ignores the port; address_and_port does not (for most ports).
    std::set<std::size_t> by_port;
    for (std::uint16_t port = 1000; port < 1064; ++port) {
        auto e = endpoint::v4(198, 51, 100, 7, port);
        CHECK(shard_of(e, 8, shard_key::address) == shard_of(p, 8, shard_key::address));
        by_port.insert(shard_of(e, 8));
    }
    CHECK(by_port.size() == 8);
    // An IPv4 peer seen on a dual-stack socket (::ffff:a.b.c.d) is the same peer.
    auto mapped = endpoint::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7}, 4500);
    CHECK(shard_hash(mapped) == shard_hash(p));
    // Raw ESP follows the peer's IKE port 500 flow (or its address).
    CHECK(esp_shard_of(endpoint::v4(198, 51, 100, 7, 0), 8) ==
          shard_of(endpoint::v4(198, 51, 100, 7, 500), 8));
    CHECK(esp_shard_of(p, 8, shard_key::address) == shard_of(p, 8, shard_key::address));
    // Spread: 40,000 peers over 4 workers, each within 5% of a quarter.
    std::array<int, 4> count{};
    for (std::uint32_t a = 0; a < 200; ++a)
        for (std::uint16_t port = 0; port < 200; ++port)
            ++count[shard_of(
                endpoint::v4(0x0a000000u + a * 7919u, static_cast<std::uint16_t>(1024 + port * 13)),
                4)];
    for (int c : count) {
        CHECK(c > 9500);
        CHECK(c < 10500);
    }
    static_assert(shard_of(endpoint::v4(10, 0, 0, 1, 500), 4) < 4, "constexpr");
    CHECK(reuseport_program(4, shard_key::address_and_port).size < 64);
    CHECK(esp_shard_filter(3, 4, shard_key::address).size < 64);
}

// The workers' dispatch: l2sec-server --workers n binds its UDP 500 and 4500
// groups with bind_shard and its raw ESP sockets with bind_esp_shard, both
// shard_key::address, so the kernel programs steer each peer to worker
// shard_of / esp_shard_of. Client populations drawn with a fixed seed must
// load every worker alike: max/min within 1.10 for 20,000 clients (a binomial
// spread of 8 workers has a standard deviation of 1.9% of the mean: 1.10 is
// about +-2.5 of them), and each worker within 4 standard deviations.
TEST_CASE("shard_of: random client endpoints spread evenly over 2, 4 and 8 workers") {
    constexpr std::size_t clients = 20000;
    std::mt19937 gen(20261203);  // fixed: the same population every run
    std::vector<endpoint> random_eps, cgnat_eps, one_nat;
    for (std::size_t i = 0; i < clients; ++i) {
        // Anywhere on the Internet, from an ephemeral or NAT-chosen port.
        random_eps.push_back(
            endpoint::v4(static_cast<std::uint32_t>(gen()),
                         static_cast<std::uint16_t>(1024 + gen() % (65536 - 1024))));
        // Consecutive addresses of one carrier-grade NAT range, all from 4500.
        cgnat_eps.push_back(endpoint::v4(0x64400000u + static_cast<std::uint32_t>(i), 4500));
        // One public address, many ports: clients behind one NAT.
        one_nat.push_back(endpoint::v4(203, 0, 113, 7,
                                       static_cast<std::uint16_t>(1024 + gen() % (65536 - 1024))));
    }
    auto check_even = [](const std::vector<endpoint>& eps, std::size_t n, auto shard) {
        std::vector<double> load(n + 1, 0);  // load[n]: out of range
        for (const auto& e : eps)
            ++load[std::min<std::size_t>(shard(e, n), n)];
        REQUIRE(load[n] == 0);
        load.pop_back();
        const double mean = static_cast<double>(eps.size()) / static_cast<double>(n);
        const double sd = std::sqrt(mean * (1 - 1 / static_cast<double>(n)));
        const double lo = *std::min_element(load.begin(), load.end());
        const double hi = *std::max_element(load.begin(), load.end());
        INFO("workers " << n << ": min " << lo << " max " << hi << " max/min " << hi / lo);
        CHECK(lo > 0);
        CHECK(hi / lo <= 1.10);
        CHECK(hi - mean <= 4 * sd);
        CHECK(mean - lo <= 4 * sd);
    };
    for (std::size_t n : {2u, 4u, 8u}) {
        for (auto key : {shard_key::address, shard_key::address_and_port}) {
            auto udp = [key](const endpoint& e, std::size_t k) { return shard_of(e, k, key); };
            auto esp = [key](const endpoint& e, std::size_t k) { return esp_shard_of(e, k, key); };
            check_even(random_eps, n, udp);
            check_even(random_eps, n, esp);  // raw ESP: no port, the address decides
            check_even(cgnat_eps, n, udp);
            check_even(cgnat_eps, n, esp);
        }
        // Behind one NAT: the ports spread them under address_and_port; under
        // address (what the server uses, to keep NAT-T floating on one
        // worker) they all share one worker, as documented in shard.hpp.
        check_even(one_nat, n, [](const endpoint& e, std::size_t k) {
            return shard_of(e, k, shard_key::address_and_port);
        });
        std::set<std::size_t> used;
        for (const auto& e : one_nat)
            used.insert(shard_of(e, n, shard_key::address));
        CHECK(used.size() == 1);
    }
}

namespace {
// Sends `per` datagrams from each (address, port) to `to` and reports, per
// source, the set of group sockets that got them.
template <class Group>
std::map<std::pair<std::uint32_t, std::uint16_t>, std::set<std::size_t>> spray(Group& group,
                                                                               const endpoint& to,
                                                                               int addrs, int ports,
                                                                               int per) {
    std::vector<posix_udp> clients;
    for (int a = 0; a < addrs; ++a)
        for (int p = 0; p < ports; ++p) {
            auto c = posix_udp::bind(endpoint::v4(127, 0, 1, static_cast<std::uint8_t>(1 + a), 0),
                                     {.reuse_address = false});  // distinct ports
            REQUIRE(c);
            clients.push_back(std::move(*c));
        }
    std::array<std::byte, 16> msg{};
    for (int k = 0; k < per; ++k)
        for (auto& c : clients)
            REQUIRE(c.send_to(to, msg));
    ::usleep(20000);
    std::map<std::pair<std::uint32_t, std::uint16_t>, std::set<std::size_t>> where;
    std::size_t total = 0;
    std::array<std::byte, 64> buf{};
    for (int round = 0; round < 50 && total < clients.size() * static_cast<std::size_t>(per);
         ++round) {
        for (std::size_t i = 0; i < group.size(); ++i) {
            while (auto r = group[i].receive_from(buf)) {
                where[{r->from.v4_host_order(), r->from.port}].insert(i);
                ++total;
            }
        }
        ::usleep(2000);
    }
    CHECK(total == clients.size() * static_cast<std::size_t>(per));
    return where;
}
}  // namespace

TEST_SUITE("kernel.shard" * doctest::skip()) {
    TEST_CASE("bind_shard: SO_REUSEPORT + cBPF put each source on the socket shard_of names") {
        test::scoped_netns ns;
        for (auto key : {shard_key::address_and_port, shard_key::address}) {
            std::array<posix_udp, 4> group;
            auto r = bind_shard(endpoint::v4(0, 0, 0, 0, 0), std::span(group), key);
            if (!r && r.error() == errc::not_supported)
                test::skip_run("no SO_ATTACH_REUSEPORT_CBPF: " + r.error().message());
            REQUIRE_MESSAGE(r, r.error().message());
            const auto port = group[0].local_endpoint().port;
            for (auto& s : group)
                CHECK(s.local_endpoint().port == port);
            auto where = spray(group, endpoint::v4(127, 0, 0, 1, port), 8, 25, 3);
            CHECK(where.size() == 200);
            std::array<int, 4> per_socket{};
            for (auto& [src, sockets] : where) {
                REQUIRE(sockets.size() == 1);  // every datagram of a peer on one socket
                const auto from = endpoint::v4(src.first, src.second);
                CHECK(*sockets.begin() == shard_of(from, 4, key));
                ++per_socket[*sockets.begin()];
            }
            for (int n : per_socket)
                CHECK(n > 0);  // 200 peers reach every worker
        }
    }

    TEST_CASE("bind_shard: udp_batch groups, and 500/4500 pairs agree for one peer") {
        test::scoped_netns ns;
        std::array<udp_batch<8>, 3> ike, natt;
        REQUIRE(bind_shard(endpoint::v4(127, 0, 0, 1, 0), std::span(ike), shard_key::address,
                           udp_batch_options{}));
        REQUIRE(bind_shard(endpoint::v4(127, 0, 0, 1, 0), std::span(natt), shard_key::address,
                           udp_batch_options{}));
        // One peer address, its 500 flow and its floated 4500 flow from other ports.
        for (int a = 0; a < 12; ++a) {
            auto c1 = posix_udp::bind(endpoint::v4(127, 0, 2, static_cast<std::uint8_t>(a + 1), 0),
                                      {.reuse_address = false});
            auto c2 = posix_udp::bind(endpoint::v4(127, 0, 2, static_cast<std::uint8_t>(a + 1), 0),
                                      {.reuse_address = false});
            REQUIRE(c1);
            REQUIRE(c2);
            std::array<std::byte, 8> msg{};
            REQUIRE(c1->send_to(ike[0].local_endpoint(), msg));
            REQUIRE(c2->send_to(natt[0].local_endpoint(), msg));
            ::usleep(2000);
            int on_ike = -1, on_natt = -1;
            for (int round = 0; round < 100 && (on_ike < 0 || on_natt < 0); ++round) {
                for (std::size_t i = 0; i < 3; ++i) {
                    if (ike[i].receive_batch()) on_ike = static_cast<int>(i);
                    if (natt[i].receive_batch()) on_natt = static_cast<int>(i);
                }
                ::usleep(1000);
            }
            CHECK(on_ike >= 0);
            CHECK(on_ike == on_natt);
            CHECK(on_ike ==
                  static_cast<int>(shard_of(c1->local_endpoint(), 3, shard_key::address)));
        }
    }

    TEST_CASE("bind_esp_shard: each raw ESP packet reaches exactly the socket of its shard") {
        test::scoped_netns ns;
        std::array<raw_esp, 4> group;
        auto r = bind_esp_shard(endpoint::v4(0, 0, 0, 0, 0), std::span(group));
        if (!r && r.error() == errc::not_supported)
            test::skip_run("no SO_ATTACH_FILTER: " + r.error().message());
        REQUIRE_MESSAGE(r, r.error().message());
        std::array<int, 4> per_socket{};
        std::array<std::byte, 32> esp{};
        std::array<std::byte, 64> buf{};
        for (int a = 1; a <= 40; ++a) {
            const auto src = endpoint::v4(127, 0, 3, static_cast<std::uint8_t>(a), 0);
            auto tx = raw_esp::bind(src);
            REQUIRE(tx);
            REQUIRE(tx->send_to(endpoint::loopback_v4(0), esp));
            ::usleep(1000);
            std::set<std::size_t> got;
            for (int round = 0; round < 50 && got.empty(); ++round, ::usleep(1000))
                for (std::size_t i = 0; i < 4; ++i)
                    while (auto x = group[i].receive(buf))
                        if (x->from == src) got.insert(i);
            // tx itself (bound to src) sees nothing: the packet is addressed to 127.0.0.1.
            REQUIRE(got.size() == 1);
            CHECK(*got.begin() == esp_shard_of(src, 4));
            // the peer's IKE flow from port 500 goes to the same worker
            auto ike = src;
            ike.port = 500;
            CHECK(*got.begin() == shard_of(ike, 4));
            ++per_socket[*got.begin()];
        }
        for (int n : per_socket)
            CHECK(n > 0);
    }

    TEST_CASE("bind_shard: IPv6 sources, and IPv4 peers of a dual-stack group") {
        test::scoped_netns ns;
        std::array<posix_udp, 3> group;
        std::array<std::uint8_t, 16> any{}, lo6{};
        lo6[15] = 1;
        auto r = bind_shard(endpoint::v6(any, 0), std::span(group));
        if (!r) test::skip_run("no IPv6 in the namespace: " + r.error().message());
        const auto port = group[0].local_endpoint().port;
        std::vector<posix_udp> clients;
        for (int i = 0; i < 30; ++i) {
            auto c6 = posix_udp::bind(endpoint::v6(lo6, 0), {.reuse_address = false});
            auto c4 = posix_udp::bind(endpoint::v4(127, 0, 4, static_cast<std::uint8_t>(i + 1), 0),
                                      {.reuse_address = false});
            if (!c6) test::skip_run("no ::1 in the namespace");
            REQUIRE(c4);
            std::array<std::byte, 8> msg{};
            REQUIRE(c6->send_to(endpoint::v6(lo6, port), msg));
            REQUIRE(c4->send_to(endpoint::v4(127, 0, 0, 1, port), msg));
            clients.push_back(std::move(*c6));
            clients.push_back(std::move(*c4));
        }
        ::usleep(20000);
        std::array<std::byte, 64> buf{};
        std::size_t total = 0, v4 = 0;
        for (int round = 0; round < 50 && total < 60; ++round, ::usleep(1000))
            for (std::size_t i = 0; i < group.size(); ++i)
                while (auto x = group[i].receive_from(buf)) {
                    ++total;
                    if (detail::v4_mapped(x->from)) ++v4;
                    CHECK(i == shard_of(x->from, 3));
                }
        CHECK(total == 60);
        CHECK(v4 == 30);
    }

    TEST_CASE("bind_shard: errors") {
        test::scoped_netns ns;
        std::array<posix_udp, 0> none;
        CHECK(bind_shard(endpoint::loopback_v4(0), std::span(none)).error() ==
              errc::address_invalid);
        std::array<posix_udp, 2> g;
        CHECK(bind_shard(endpoint{}, std::span(g)).error() == errc::address_invalid);
        CHECK_FALSE(g[0].is_open());
    }
}
