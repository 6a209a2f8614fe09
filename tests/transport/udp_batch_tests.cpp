// udp_batch (recvmmsg/sendmmsg, GSO, GRO, PKTINFO) and posix_udp's options,
// through the real kernel in a namespace of the test's own (suite
// kernel.udp_batch: ctest transport.udp_batch), with a Python client as an
// independent peer for the "answer from the address the client used" rule.
#include <l2sec/transport/udp_batch.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/alloc_counter.hpp"
#include "transport/netns.hpp"

using l2sec::bytes_view;
using l2sec::equal;
using l2sec::result;
namespace test = l2sec::test;
using namespace l2sec::transport;

namespace {
std::vector<std::byte> payload(std::size_t n, int tag) {
    std::vector<std::byte> p(n);
    for (std::size_t i = 0; i < n; ++i)
        p[i] = static_cast<std::byte>(tag + static_cast<int>(i));
    if (n >= 2) l2sec::store_be16(p.data(), static_cast<std::uint16_t>(tag));
    return p;
}

struct seen {
    std::size_t size;
    int tag;
    endpoint from, to;
};

template <class S>
std::vector<seen> drain(S& s, std::size_t want) {
    std::vector<seen> out;
    out.reserve(want + 64);
    for (int i = 0; i < 2000 && out.size() < want; ++i) {
        auto n = s.receive_batch();
        if (!n) {
            ::usleep(500);
            continue;
        }
        s.for_each([&](const rx_datagram& d) {
            out.push_back({d.data.size(), d.data.size() >= 2 ? l2sec::load_be16(d.data.data()) : -1,
                           d.from, d.to});
        });
    }
    return out;
}
}  // namespace

TEST_CASE("udp_batch: a socket that is not bound says so") {
    udp_batch<4> s;
    CHECK_FALSE(s.is_open());
    CHECK(s.receive_batch().error() == errc::address_invalid);
    std::array<std::byte, 8> b{};
    tx_datagram d{b, endpoint::loopback_v4(9)};
    CHECK(s.send_batch(std::span(&d, 1)).error() == errc::address_invalid);
    CHECK(s.receive_from(b).error() == errc::address_invalid);
    CHECK(s.stats().syscalls == 0);
    std::size_t n = 0;
    s.for_each([&](const rx_datagram&) { ++n; });
    CHECK(n == 0);
}

