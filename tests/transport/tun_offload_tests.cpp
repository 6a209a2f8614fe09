// Segmentation of offloaded TUN packets (tun_offload.hpp): synthetic TSO/USO
// super-packets cut into IP packets whose checksums verify (RFC 791, 793,
// 768, 8200 pseudo-headers), and the real kernel's USO super-packets read
// from a linux_tun with offloads (suite kernel.tun: ctest transport.tun).
#include <l2sec/transport/linux_tun.hpp>
#include <l2sec/transport/posix_udp.hpp>
#include <l2sec/transport/tun_offload.hpp>
#include <l2sec/transport/udp_batch.hpp>

#include <doctest/doctest.h>

#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "support/alloc_counter.hpp"
#include "transport/netns.hpp"

using l2sec::bytes_view;
using l2sec::load_be16;
using l2sec::load_be32;
using l2sec::store_be16;
using l2sec::store_be32;
namespace test = l2sec::test;
using namespace l2sec::transport;
using l2sec::result;

namespace {

// True when the IP header (IPv4) and the transport checksum verify.
bool checksums_ok(bytes_view p) {
    const bool v6 = std::to_integer<int>(p[0]) >> 4 == 6;
    std::size_t ip = v6 ? 40 : (std::to_integer<std::size_t>(p[0]) & 0xf) * 4;
    if (!v6 && l2sec::internet_checksum(p.first(ip)) != 0) return false;
    const int proto = std::to_integer<int>(p[v6 ? 6 : 9]);
    std::uint32_t sum =
        v6 ? l2sec::checksum_add(0, p.subspan(8, 32)) : l2sec::checksum_add(0, p.subspan(12, 8));
    sum += static_cast<std::uint32_t>(proto);
    sum += static_cast<std::uint32_t>(p.size() - ip);
    return l2sec::checksum_fold(l2sec::checksum_add(sum, p.subspan(ip))) == 0;
}

std::vector<std::byte> vnet(std::uint8_t flags, vnet_gso type, std::uint16_t gso_size,
                            std::uint16_t csum_start = 0, std::uint16_t csum_offset = 0) {
    std::vector<std::byte> h(vnet_header_size);
    h[0] = std::byte{flags};
    h[1] = static_cast<std::byte>(type);
    std::memcpy(&h[4], &gso_size, 2);
    std::memcpy(&h[6], &csum_start, 2);
    std::memcpy(&h[8], &csum_offset, 2);
    return h;
}

std::vector<std::byte> tcp4_super(std::size_t payload, std::uint8_t flags) {
    std::vector<std::byte> p(20 + 20 + payload);
    p[0] = std::byte{0x45};
    store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
    store_be16(&p[4], 0x1000);
    p[8] = std::byte{64};
    p[9] = std::byte{6};
    p[12] = std::byte{10}, p[15] = std::byte{1};
    p[16] = std::byte{10}, p[19] = std::byte{2};
    store_be16(&p[20], 40000);
    store_be16(&p[22], 80);
    store_be32(&p[24], 0xfffffc00u);  // wraps inside the packet
    p[32] = std::byte{0x50};
    p[33] = std::byte{flags};
    for (std::size_t i = 0; i < payload; ++i)
        p[40 + i] = static_cast<std::byte>(i * 7);
    return p;
}

// An IPv4 TCP segment with correct checksums (optionally an MSS option).
std::vector<std::byte> tcp4(const endpoint& src, const endpoint& dst, std::uint32_t seq,
                            std::uint32_t ack, std::uint8_t flags, bytes_view payload,
                            std::uint16_t mss = 0, std::uint16_t id = 0) {
    const std::size_t th = mss ? 24 : 20;
    std::vector<std::byte> p(20 + th + payload.size());
    p[0] = std::byte{0x45};
    store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
    store_be16(&p[4], id);
    p[6] = std::byte{0x40};  // DF
    p[8] = std::byte{64};
    p[9] = std::byte{6};
    std::memcpy(&p[12], src.addr.data(), 4);
    std::memcpy(&p[16], dst.addr.data(), 4);
    store_be16(&p[10], l2sec::internet_checksum(bytes_view(p).first(20)));
    store_be16(&p[20], src.port);
    store_be16(&p[22], dst.port);
    store_be32(&p[24], seq);
    store_be32(&p[28], ack);
    p[32] = static_cast<std::byte>((th / 4) << 4);
    p[33] = std::byte{flags};
    store_be16(&p[34], 65535);
    if (mss) {
        p[40] = std::byte{2};
        p[41] = std::byte{4};
        store_be16(&p[42], mss);
    }
    if (!payload.empty()) std::memcpy(&p[20 + th], payload.data(), payload.size());
    std::uint32_t sum = l2sec::checksum_add(0, bytes_view(p).subspan(12, 8)) + 6 +
                        static_cast<std::uint32_t>(th + payload.size());
    store_be16(&p[36], l2sec::checksum_fold(l2sec::checksum_add(sum, bytes_view(p).subspan(20))));
    return p;
}

}  // namespace

