// Transport policies: the datagram concept, POSIX UDP over loopback and the
// seeded in-memory lossy network.
#include <l2sec/transport.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "support/alloc_counter.hpp"

using l2sec::bytes_view;
using l2sec::equal;
using l2sec::error;
using l2sec::mutable_bytes;
using l2sec::result;
using l2sec::time_point;
namespace test = l2sec::test;
using namespace l2sec::transport;
using namespace std::chrono_literals;

namespace {

// A user-written minimal transport plugs into the same seam.
struct null_transport {
    result<std::size_t> send_to(const endpoint&, bytes_view b) noexcept { return b.size(); }
    result<received> receive_from(mutable_bytes) noexcept { return error(errc::would_block); }
    endpoint local_endpoint() const noexcept { return endpoint::loopback_v4(1); }
};
static_assert(datagram<null_transport>);
static_assert(datagram<posix_udp>);

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int x : v)
        out.push_back(static_cast<std::byte>(x));
    return out;
}

}  // namespace

TEST_CASE("endpoint: construction, equality, hash") {
    auto a = endpoint::v4(127, 0, 0, 1, 1701);
    CHECK(a == endpoint::v4(0x7f000001u, 1701));
    CHECK(a.v4_host_order() == 0x7f000001u);
    CHECK_FALSE(a == endpoint::v4(127, 0, 0, 1, 1702));
    CHECK(a.hash() != endpoint::v4(127, 0, 0, 1, 1702).hash());
    CHECK_FALSE(endpoint{}.valid());
}

TEST_CASE("error codes have the transport category") {
    std::error_code ec = errc::would_block;
    CHECK(std::string(ec.category().name()) == "l2sec.transport");
    CHECK(ec.message() == "operation would block");
}

TEST_CASE("posix_udp: loopback round trip, non-blocking, zero allocations") {
    auto a = posix_udp::bind(endpoint::loopback_v4(0));
    auto b = posix_udp::bind(endpoint::loopback_v4(0));
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->fd() >= 0);
    CHECK(a->local_endpoint().port != 0);
    std::array<std::byte, 64> buf{};
    auto none = b->receive_from(buf);
    REQUIRE_FALSE(none);
    CHECK(none.error() == errc::would_block);

    auto msg = bytes_of({0xc8, 0x02, 0x00, 0x0c});
    std::size_t allocs = test::allocations_in([&] {
        auto s = a->send_to(b->local_endpoint(), msg);
        REQUIRE(s);
        CHECK(*s == 4);
    });
    CHECK(allocs == 0);
    result<received> r = error(errc::would_block);
    for (int i = 0; i < 1000 && !r; ++i)
        r = b->receive_from(buf);
    REQUIRE(r);
    CHECK(r->size == 4);
    CHECK(r->from == a->local_endpoint());
    CHECK(equal(bytes_view(buf.data(), 4), msg));

    // A datagram larger than the buffer is reported, not truncated silently.
    std::array<std::byte, 2> small{};
    REQUIRE(a->send_to(b->local_endpoint(), msg));
    result<received> t = error(errc::would_block);
    for (int i = 0; i < 1000 && !t && t.error() == errc::would_block; ++i)
        t = b->receive_from(small);
    REQUIRE_FALSE(t);
    CHECK(t.error() == errc::message_too_large);

    posix_udp moved = std::move(*a);
    CHECK(moved.is_open());
    CHECK_FALSE(a->is_open());
}

TEST_CASE("posix_udp: invalid endpoint") {
    auto s = posix_udp::bind(endpoint{});
    REQUIRE_FALSE(s);
    CHECK(s.error() == errc::address_invalid);
}