TEST_SUITE("kernel.udp_batch" * doctest::skip()) {
    TEST_CASE("udp_batch: sendmmsg/recvmmsg in order, GSO runs, mixed peers, no allocation") {
        test::scoped_netns ns;
        auto a = udp_batch<32>::bind(endpoint::loopback_v4(0));
        auto b = udp_batch<32>::bind(endpoint::loopback_v4(0));
        auto c = udp_batch<32>::bind(endpoint::loopback_v4(0));
        REQUIRE(a);
        REQUIRE(b);
        REQUIRE(c);
        MESSAGE("active: gso=" << a->features().gso << " gro=" << a->features().gro
                               << " pktinfo=" << a->features().pktinfo);
        CHECK(a->features().pktinfo);
        CHECK_FALSE(a->features().gro);  // 2048-byte slots: GRO stays off
        CHECK(b->receive_batch().error() == errc::would_block);

        // 20 same-size datagrams to b, then 3 of other sizes to c, then 5 to b
        // of which the last is shorter: with GSO, 3 messages for 28 datagrams.
        std::vector<std::vector<std::byte>> bufs;
        std::vector<tx_datagram> tx;
        for (int i = 0; i < 20; ++i)
            bufs.push_back(payload(1200, i));
        for (int i = 20; i < 23; ++i)
            bufs.push_back(payload(static_cast<std::size_t>(100 * (i - 19)), i));
        for (int i = 23; i < 28; ++i)
            bufs.push_back(payload(i == 27 ? 300 : 500, i));
        for (std::size_t i = 0; i < bufs.size(); ++i)
            tx.push_back(
                {bufs[i], (i >= 20 && i < 23) ? c->local_endpoint() : b->local_endpoint()});
        a->reset_stats();
        result<std::size_t> sent = std::size_t{0};
        std::size_t allocs = test::allocations_in([&] { sent = a->send_batch(tx); });
        CHECK(allocs == 0);
        REQUIRE(sent);
        CHECK(*sent == 28);
        CHECK(a->stats().syscalls == 1);
        if (a->features().gso) CHECK(a->stats().gso_messages == 2);  // c's 3 differ in size

        // Received with no allocation into fixed arrays, in order, per peer.
        std::array<seen, 64> atb{}, atc{};
        std::size_t nb = 0, nc = 0;
        allocs = test::allocations_in([&] {
            for (int i = 0; i < 4000 && (nb < 25 || nc < 3); ++i) {
                if (b->receive_batch())
                    b->for_each([&](const rx_datagram& d) {
                        if (nb < atb.size())
                            atb[nb++] = {d.data.size(), l2sec::load_be16(d.data.data()), d.from,
                                         d.to};
                    });
                if (c->receive_batch())
                    c->for_each([&](const rx_datagram& d) {
                        if (nc < atc.size())
                            atc[nc++] = {d.data.size(), l2sec::load_be16(d.data.data()), d.from,
                                         d.to};
                    });
            }
        });
        CHECK(allocs == 0);
        REQUIRE(nb == 25);
        REQUIRE(nc == 3);
        for (std::size_t i = 0; i < 25; ++i) {
            const std::size_t k = i < 20 ? i : i + 3;
            CHECK(atb[i].tag == static_cast<int>(k));
            CHECK(atb[i].size == bufs[k].size());
            CHECK(atb[i].from == a->local_endpoint());
            CHECK(atb[i].to == b->local_endpoint());
        }
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(atc[i].tag == static_cast<int>(20 + i));
            CHECK(atc[i].size == 100 * (i + 1));
        }
        CHECK(drain(*b, 1).empty());  // nothing more, nothing twice
    }

    TEST_CASE("udp_batch: every datagram arrives, in order, with its local address") {
        test::scoped_netns ns;
        auto a = udp_batch<16>::bind(endpoint::loopback_v4(0));
        auto b = udp_batch<16>::bind(endpoint::v4(0, 0, 0, 0, 0));  // wildcard
        REQUIRE(a);
        REQUIRE(b);
        const endpoint to = endpoint::v4(127, 0, 0, 5, b->local_endpoint().port);
        std::vector<std::vector<std::byte>> bufs;
        std::vector<tx_datagram> tx;
        for (int i = 0; i < 40; ++i)
            bufs.push_back(payload(i < 30 ? 1000 : static_cast<std::size_t>(20 + i), i));
        for (auto& p : bufs)
            tx.push_back({p, to});
        std::size_t total = 0;
        while (total < tx.size()) {
            auto r = a->send_batch(std::span(tx).subspan(total));
            REQUIRE(r);
            total += *r;
        }
        auto got = drain(*b, 40);
        REQUIRE(got.size() == 40);
        for (int i = 0; i < 40; ++i) {
            CHECK(got[static_cast<std::size_t>(i)].tag == i);
            CHECK(got[static_cast<std::size_t>(i)].size ==
                  bufs[static_cast<std::size_t>(i)].size());
            CHECK(got[static_cast<std::size_t>(i)].from == a->local_endpoint());
            CHECK(got[static_cast<std::size_t>(i)].to == to);  // IP_PKTINFO: 127.0.0.5, our port
        }
        // The answer goes out from the address the client used.
        auto reply = payload(64, 99);
        tx_datagram back{reply, got[0].from, got[0].to};
        REQUIRE(b->send_batch(std::span(&back, 1)));
        auto ans = drain(*a, 1);
        REQUIRE(ans.size() == 1);
        CHECK(ans[0].from == to);

        // Receiving allocates nothing.
        for (int i = 0; i < 8; ++i)
            REQUIRE(a->send_to(to, bufs[0]));
        ::usleep(10000);
        std::size_t n = 0;
        std::size_t allocs = test::allocations_in([&] {
            for (int i = 0; i < 100 && n < 8; ++i) {
                if (b->receive_batch()) b->for_each([&](const rx_datagram&) { ++n; });
            }
        });
        CHECK(n == 8);
        CHECK(allocs == 0);
    }

    TEST_CASE("udp_batch: IPv6 and dual-stack local addresses (IPV6_PKTINFO, v4-mapped)") {
        test::scoped_netns ns;
        std::array<std::uint8_t, 16> any{}, lo6{};
        lo6[15] = 1;
        auto s = udp_batch<8>::bind(endpoint::v6(any, 0));
        if (!s) test::skip_run("no IPv6 in the namespace: " + s.error().message());
        REQUIRE(s->features().pktinfo);
        const auto port = s->local_endpoint().port;
        auto c6 = udp_batch<8>::bind(endpoint::v6(lo6, 0));
        auto c4 = udp_batch<8>::bind(endpoint::loopback_v4(0));
        if (!c6) test::skip_run("no ::1 in the namespace");
        REQUIRE(c4);
        auto msg = payload(100, 6);
        REQUIRE(c6->send_to(endpoint::v6(lo6, port), msg));
        auto got = drain(*s, 1);
        REQUIRE(got.size() == 1);
        CHECK(got[0].to == endpoint::v6(lo6, port));
        CHECK(got[0].from == c6->local_endpoint());
        tx_datagram back{msg, got[0].from, got[0].to};
        REQUIRE(s->send_batch(std::span(&back, 1)));
        auto ans = drain(*c6, 1);
        REQUIRE(ans.size() == 1);
        CHECK(ans[0].from == endpoint::v6(lo6, port));
        // An IPv4 client of the dual-stack socket: both ends v4-mapped.
        REQUIRE(c4->send_to(endpoint::v4(127, 0, 0, 3, port), msg));
        got = drain(*s, 1);
        REQUIRE(got.size() == 1);
        const auto mapped =
            endpoint::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 3}, port);
        CHECK(got[0].to == mapped);
        tx_datagram back4{msg, got[0].from, got[0].to};  // answered from 127.0.0.3
        REQUIRE(s->send_batch(std::span(&back4, 1)));
        ans = drain(*c4, 1);
        REQUIRE(ans.size() == 1);
        CHECK(ans[0].from == endpoint::v4(127, 0, 0, 3, port));
    }

    TEST_CASE("udp_batch: a Python client gets its answer from the address it used") {
        test::scoped_netns ns;
        if (test::run("/usr/bin/python3 -c 'print(1)'") != "1\n") test::skip_run("no python3");
        auto s = udp_batch<8>::bind(endpoint::v4(0, 0, 0, 0, 0));
        REQUIRE(s);
        const auto port = s->local_endpoint().port;
        std::string out;
        std::thread py([&] {
            out = test::run(
                "/usr/bin/python3 -c \"import socket\n"
                "c=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); c.settimeout(3)\n"
                "c.sendto(b'hello', ('127.0.0.7'," +
                std::to_string(port) +
                "))\n"
                "d,a=c.recvfrom(100); print(d.decode(), a[0], a[1])\"");
        });
        auto got = [&] {
            std::vector<seen> g;
            for (int i = 0; i < 6000 && g.empty(); ++i) {
                if (!s->receive_batch()) {
                    ::usleep(500);
                    continue;
                }
                s->for_each([&](const rx_datagram& d) {
                    g.push_back({d.data.size(), 0, d.from, d.to});
                });
            }
            return g;
        }();
        REQUIRE(got.size() == 1);
        CHECK(got[0].to == endpoint::v4(127, 0, 0, 7, port));
        auto msg = l2sec::as_bytes("world");
        tx_datagram back{msg, got[0].from, got[0].to};
        REQUIRE(s->send_batch(std::span(&back, 1)));
        py.join();
        CHECK(out == "world 127.0.0.7 " + std::to_string(port) + "\n");
    }

    TEST_CASE("udp_batch: GRO coalesces a GSO run into one slot, split again for the reader") {
        test::scoped_netns ns;
        auto a = udp_batch<16>::bind(endpoint::loopback_v4(0));
        auto b = std::make_unique<result<udp_batch<8, 65535>>>(
            udp_batch<8, 65535>::bind(endpoint::loopback_v4(0)));
        REQUIRE(a);
        REQUIRE(*b);
        auto& rx = **b;
        MESSAGE("active: gso=" << a->features().gso << " gro=" << rx.features().gro);
        std::vector<std::vector<std::byte>> bufs;
        std::vector<tx_datagram> tx;
        for (int i = 0; i < 30; ++i)
            bufs.push_back(payload(i == 29 ? 700 : 1400, i));
        for (auto& p : bufs)
            tx.push_back({p, rx.local_endpoint()});
        REQUIRE(*a->send_batch(tx) == 30);
        auto got = drain(rx, 30);
        REQUIRE(got.size() == 30);
        for (std::size_t i = 0; i < 30; ++i) {
            CHECK(got[i].tag == static_cast<int>(i));
            CHECK(got[i].size == bufs[i].size());
        }
        if (a->features().gso && rx.features().gro) CHECK(rx.stats().gro_slots >= 1);
    }

    TEST_CASE("udp_batch: without GSO the same datagrams go out one message each") {
        test::scoped_netns ns;
        auto a = udp_batch<32>::bind(endpoint::loopback_v4(0), {.try_gso = false});
        auto b = udp_batch<32>::bind(endpoint::loopback_v4(0));
        REQUIRE(a);
        REQUIRE(b);
        CHECK_FALSE(a->features().gso);
        std::vector<std::vector<std::byte>> bufs;
        std::vector<tx_datagram> tx;
        for (int i = 0; i < 10; ++i)
            bufs.push_back(payload(800, i));
        for (auto& p : bufs)
            tx.push_back({p, b->local_endpoint()});
        REQUIRE(*a->send_batch(tx) == 10);
        CHECK(a->stats().gso_messages == 0);
        CHECK(a->stats().syscalls == 1);
        auto got = drain(*b, 10);
        REQUIRE(got.size() == 10);
        CHECK(got[9].tag == 9);
        tx_datagram bad{bufs[0], endpoint{}};
        CHECK(a->send_batch(std::span(&bad, 1)).error() == errc::address_invalid);
    }

    TEST_CASE("posix_udp: SO_REUSEPORT lets several sockets share a port") {
        test::scoped_netns ns;
        auto a = posix_udp::bind(endpoint::loopback_v4(0), {.reuse_port = true});
        REQUIRE(a);
        auto b = posix_udp::bind(a->local_endpoint(), {.reuse_port = true});
        REQUIRE(b);
        CHECK(b->local_endpoint() == a->local_endpoint());
        auto c = posix_udp::bind(a->local_endpoint(), {.reuse_address = false});  // port taken
        REQUIRE_FALSE(c);
        CHECK(c.error() == errc::system_error);
        CHECK(std::string(c.error().field) == "bind");
    }
}