TEST_CASE("tun_offload: a TSO packet becomes MSS-sized TCP segments that verify") {
    auto in = vnet(vnet_needs_csum, vnet_gso::tcpv4, 1000, 20, 16);
    auto sup = tcp4_super(2500, 0x80 | 0x10 | 0x08 | 0x01);  // CWR ACK PSH FIN
    in.insert(in.end(), sup.begin(), sup.end());
    auto g = parse_gso(in);
    REQUIRE(g);
    CHECK(g->segments == 3);
    CHECK(g->segment_size(2) == 540);
    std::array<std::array<std::byte, 1100>, 3> out{};
    std::size_t allocs = test::allocations_in([&] {
        for (std::size_t k = 0; k < 3; ++k)
            REQUIRE(write_segment(*g, k, out[k]));
    });
    CHECK(allocs == 0);
    for (std::size_t k = 0; k < 3; ++k) {
        bytes_view s(out[k].data(), g->segment_size(k));
        CHECK(checksums_ok(s));
        CHECK(load_be16(&s[2]) == s.size());
        CHECK(load_be16(&s[4]) == 0x1000 + k);
        CHECK(load_be32(&s[24]) == static_cast<std::uint32_t>(0xfffffc00u + 1000 * k));
        const unsigned fl = std::to_integer<unsigned>(s[33]);
        CHECK(((fl & 0x80) != 0) == (k == 0));  // CWR on the first
        CHECK(((fl & 0x09) != 0) == (k == 2));  // FIN, PSH on the last
        CHECK((fl & 0x10) != 0);
        CHECK(std::memcmp(&s[40], &sup[40 + 1000 * k], s.size() - 40) == 0);
    }
    std::array<std::byte, 500> small{};
    CHECK(write_segment(*g, 0, small).error() == l2sec::errc::buffer_too_small);
    CHECK(write_segment(*g, 3, out[0]).error() == errc::address_invalid);
}

TEST_CASE("tun_offload: USO over IPv6, and a lone packet whose checksum is left to us") {
    // IPv6 UDP, 3 x 600 + 100 bytes.
    std::vector<std::byte> p(40 + 8 + 1900);
    p[0] = std::byte{0x60};
    store_be16(&p[4], static_cast<std::uint16_t>(8 + 1900));
    p[6] = std::byte{17};
    p[7] = std::byte{64};
    p[8] = std::byte{0xfd}, p[23] = std::byte{1};
    p[24] = std::byte{0xfd}, p[39] = std::byte{2};
    store_be16(&p[40], 5000);
    store_be16(&p[42], 4500);
    for (std::size_t i = 48; i < p.size(); ++i)
        p[i] = static_cast<std::byte>(i);
    auto in = vnet(vnet_needs_csum, vnet_gso::udp_l4, 600, 40, 6);
    in.insert(in.end(), p.begin(), p.end());
    auto g = parse_gso(in);
    REQUIRE(g);
    CHECK(g->segments == 4);
    std::array<std::byte, 700> out{};
    for (std::size_t k = 0; k < 4; ++k) {
        auto n = write_segment(*g, k, out);
        REQUIRE(n);
        bytes_view s(out.data(), *n);
        CHECK(checksums_ok(s));
        CHECK(load_be16(&s[4]) == s.size() - 40);
        CHECK(load_be16(&s[44]) == s.size() - 40);
    }
    // IPv4 UDP, not GSO, checksum field holding the pseudo-header sum.
    auto u = test::ipv4_udp(l2sec::transport::endpoint::v4(10, 0, 0, 1, 1),
                            l2sec::transport::endpoint::v4(10, 0, 0, 2, 2),
                            l2sec::as_bytes("partial checksum"));
    std::uint32_t ps = l2sec::checksum_add(0, bytes_view(u).subspan(12, 8)) + 17 +
                       static_cast<std::uint32_t>(u.size() - 20);
    while (ps >> 16)
        ps = (ps & 0xffff) + (ps >> 16);
    store_be16(&u[26], static_cast<std::uint16_t>(ps));
    auto in2 = vnet(vnet_needs_csum, vnet_gso::none, 0, 20, 6);
    in2.insert(in2.end(), u.begin(), u.end());
    auto g2 = parse_gso(in2);
    REQUIRE(g2);
    CHECK(g2->segments == 1);
    auto n = write_segment(*g2, 0, out);
    REQUIRE(n);
    CHECK(checksums_ok(bytes_view(out.data(), *n)));
}

