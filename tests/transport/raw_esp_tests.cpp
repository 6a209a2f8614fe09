// raw_esp: IP protocol 50 through the real kernel, in a namespace of the
// test's own (suite kernel.raw_esp: ctest transport.raw_esp); an independent
// peer (Python's socket module) sends and receives; the header parser alone.
#include <l2sec/transport/raw_esp.hpp>

#include <doctest/doctest.h>
#include <sys/wait.h>

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
std::vector<std::byte> esp_like(std::size_t n, std::uint32_t spi) {
    std::vector<std::byte> p(n);
    l2sec::store_be32(p.data(), spi);
    l2sec::store_be32(p.data() + 4, 1);
    for (std::size_t i = 8; i < n; ++i)
        p[i] = static_cast<std::byte>(i);
    return p;
}
result<esp_received> receive_wait(raw_esp& s, l2sec::mutable_bytes buf) {
    for (int i = 0; i < 2000; ++i) {
        auto r = s.receive(buf);
        if (r || r.error() != errc::would_block) return r;
        ::usleep(500);
    }
    return l2sec::error(errc::would_block);
}
}  // namespace

TEST_CASE("parse_ipv4_header: fields and malformed headers") {
    std::array<std::byte, 24> h{};
    h[0] = std::byte{0x46};  // IHL 6: one option word
    l2sec::store_be16(&h[2], 60);
    h[9] = std::byte{50};
    h[12] = std::byte{192};
    h[15] = std::byte{1};
    h[16] = std::byte{10};
    h[19] = std::byte{2};
    auto r = parse_ipv4_header(h);
    REQUIRE(r);
    CHECK(r->header_len == 24);
    CHECK(r->total_len == 60);
    CHECK(r->protocol == 50);
    CHECK(r->src == endpoint::v4(192, 0, 0, 1, 0));
    CHECK(r->dst == endpoint::v4(10, 0, 0, 2, 0));
    CHECK(parse_ipv4_header(bytes_view(h).first(22)).error() == errc::truncated_packet);
    CHECK(parse_ipv4_header(bytes_view(h).first(19)).error().offset == 19);
    h[0] = std::byte{0x44};
    CHECK(parse_ipv4_header(h).error() == errc::address_invalid);
    h[0] = std::byte{0x65};
    CHECK(parse_ipv4_header(h).error() == errc::address_invalid);
    h[0] = std::byte{0x45};
    l2sec::store_be16(&h[2], 12);
    CHECK(parse_ipv4_header(h).error().offset == 2);
}

TEST_CASE("raw_esp: refuses an endpoint without a family") {
    CHECK(raw_esp::bind(endpoint{}).error() == errc::address_invalid);
}