TEST_CASE("memory_network: lossless delivery in order after the delay") {
    auto net = std::make_unique<memory_network<>>(7, impairments{0, 0, 0, 5ms, 5ms});
    auto a = net->open(endpoint::v4(10, 0, 0, 1, 1701));
    auto b = net->open(endpoint::v4(10, 0, 0, 2, 1701));
    REQUIRE(a);
    REQUIRE(b);
    CHECK_FALSE(net->open(endpoint::v4(10, 0, 0, 2, 1701)));
    time_point t0{};
    net->advance_to(t0);
    auto m1 = bytes_of({1}), m2 = bytes_of({2, 2});
    REQUIRE(a->send_to(b->local_endpoint(), m1));
    REQUIRE(a->send_to(b->local_endpoint(), m2));
    std::array<std::byte, 16> buf{};
    CHECK(b->receive_from(buf).error() == errc::would_block);  // not yet due
    REQUIRE(net->next_delivery());
    CHECK(*net->next_delivery() == t0 + 5ms);
    net->advance_to(t0 + 5ms);
    std::size_t allocs = test::allocations_in([&] {
        auto r1 = b->receive_from(buf);
        REQUIRE(r1);
        CHECK(r1->size == 1);
        CHECK(r1->from == a->local_endpoint());
        auto r2 = b->receive_from(buf);
        REQUIRE(r2);
        CHECK(r2->size == 2);
    });
    CHECK(allocs == 0);
    CHECK(b->receive_from(buf).error() == errc::would_block);
    CHECK(net->in_flight() == 0);
    // Nothing listens at an unknown endpoint: silently dropped, like UDP.
    REQUIRE(a->send_to(endpoint::v4(10, 0, 0, 9, 1), m1));
    CHECK(net->stats().unroutable == 1);
}

namespace {
std::vector<int> run_lossy(std::uint64_t seed, network_stats& st) {
    auto net =
        std::make_unique<memory_network<512>>(seed, impairments{0.3, 0.1, 0.2, 1ms, 10ms, 30ms});
    auto a = *net->open(endpoint::v4(10, 0, 0, 1, 1));
    auto b = *net->open(endpoint::v4(10, 0, 0, 2, 1));
    time_point now{};
    std::vector<int> got;
    std::array<std::byte, 4> buf{};
    for (int i = 0; i < 200; ++i) {
        auto m = bytes_of({i});
        REQUIRE(a.send_to(b.local_endpoint(), m));
        now += 1ms;
        net->advance_to(now);
        while (auto r = b.receive_from(buf))
            got.push_back(std::to_integer<int>(buf[0]));
    }
    now += 1s;
    net->advance_to(now);
    while (auto r = b.receive_from(buf))
        got.push_back(std::to_integer<int>(buf[0]));
    st = net->stats();
    return got;
}
}  // namespace

TEST_CASE("memory_network: seeded impairments are deterministic and do what they say") {
    network_stats s1, s2, s3;
    auto r1 = run_lossy(42, s1);
    auto r2 = run_lossy(42, s2);
    auto r3 = run_lossy(43, s3);
    CHECK(r1 == r2);
    CHECK(r1 != r3);
    CHECK(s1.sent == 200);
    CHECK(s1.lost > 30);  // about 60 expected
    CHECK(s1.lost < 100);
    CHECK(s1.duplicated > 0);
    CHECK(s1.reordered > 0);
    CHECK(s1.delivered == s1.sent - s1.lost + s1.duplicated);
    bool out_of_order = false;
    for (std::size_t i = 1; i < r1.size(); ++i)
        out_of_order |= r1[i] < r1[i - 1];
    CHECK(out_of_order);
}

TEST_CASE("memory_network: a full link drops and counts") {
    auto net = std::make_unique<memory_network<4, 64, 2>>(1);
    auto a = *net->open(endpoint::v4(1, 1, 1, 1, 1));
    auto b = *net->open(endpoint::v4(1, 1, 1, 2, 1));
    auto m = bytes_of({1});
    for (int i = 0; i < 6; ++i)
        REQUIRE(a.send_to(b.local_endpoint(), m));
    CHECK(net->stats().overflowed == 2);
    std::array<std::byte, 100> big{};
    auto r = a.send_to(b.local_endpoint(), big);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::message_too_large);
}

TEST_CASE("posix_udp: IPv6 loopback when available") {
    std::array<std::uint8_t, 16> lo6{};
    lo6[15] = 1;
    auto a = posix_udp::bind(endpoint::v6(lo6, 0));
    if (!a) {
        MESSAGE("no IPv6 loopback here: " << a.error().message());
        return;
    }
    auto b = posix_udp::bind(endpoint::v6(lo6, 0));
    REQUIRE(b);
    CHECK(a->local_endpoint().family == endpoint::family_t::v6);
    auto msg = bytes_of({1, 2, 3});
    REQUIRE(a->send_to(b->local_endpoint(), msg));
    std::array<std::byte, 16> buf{};
    result<received> r = error(errc::would_block);
    for (int i = 0; i < 1000 && !r; ++i)
        r = b->receive_from(buf);
    REQUIRE(r);
    CHECK(r->size == 3);
    CHECK(r->from == a->local_endpoint());
}