TEST_CASE("tun_offload: malformed virtio headers and packets") {
    std::array<std::byte, 4> tiny{};
    CHECK(parse_gso(tiny).error() == errc::truncated_packet);
    auto bad_type = vnet(0, static_cast<vnet_gso>(3), 100);  // UFO: not offered, refused
    auto sup = tcp4_super(300, 0x10);
    bad_type.insert(bad_type.end(), sup.begin(), sup.end());
    CHECK(parse_gso(bad_type).error().offset == 1);
    auto zero = vnet(0, vnet_gso::tcpv4, 0);
    zero.insert(zero.end(), sup.begin(), sup.end());
    CHECK(parse_gso(zero).error().offset == 4);
    auto wrong = vnet(0, vnet_gso::tcpv6, 100);  // TCPv6 on an IPv4 packet
    wrong.insert(wrong.end(), sup.begin(), sup.end());
    CHECK(parse_gso(wrong).error() == errc::address_invalid);
    auto udp_on_tcp = vnet(0, vnet_gso::udp_l4, 100);
    udp_on_tcp.insert(udp_on_tcp.end(), sup.begin(), sup.end());
    CHECK(parse_gso(udp_on_tcp).error() == errc::address_invalid);
    auto cut = vnet(0, vnet_gso::tcpv4, 100);
    cut.insert(cut.end(), sup.begin(), sup.begin() + 30);
    CHECK(parse_gso(cut).error() == errc::truncated_packet);
    auto csum_out = vnet(vnet_needs_csum, vnet_gso::none, 0, 330, 16);
    csum_out.insert(csum_out.end(), sup.begin(), sup.end());
    CHECK(parse_gso(csum_out).error().offset == 6);
}

