// The TUN seam: memory_tun (always), linux_tun against the real kernel in a
// network namespace of the test's own (suite kernel.tun: ctest transport.tun).
#include <l2sec/transport/linux_tun.hpp>
#include <l2sec/transport/memory_tun.hpp>
#include <l2sec/transport/posix_udp.hpp>

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <memory>
#include <string>
#include <vector>

#include "support/alloc_counter.hpp"
#include "transport/netns.hpp"

using l2sec::bytes_view;
using l2sec::equal;
using l2sec::mutable_bytes;
using l2sec::result;
namespace test = l2sec::test;
using namespace l2sec::transport;

namespace {

// A user-written minimal device plugs into the same seam.
struct null_tun {
    result<mutable_bytes> read_packet(mutable_bytes, std::size_t) noexcept {
        return l2sec::error(errc::would_block);
    }
    result<std::size_t> write_packet(bytes_view p) noexcept { return p.size(); }
    int native_handle() const noexcept { return -1; }
};
static_assert(tun_device<null_tun>);
static_assert(tun_device<memory_tun<4, 128>>);
static_assert(tun_device<linux_tun>);

std::vector<std::byte> packet(std::size_t n, int fill) {
    // An IPv4 header whose Total Length says n, then fill bytes.
    std::vector<std::byte> p(n, static_cast<std::byte>(fill));
    p[0] = std::byte{0x45};
    l2sec::store_be16(&p[2], static_cast<std::uint16_t>(n));
    return p;
}

}  // namespace

TEST_CASE("ip_packet_length reads IPv4 and IPv6 length fields") {
    auto v4 = packet(100, 0);
    CHECK(ip_packet_length(v4) == 100);
    std::array<std::byte, 40> v6{};
    v6[0] = std::byte{0x60};
    l2sec::store_be16(&v6[4], 8);
    CHECK(ip_packet_length(v6) == 48);
    std::array<std::byte, 1> junk{std::byte{0x10}};
    CHECK(ip_packet_length(junk) == 0);
    CHECK(ip_packet_length({}) == 0);
}

TEST_CASE("memory_tun: headroom, both directions, ring full, no allocation") {
    auto tun = std::make_unique<memory_tun<4, 256>>(200);
    std::array<std::byte, 512> buf{};
    auto none = tun->read_packet(buf, 64);
    REQUIRE_FALSE(none);
    CHECK(none.error() == errc::would_block);
    CHECK(tun->native_handle() == -1);

    auto a = packet(100, 0xaa), b = packet(60, 0xbb);
    std::size_t allocs = test::allocations_in([&] {
        REQUIRE(tun->inject(a));
        REQUIRE(tun->inject(b));
        auto p = tun->read_packet(buf, 64);
        REQUIRE(p);
        CHECK(p->data() == buf.data() + 64);  // at the headroom, in the caller's buffer
        CHECK(equal(*p, a));
        REQUIRE(tun->write_packet(*p));
        std::array<std::byte, 256> out{};
        auto n = tun->extract(out);
        REQUIRE(n);
        CHECK(equal(bytes_view(out.data(), *n), a));
    });
    CHECK(allocs == 0);
    // b is still queued; a buffer too small keeps it there for a retry.
    std::array<std::byte, 80> small{};
    auto t = tun->read_packet(small, 64);
    REQUIRE_FALSE(t);
    CHECK(t.error() == errc::message_too_large);
    CHECK(tun->pending_reads() == 1);
    CHECK(tun->read_packet(buf, 0));
    CHECK(tun->read_packet(buf, 600).error() == errc::address_invalid);
    // MTU and capacity.
    CHECK(tun->write_packet(packet(201, 0)).error() == errc::message_too_large);
    for (int i = 0; i < 4; ++i)
        REQUIRE(tun->write_packet(b));
    CHECK(tun->write_packet(b).error() == errc::would_block);
    CHECK(tun->stats().overflowed == 1);
    CHECK(tun->pending_extracts() == 4);
}

TEST_CASE("read_batch drains a device until would_block") {
    auto tun = std::make_unique<memory_tun<8, 256>>();
    std::array<std::array<std::byte, 256>, 4> store{};
    std::array<mutable_bytes, 4> bufs{};
    for (std::size_t i = 0; i < 4; ++i)
        bufs[i] = store[i];
    std::array<mutable_bytes, 4> out{};
    CHECK(read_batch(*tun, bufs, 32, out).error() == errc::would_block);
    for (int i = 0; i < 6; ++i)
        REQUIRE(tun->inject(packet(static_cast<std::size_t>(40 + i), i)));
    auto n = read_batch(*tun, bufs, 32, out);
    REQUIRE(n);
    CHECK(*n == 4);
    CHECK(out[3].size() == 43);
    CHECK(out[3].data() == store[3].data() + 32);
    n = read_batch(*tun, bufs, 32, out);
    REQUIRE(n);
    CHECK(*n == 2);
}