TEST_SUITE("kernel.raw_esp" * doctest::skip()) {
    TEST_CASE("raw_esp: loopback both ways, outer addresses, source choice, no allocation") {
        test::scoped_netns ns;
        auto a = raw_esp::bind(endpoint::v4(127, 0, 0, 1, 0));
        if (!a && a.error() == errc::not_supported)
            test::skip_run("no raw sockets: " + a.error().message());
        REQUIRE_MESSAGE(a, a.error().message());
        auto b = raw_esp::bind(endpoint::v4(127, 0, 0, 2, 0));
        auto any = raw_esp::bind(endpoint::v4(0, 0, 0, 0, 0));
        REQUIRE(b);
        REQUIRE(any);
        std::array<std::byte, 2048> buf{};
        CHECK(b->receive(buf).error() == errc::would_block);

        auto pkt = esp_like(1400, 0x1000abcd);
        std::size_t allocs = test::allocations_in([&] {
            auto s = a->send_to(endpoint::v4(127, 0, 0, 2, 4500), pkt);  // port ignored
            REQUIRE(s);
            CHECK(*s == pkt.size());
        });
        CHECK(allocs == 0);
        auto r = receive_wait(*b, buf);
        REQUIRE(r);
        CHECK(r->size == pkt.size());
        CHECK(r->from == endpoint::v4(127, 0, 0, 1, 0));
        CHECK(r->to == endpoint::v4(127, 0, 0, 2, 0));
        CHECK(equal(bytes_view(buf.data(), r->size), pkt));  // IP header stripped
        // The wildcard socket sees it too (every raw socket gets a copy) ...
        auto w = receive_wait(*any, buf);
        REQUIRE(w);
        CHECK(w->to == endpoint::v4(127, 0, 0, 2, 0));
        // ... the one bound elsewhere does not.
        CHECK(a->receive(buf).error() == errc::would_block);

        // A wildcard socket answers from the address it was reached at.
        REQUIRE(any->send_to(endpoint::v4(127, 0, 0, 2, 0), pkt, endpoint::v4(127, 0, 0, 9, 0)));
        r = receive_wait(*b, buf);
        REQUIRE(r);
        CHECK(r->from == endpoint::v4(127, 0, 0, 9, 0));
        while (any->receive(buf)) {
        }

        // The datagram concept's receive_from, and a buffer too small.
        REQUIRE(a->send_to(b->local_endpoint(), pkt));
        std::array<std::byte, 100> small{};
        result<esp_received> t = receive_wait(*b, small);
        REQUIRE_FALSE(t);
        CHECK(t.error() == errc::message_too_large);
        REQUIRE(a->send_to(b->local_endpoint(), bytes_view(pkt).first(64)));
        result<received> d = l2sec::error(errc::would_block);
        for (int i = 0; i < 2000 && !d; ++i, ::usleep(500))
            d = b->receive_from(buf);
        REQUIRE(d);
        CHECK(d->size == 64);
        CHECK(d->from == a->local_endpoint());
        CHECK(a->send_to(endpoint::v6({}, 0), pkt).error() == errc::address_invalid);
    }

    TEST_CASE("raw_esp: receive_batch takes several packets in one call, in order, no allocation") {
        test::scoped_netns ns;
        auto a = raw_esp::bind(endpoint::v4(127, 0, 0, 1, 0));
        if (!a && a.error() == errc::not_supported)
            test::skip_run("no raw sockets: " + a.error().message());
        REQUIRE_MESSAGE(a, a.error().message());
        auto b = raw_esp::bind(endpoint::v4(127, 0, 0, 2, 0));
        REQUIRE(b);
        std::array<std::array<std::byte, 2048>, 6> store{};
        std::array<l2sec::mutable_bytes, 6> bufs;
        for (std::size_t i = 0; i < bufs.size(); ++i)
            bufs[i] = store[i];
        bufs[2] = l2sec::mutable_bytes(store[2]).first(100);  // too small for its packet
        std::array<esp_received, 6> out{};
        CHECK(b->receive_batch(bufs, out).error() == errc::would_block);
        CHECK(b->receive_batch({}, out).error() == errc::address_invalid);
        const std::size_t sizes[5] = {64, 1400, 576, 80, 1000};
        for (std::size_t i = 0; i < 5; ++i)
            REQUIRE(a->send_to(b->local_endpoint(),
                               esp_like(sizes[i], 0x100 + static_cast<std::uint32_t>(i))));
        ::usleep(20000);
        result<std::size_t> n = l2sec::error(errc::would_block);
        std::size_t allocs = test::allocations_in([&] { n = b->receive_batch(bufs, out); });
        CHECK(allocs == 0);
        REQUIRE(n);
        REQUIRE(*n == 5);  // all five waiting: one recvmmsg takes them all
        for (std::size_t i = 0; i < 5; ++i) {
            INFO("slot " << i);
            if (i == 2) {
                CHECK(out[i].size == 0);  // dropped: larger than its 100-byte slot
                continue;
            }
            CHECK(out[i].size == sizes[i]);
            CHECK(out[i].from == endpoint::v4(127, 0, 0, 1, 0));
            CHECK(out[i].to == endpoint::v4(127, 0, 0, 2, 0));
            CHECK(equal(bytes_view(store[i].data(), out[i].size),
                        esp_like(sizes[i], 0x100 + static_cast<std::uint32_t>(i))));
        }
        CHECK(b->receive_batch(bufs, out).error() == errc::would_block);
        // Fewer slots than packets: the rest waits for the next call.
        for (std::size_t i = 0; i < 3; ++i)
            REQUIRE(a->send_to(b->local_endpoint(), esp_like(200, 7)));
        ::usleep(20000);
        auto two = b->receive_batch(std::span(bufs).first(2), out);
        REQUIRE(two);
        CHECK(*two == 2);
        auto one = b->receive_batch(bufs, out);
        REQUIRE(one);
        CHECK(*one == 1);
        CHECK(out[0].size == 200);

        // send_batch: three packets with one sendmmsg arrive in order.
        auto p0 = esp_like(64, 0x200), p1 = esp_like(1400, 0x201), p2 = esp_like(300, 0x202);
        const endpoint to = b->local_endpoint();
        tx_datagram items[3] = {{p0, to, {}}, {p1, to, {}}, {p2, to, {}}};
        result<std::size_t> s = l2sec::error(errc::would_block);
        allocs = test::allocations_in([&] { s = a->send_batch(items); });
        CHECK(allocs == 0);
        REQUIRE(s);
        CHECK(*s == 3);
        ::usleep(20000);
        auto three = b->receive_batch(bufs, out);
        REQUIRE(three);
        REQUIRE(*three == 3);
        CHECK(equal(bytes_view(store[0].data(), out[0].size), p0));
        CHECK(equal(bytes_view(store[1].data(), out[1].size), p1));
        CHECK(out[2].size == 0);  // 300 bytes: larger than slot 2's 100
        CHECK(a->send_batch({}).value() == 0);
        tx_datagram bad[2] = {{p0, to, {}}, {p0, endpoint::v6({}, 0), {}}};
        CHECK(a->send_batch(bad).error() == errc::address_invalid);  // nothing sent
        CHECK(b->receive_batch(bufs, out).error() == errc::would_block);
    }

    TEST_CASE("raw_esp: an independent peer (Python sockets) both ways") {
        test::scoped_netns ns;
        if (test::run("/usr/bin/python3 -c 'print(1)'") != "1\n") test::skip_run("no python3");
        auto s = raw_esp::bind(endpoint::v4(127, 0, 0, 1, 0));
        REQUIRE(s);
        // Python receives what we send and prints protocol, source and payload.
        std::string out;
        std::thread py([&] {
            out = test::run(
                "/usr/bin/python3 -c \"import socket\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,50)\n"
                "s.bind(('127.0.0.3',0)); s.settimeout(3)\n"
                "d,a=s.recvfrom(4096); ihl=(d[0]&15)*4\n"
                "print(d[9], a[0], d[ihl:].hex())\n"
                "s.sendto(bytes.fromhex('deadbeef00000002')+b'python', ('127.0.0.1',0))\"");
        });
        ::usleep(300000);
        auto pkt = esp_like(40, 0xdeadbeef);
        std::string hex;
        for (auto x : pkt) {
            char h[3];
            std::snprintf(h, sizeof h, "%02x", std::to_integer<unsigned>(x));
            hex += h;
        }
        REQUIRE(s->send_to(endpoint::v4(127, 0, 0, 3, 0), pkt));
        std::array<std::byte, 256> buf{};
        auto r = receive_wait(*s, buf);
        py.join();
        CHECK(out == "50 127.0.0.1 " + hex + "\n");
        REQUIRE(r);
        CHECK(r->from == endpoint::v4(127, 0, 0, 3, 0));
        CHECK(r->size == 14);
        CHECK(l2sec::load_be32(buf.data()) == 0xdeadbeef);
        CHECK(l2sec::as_chars(bytes_view(buf.data() + 8, 6)) == "python");
    }

    TEST_CASE("raw_esp: without CAP_NET_RAW, permission denied") {
        test::scoped_netns ns;  // skips unless root, who can drop to nobody
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
            auto r = raw_esp::bind(endpoint::v4(0, 0, 0, 0, 0));
            ::_exit(!r && r.error() == errc::permission_denied ? 0 : 1);
        }
        int st = 0;
        ::waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 0);
    }

    TEST_CASE("raw_esp: IPv6, destination from IPV6_PKTINFO, source choice") {
        test::scoped_netns ns;
        std::array<std::uint8_t, 16> lo6{}, any{};
        lo6[15] = 1;
        auto a = raw_esp::bind(endpoint::v6(lo6, 0));
        if (!a) test::skip_run("no IPv6 raw sockets in the namespace: " + a.error().message());
        auto w = raw_esp::bind(endpoint::v6(any, 0));
        REQUIRE(w);
        auto pkt = esp_like(300, 0x600d600d);
        REQUIRE(a->send_to(endpoint::v6(lo6, 0), pkt));
        std::array<std::byte, 2048> buf{};
        auto r = receive_wait(*w, buf);
        REQUIRE(r);
        CHECK(r->size == 300);
        CHECK(r->from == endpoint::v6(lo6, 0));
        CHECK(r->to == endpoint::v6(lo6, 0));
        CHECK(equal(bytes_view(buf.data(), r->size), pkt));
        while (a->receive(buf)) {  // a's own copy of what it sent
        }
        REQUIRE(w->send_to(r->from, pkt, r->to));  // answered from the address used
        auto back = receive_wait(*a, buf);
        REQUIRE(back);
        CHECK(back->from == endpoint::v6(lo6, 0));
        CHECK(a->send_to(endpoint::v4(127, 0, 0, 1, 0), pkt).error() == errc::address_invalid);
    }
}