TEST_CASE("tun_offload: coalescing TCP segments is the inverse of segmenting them") {
    const auto a = endpoint::v4(10, 0, 0, 9, 40000), b = endpoint::v4(10, 0, 0, 1, 5001);
    std::vector<std::byte> data(10 * 1000 + 300);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<std::byte>(i * 11);
    std::vector<std::vector<std::byte>> segs;
    for (std::size_t k = 0; k < 11; ++k) {
        const std::size_t len = k < 10 ? 1000 : 300;
        segs.push_back(tcp4(a, b, 0xfffff000u + static_cast<std::uint32_t>(1000 * k), 77,
                            k == 10 ? 0x18 : 0x10, bytes_view(data).subspan(1000 * k, len), 0,
                            static_cast<std::uint16_t>(500 + k)));
    }
    segs.push_back(tcp4(a, b, 0x1234, 77, 0x10, bytes_view(data).first(10)));  // another run
    std::vector<bytes_view> views(segs.begin(), segs.end());
    CHECK(coalescible_run(views) == 11);  // ends at the short PSH segment
    CHECK(coalescible_run(std::span(views).subspan(11)) == 1);
    CHECK(coalescible_run({}) == 0);
    std::vector<std::byte> super(vnet_header_size + 65535);
    auto n = build_super_packet(std::span(views).first(11), super);
    REQUIRE(n);
    auto g = parse_gso(bytes_view(super).first(*n));
    REQUIRE(g);
    CHECK(g->gso == vnet_gso::tcpv4);
    REQUIRE(g->segments == 11);
    std::array<std::byte, 1100> out{};
    for (std::size_t k = 0; k < 11; ++k) {
        auto w = write_segment(*g, k, out);
        REQUIRE(w);
        CHECK(l2sec::equal(bytes_view(out.data(), *w), segs[k]));  // byte for byte
    }
    // What does not coalesce: a gap in sequence, another flow, a SYN.
    auto gap = tcp4(a, b, 0xfffff000u + 1001, 77, 0x10, bytes_view(data).first(1000));
    std::array<bytes_view, 2> v1{views[0], gap};
    CHECK(coalescible_run(v1) == 1);
    auto other = tcp4(endpoint::v4(10, 0, 0, 8, 40000), b, 0xfffff000u + 1000, 77, 0x10,
                      bytes_view(data).first(1000));
    std::array<bytes_view, 2> v2{views[0], other};
    CHECK(coalescible_run(v2) == 1);
    auto syn = tcp4(a, b, 1, 0, 0x02, {}, 1400);
    std::array<bytes_view, 2> v3{syn, views[0]};
    CHECK(coalescible_run(v3) == 1);
}

TEST_CASE("tun_offload: UDP datagrams of one flow coalesce (USO) and come back byte for byte") {
    const auto a = endpoint::v4(10, 0, 0, 9, 4500), b = endpoint::v4(10, 0, 0, 1, 4500);
    std::vector<std::vector<std::byte>> dgrams;
    for (std::size_t k = 0; k < 6; ++k) {
        std::vector<std::byte> pl(k < 5 ? 1200 : 77, static_cast<std::byte>(k + 1));
        auto d = test::ipv4_udp(a, b, pl);
        store_be16(&d[4],
                   static_cast<std::uint16_t>(0x2000 + k));  // IDs as segmentation makes them
        store_be16(&d[10], 0);
        store_be16(&d[10], l2sec::internet_checksum(bytes_view(d).first(20)));
        dgrams.push_back(d);
    }
    dgrams.push_back(test::ipv4_udp(a, endpoint::v4(10, 0, 0, 1, 4501), l2sec::as_bytes("x")));
    std::vector<bytes_view> views(dgrams.begin(), dgrams.end());
    CHECK(coalescible_run(views) == 6);
    CHECK(coalescible_run(views, true, false) == 1);  // UDP not allowed
    std::vector<std::byte> super(vnet_header_size + 65535);
    auto n = build_super_packet(std::span(views).first(6), super);
    REQUIRE(n);
    auto g = parse_gso(bytes_view(super).first(*n));
    REQUIRE(g);
    CHECK(g->gso == vnet_gso::udp_l4);
    REQUIRE(g->segments == 6);
    std::array<std::byte, 1300> out{};
    for (std::size_t k = 0; k < 6; ++k) {
        auto w = write_segment(*g, k, out);
        REQUIRE(w);
        CHECK(l2sec::equal(bytes_view(out.data(), *w), dgrams[k]));
    }
    std::array<std::byte, 4> tiny{};
    std::array<bytes_view, 1> bad{bytes_view(tiny)};
    CHECK(build_super_packet(bad, super).error() == errc::address_invalid);
}