// ---------------------------------------------------------------------------
// linux_tun against the kernel.

namespace {
const endpoint local_ip = endpoint::v4(10, 77, 0, 1, 0);
const endpoint peer_ip = endpoint::v4(10, 77, 0, 2, 0);
const endpoint pool = endpoint::v4(10, 78, 0, 0, 0);

linux_tun open_or_skip(std::string_view name, tun_options opt = {}) {
    auto t = linux_tun::open(name, opt);
    if (!t && t.error() == errc::not_supported) test::skip_run("no TUN: " + t.error().message());
    REQUIRE_MESSAGE(t, t.error().message());
    return std::move(*t);
}

result<mutable_bytes> read_wait(linux_tun& t, mutable_bytes buf, std::size_t headroom) {
    for (int i = 0; i < 2000; ++i) {
        auto r = t.read_packet(buf, headroom);
        if (r || r.error() != errc::would_block) return r;
        ::usleep(500);
    }
    return l2sec::error(errc::would_block);
}
}  // namespace

TEST_SUITE("kernel.tun" * doctest::skip()) {
    TEST_CASE("linux_tun: configured by ioctl, as iproute2 sees it") {
        test::scoped_netns ns;
        auto tun = open_or_skip("l2sec0");
        CHECK(tun.name() == "l2sec0");
        CHECK(tun.native_handle() >= 0);
        REQUIRE(tun.set_mtu(1400));
        REQUIRE(tun.set_ipv4(local_ip, 32, peer_ip));
        REQUIRE(tun.set_up());
        REQUIRE(tun.add_route(pool, 24));
        REQUIRE(
            tun.add_ipv6(endpoint::v6({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0), 64));
        CHECK(*tun.mtu() == 1400);
        CHECK(*netdev::is_up("l2sec0"));

        const std::string link = test::run("ip -o link show dev l2sec0");
        CHECK_MESSAGE(link.find("mtu 1400") != std::string::npos, link);
        CHECK_MESSAGE(link.find("UP") != std::string::npos, link);
        const std::string addr = test::run("ip -o addr show dev l2sec0");
        CHECK_MESSAGE(addr.find("inet 10.77.0.1 peer 10.77.0.2/32") != std::string::npos, addr);
        CHECK_MESSAGE(addr.find("inet6 fd00::1/64") != std::string::npos, addr);
        const std::string route = test::run("ip route show dev l2sec0");
        CHECK_MESSAGE(route.find("10.78.0.0/24") != std::string::npos, route);

        // Errors say what was wrong.
        CHECK(tun.add_route(pool, 24).error() == errc::name_in_use);  // exists
        CHECK(tun.add_route(endpoint::v4(10, 78, 0, 1, 0), 24).error() == errc::address_invalid);
        CHECK(tun.set_ipv4(local_ip, 33).error() == errc::address_invalid);
        CHECK(netdev::set_mtu("nosuchdev0", 1400).error() == errc::not_supported);
        CHECK(netdev::set_mtu("this-name-is-far-too-long", 1400).error() == errc::address_invalid);
    }

    TEST_CASE("linux_tun: packets both ways through the kernel, at the headroom, no allocation") {
        test::scoped_netns ns;
        auto tun = open_or_skip("l2sec1");
        REQUIRE(tun.set_mtu(1400));
        REQUIRE(tun.set_ipv4(local_ip, 32, peer_ip));
        REQUIRE(tun.set_up());
        REQUIRE(tun.add_route(pool, 24));
        auto sock = posix_udp::bind(endpoint::v4(10, 77, 0, 1, 0));
        REQUIRE(sock);
        const endpoint me = sock->local_endpoint();
        const endpoint far = endpoint::v4(10, 78, 0, 5, 9999);

        std::array<std::byte, 2048> buf{};
        {  // non-blocking: drain what the kernel sent on link-up (IPv6 solicitations)
            result<mutable_bytes> d = l2sec::error(errc::would_block);
            for (int i = 0; i < 100 && (d = tun.read_packet(buf, 96));)
                ++i;
            CHECK(d.error() == errc::would_block);
        }

        // A local program sends into the pool: the kernel routes it to us.
        auto msg = l2sec::as_bytes("through the tun");
        REQUIRE(sock->send_to(far, msg));
        result<mutable_bytes> got = l2sec::error(errc::would_block);
        while ((got = read_wait(tun, buf, 96)) && std::to_integer<int>((*got)[0]) >> 4 != 4) {
        }  // skip IPv6 router solicitations and the like
        REQUIRE(got);
        CHECK(got->data() == buf.data() + 96);
        REQUIRE(got->size() == 28 + msg.size());
        CHECK(std::to_integer<int>((*got)[9]) == 17);              // UDP
        CHECK(std::memcmp(&(*got)[16], far.addr.data(), 4) == 0);  // to the pool address
        CHECK(l2sec::load_be16(&(*got)[22]) == 9999);
        CHECK(equal(got->subspan(28), msg));

        // And an answer written to the device is delivered to the socket.
        auto reply = test::ipv4_udp(far, me, l2sec::as_bytes("answer"));
        std::size_t allocs = test::allocations_in([&] {
            auto w = tun.write_packet(reply);
            REQUIRE(w);
            CHECK(*w == reply.size());
        });
        CHECK(allocs == 0);
        result<received> r = l2sec::error(errc::would_block);
        for (int i = 0; i < 2000 && !r; ++i, ::usleep(500))
            r = sock->receive_from(buf);
        REQUIRE(r);
        CHECK(r->from == far);
        CHECK(equal(bytes_view(buf.data(), r->size), l2sec::as_bytes("answer")));

        // A batch: many datagrams, read in a loop until EAGAIN, no allocation.
        for (int i = 0; i < 16; ++i)
            REQUIRE(sock->send_to(far, msg));
        ::usleep(20000);
        std::vector<std::array<std::byte, 2048>> store(16);
        std::array<mutable_bytes, 16> bufs{}, out{};
        for (std::size_t i = 0; i < 16; ++i)
            bufs[i] = store[i];
        std::size_t total = 0, calls = 0, ipv4 = 0;
        allocs = test::allocations_in([&] {
            while (calls < 100 && total < 16) {
                ++calls;
                auto n = read_batch(tun, std::span(bufs).first(16 - total), 64, out);
                if (!n) {
                    ::usleep(1000);
                    continue;
                }
                for (std::size_t i = 0; i < *n; ++i)
                    if (std::to_integer<int>(out[i][0]) >> 4 == 4) ++ipv4;
                total += *n;
            }
        });
        CHECK(allocs == 0);
        CHECK(ipv4 >= 15);  // all of them, bar an IPv6 solicitation that took a slot

        // A buffer too small: reported, not truncated silently.
        REQUIRE(sock->send_to(far, msg));
        std::array<std::byte, 100> small{};
        auto t = read_wait(tun, small, 90);
        REQUIRE_FALSE(t);
        CHECK(t.error() == errc::message_too_large);
        CHECK(tun.read_packet(small, 100).error() == errc::address_invalid);
    }

    TEST_CASE("linux_tun: multi-queue, name in use, no permission, no device") {
        test::scoped_netns ns;
        {
            auto q0 = open_or_skip("l2sec2", {.multi_queue = true});
            auto q1 = linux_tun::open("l2sec2", {.multi_queue = true});
            REQUIRE_MESSAGE(q1, q1.error().message());
            CHECK(q1->native_handle() != q0.native_handle());
            // The same name without IFF_MULTI_QUEUE does not match the device.
            CHECK(linux_tun::open("l2sec2").error() == errc::name_in_use);
        }
        {
            auto a = open_or_skip("l2sec3");
            auto b = linux_tun::open("l2sec3");
            REQUIRE_FALSE(b);
            CHECK(b.error() == errc::name_in_use);  // single queue already attached
            CHECK(linux_tun::open("lo").error() == errc::name_in_use);  // not a TUN
            CHECK(linux_tun::open("0123456789abcdef").error() == errc::address_invalid);
            auto k = open_or_skip("");  // the kernel picks the name
            CHECK(k.name().substr(0, 3) == "tun");
        }
        CHECK(linux_tun::open("x", {.clone_device = "/nonexistent/tun"}).error() ==
              errc::not_supported);
        // Without privileges: a child drops to nobody and tries.
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
            auto r = linux_tun::open("l2sec4");
            ::_exit(!r && r.error() == errc::permission_denied ? 0 : 1);
        }
        int st = 0;
        ::waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 0);
    }
}