TEST_SUITE("kernel.tun" * doctest::skip()) {
    TEST_CASE("linux_tun offload: the kernel's USO super-packets come out as checked UDP packets") {
        test::scoped_netns ns;
        auto t = linux_tun::open("l2sec5", {.offload = true});
        if (!t && t.error() == errc::not_supported)
            test::skip_run("no TUN: " + t.error().message());
        REQUIRE_MESSAGE(t, t.error().message());
        MESSAGE("offloads: csum=" << t->offloads().csum << " tso=" << t->offloads().tso
                                  << " uso=" << t->offloads().uso);
        REQUIRE(t->set_mtu(1500));
        REQUIRE(t->set_ipv4(endpoint::v4(10, 79, 0, 1, 0), 24));
        REQUIRE(t->set_up());
        auto sock = udp_batch<32>::bind(endpoint::v4(10, 79, 0, 1, 0));
        REQUIRE(sock);
        std::array<std::byte, 2048> buf{};
        while (t->read_packet(buf, 64)) {  // link-up chatter
        }
        std::vector<std::vector<std::byte>> data;
        std::vector<tx_datagram> tx;
        for (int i = 0; i < 20; ++i) {
            data.emplace_back(1000, static_cast<std::byte>(i));
            tx.push_back({data.back(), endpoint::v4(10, 79, 0, 9, 7777)});
        }
        REQUIRE(*sock->send_batch(tx) == 20);
        std::vector<std::array<std::byte, 2048>> store(32);
        std::array<l2sec::mutable_bytes, 32> bufs{}, out{};
        for (std::size_t i = 0; i < 32; ++i)
            bufs[i] = store[i];
        std::size_t got = 0, udp = 0;
        for (int spin = 0; spin < 2000 && udp < 20; ++spin) {
            auto n = read_batch(*t, std::span(bufs), 64, out);
            if (!n) {
                ::usleep(500);
                continue;
            }
            for (std::size_t i = 0; i < *n; ++i) {
                bytes_view p = out[i];
                ++got;
                if (std::to_integer<int>(p[0]) >> 4 != 4 || std::to_integer<int>(p[9]) != 17)
                    continue;
                CHECK(p.data() == bufs[i].data() + 64);
                CHECK(p.size() == 1028);
                CHECK(checksums_ok(p));
                CHECK(load_be16(&p[22]) == 7777);
                CHECK(p[28] == static_cast<std::byte>(udp));  // in order
                ++udp;
            }
        }
        CHECK(udp == 20);
        if (t->offloads().uso) CHECK(t->super_packets() >= 1);
        // Writing still works (a zero virtio header in front).
        auto back = test::ipv4_udp(endpoint::v4(10, 79, 0, 9, 7777), sock->local_endpoint(),
                                   l2sec::as_bytes("back"));
        REQUIRE(t->write_packet(back));
        result<received> r = l2sec::error(errc::would_block);
        for (int i = 0; i < 2000 && !r; ++i, ::usleep(500))
            r = sock->receive_from(buf);
        REQUIRE(r);
        CHECK(r->size == 4);
    }

    TEST_CASE("linux_tun offload: the kernel's TSO super-packets of a real TCP connection") {
        test::scoped_netns ns;
        auto t = linux_tun::open("l2sec6", {.offload = true});
        if (!t && t.error() == errc::not_supported)
            test::skip_run("no TUN: " + t.error().message());
        REQUIRE_MESSAGE(t, t.error().message());
        REQUIRE(t->set_mtu(1500));
        REQUIRE(t->set_ipv4(endpoint::v4(10, 80, 0, 1, 0), 24));
        REQUIRE(t->set_up());
        std::array<std::byte, 2048> buf{};
        while (t->read_packet(buf, 0)) {
        }
        // The kernel's TCP connects through the TUN; the test plays the server.
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_storage ss;
        socklen_t len = l2sec::transport::detail::to_sockaddr(endpoint::v4(10, 80, 0, 9, 80), ss);
        (void)::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
        auto next_tcp = [&]() -> result<l2sec::mutable_bytes> {
            for (int i = 0; i < 4000; ++i) {
                auto p = t->read_packet(buf, 0);
                if (p && std::to_integer<int>((*p)[0]) == 0x45 &&
                    std::to_integer<int>((*p)[9]) == 6)
                    return p;
                if (!p) ::usleep(500);
            }
            return l2sec::error(errc::would_block);
        };
        auto syn = next_tcp();
        REQUIRE(syn);
        CHECK(checksums_ok(*syn));
        const std::uint16_t cport = load_be16(&(*syn)[20]);
        const std::uint32_t isn = load_be32(&(*syn)[24]);
        CHECK(std::to_integer<int>((*syn)[33]) == 0x02);  // SYN
        // SYN-ACK with MSS 1400, no timestamps: segments carry 1400 bytes.
        std::vector<std::byte> sa(44);
        sa[0] = std::byte{0x45};
        store_be16(&sa[2], 44);
        sa[8] = std::byte{64};
        sa[9] = std::byte{6};
        sa[12] = std::byte{10}, sa[13] = std::byte{80}, sa[15] = std::byte{9};
        sa[16] = std::byte{10}, sa[17] = std::byte{80}, sa[19] = std::byte{1};
        store_be16(&sa[10], l2sec::internet_checksum(bytes_view(sa).first(20)));
        store_be16(&sa[20], 80);
        store_be16(&sa[22], cport);
        store_be32(&sa[24], 0x10000000u);
        store_be32(&sa[28], isn + 1);
        sa[32] = std::byte{0x60};  // 24-byte header
        sa[33] = std::byte{0x12};  // SYN ACK
        store_be16(&sa[34], 65535);
        sa[40] = std::byte{2}, sa[41] = std::byte{4};
        store_be16(&sa[42], 1400);
        std::uint32_t sum = l2sec::checksum_add(0, bytes_view(sa).subspan(12, 8)) + 6 + 24;
        store_be16(&sa[36],
                   l2sec::checksum_fold(l2sec::checksum_add(sum, bytes_view(sa).subspan(20))));
        REQUIRE(t->write_packet(sa));
        // Then 12,000 bytes from the client: within its initial window, so
        // they leave at once, as one TSO packet when the device takes TSO.
        std::vector<std::byte> data(12000);
        for (std::size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<std::byte>(i * 13 + 1);
        for (int i = 0; i < 200; ++i) {
            if (::send(fd, data.data(), data.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(data.size()))
                break;
            ::usleep(1000);
        }
        std::size_t bytes = 0, segs = 0;
        while (bytes < data.size()) {
            auto p = next_tcp();
            if (!p) break;
            CHECK(checksums_ok(*p));
            const std::size_t hl = (std::to_integer<std::size_t>((*p)[32]) >> 4) * 4;
            const std::size_t pl = p->size() - 20 - hl;
            if (pl == 0) continue;  // the handshake's ACK
            CHECK(pl <= 1400);
            CHECK(load_be32(&(*p)[24]) == isn + 1 + bytes);  // contiguous
            REQUIRE(bytes + pl <= data.size());
            CHECK(std::memcmp(p->data() + 20 + hl, data.data() + bytes, pl) == 0);
            bytes += pl;
            ++segs;
        }
        ::close(fd);
        CHECK(bytes == data.size());
        CHECK(segs >= 9);
        MESSAGE("TCP: " << segs << " segments from " << t->super_packets() << " super-packets");
        if (t->offloads().tso) CHECK(t->super_packets() >= 1);
    }

    TEST_CASE("linux_tun offload: coalesced writes reach a real TCP server of the kernel") {
        test::scoped_netns ns;
        auto t = linux_tun::open("l2sec7", {.offload = true});
        if (!t && t.error() == errc::not_supported)
            test::skip_run("no TUN: " + t.error().message());
        REQUIRE_MESSAGE(t, t.error().message());
        REQUIRE(t->set_mtu(1500));
        REQUIRE(t->set_ipv4(endpoint::v4(10, 81, 0, 1, 0), 24));
        REQUIRE(t->set_up());
        int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        REQUIRE(lfd >= 0);
        sockaddr_storage ss;
        socklen_t len = l2sec::transport::detail::to_sockaddr(endpoint::v4(10, 81, 0, 1, 5001), ss);
        REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
        REQUIRE(::listen(lfd, 4) == 0);
        std::array<std::byte, 2048> buf{};
        while (t->read_packet(buf, 0)) {
        }
        const auto me = endpoint::v4(10, 81, 0, 9, 40000), srv = endpoint::v4(10, 81, 0, 1, 5001);
        const std::uint32_t isn = 0xfffff000u;  // wraps during the transfer
        REQUIRE(t->write_packet(tcp4(me, srv, isn, 0, 0x02, {}, 1400)));
        result<l2sec::mutable_bytes> synack = l2sec::error(errc::would_block);
        for (int i = 0; i < 4000 && !synack; ++i) {
            auto p = t->read_packet(buf, 0);
            if (p && std::to_integer<int>((*p)[9]) == 6 && std::to_integer<int>((*p)[33]) == 0x12)
                synack = p;
            else if (!p)
                ::usleep(500);
        }
        REQUIRE(synack);
        CHECK(load_be32(&(*synack)[28]) == isn + 1);
        const std::uint32_t sisn = load_be32(&(*synack)[24]);
        REQUIRE(t->write_packet(tcp4(me, srv, isn + 1, sisn + 1, 0x10, {})));
        int cfd = -1;
        for (int i = 0; i < 4000 && cfd < 0; ++i, ::usleep(500))
            cfd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
        REQUIRE(cfd >= 0);

        std::vector<std::byte> data(10 * 1400 + 600);
        for (std::size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<std::byte>(i * 5 + 3);
        std::vector<std::vector<std::byte>> segs;
        for (std::size_t k = 0; k < 11; ++k)
            segs.push_back(tcp4(me, srv, isn + 1 + static_cast<std::uint32_t>(1400 * k), sisn + 1,
                                k == 10 ? 0x18 : 0x10,
                                bytes_view(data).subspan(1400 * k, k < 10 ? 1400 : 600)));
        std::vector<bytes_view> views(segs.begin(), segs.end());
        const auto writes = t->write_calls();
        auto w = t->write_batch(views);
        REQUIRE(w);
        CHECK(*w == 11);
        if (t->offloads().tso) {
            CHECK(t->coalesced_writes() == 1);
            CHECK(t->write_calls() - writes == 1);  // eleven segments, one write()
        }
        std::vector<std::byte> got;
        for (int i = 0; i < 4000 && got.size() < data.size(); ++i) {
            std::array<std::byte, 16384> r{};
            const ssize_t n = ::recv(cfd, r.data(), r.size(), 0);
            if (n > 0)
                got.insert(got.end(), r.begin(), r.begin() + n);
            else
                ::usleep(500);
        }
        ::close(cfd);
        ::close(lfd);
        CHECK(got.size() == data.size());
        CHECK(got == data);  // the kernel's TCP took the super-packet whole and in order
    }

    TEST_CASE("linux_tun offload: coalesced UDP writes (USO) reach a kernel UDP socket in order") {
        test::scoped_netns ns;
        auto t = linux_tun::open("l2sec8", {.offload = true});
        if (!t && t.error() == errc::not_supported)
            test::skip_run("no TUN: " + t.error().message());
        REQUIRE_MESSAGE(t, t.error().message());
        REQUIRE(t->set_ipv4(endpoint::v4(10, 82, 0, 1, 0), 24));
        REQUIRE(t->set_up());
        auto sock = posix_udp::bind(endpoint::v4(10, 82, 0, 1, 0), {.receive_buffer = 1 << 20});
        REQUIRE(sock);
        const auto from = endpoint::v4(10, 82, 0, 9, 4500);
        std::vector<std::vector<std::byte>> dgrams;
        for (std::size_t k = 0; k < 20; ++k) {
            std::vector<std::byte> pl(k < 19 ? 1000 : 300, static_cast<std::byte>(k));
            dgrams.push_back(test::ipv4_udp(from, sock->local_endpoint(), pl));
        }
        std::vector<bytes_view> views(dgrams.begin(), dgrams.end());
        const auto writes = t->write_calls();
        auto w = t->write_batch(views);
        REQUIRE(w);
        CHECK(*w == 20);
        if (t->offloads().uso) CHECK(t->write_calls() - writes == 1);
        std::array<std::byte, 2048> buf{};
        std::size_t got = 0;
        for (int i = 0; i < 4000 && got < 20; ++i) {
            auto r = sock->receive_from(buf);
            if (!r) {
                ::usleep(500);
                continue;
            }
            CHECK(r->from == from);
            CHECK(r->size == (got < 19 ? 1000u : 300u));
            CHECK(buf[0] == static_cast<std::byte>(got));
            ++got;
        }
        CHECK(got == 20);
    }
}
