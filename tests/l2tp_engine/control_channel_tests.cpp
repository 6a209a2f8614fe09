// The reliable control channel: unit behaviour, and a deterministic
// simulation over the lossy in-memory network (30% loss, duplication,
// reordering) across hundreds of seeds: every message delivered exactly once,
// in order, on both sides.
#include <l2sec/l2tp/control_channel.hpp>
#include <l2sec/transport/memory_network.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include "l2tp_engine/names.hpp"

namespace {

using channel = control_channel<8, 8, 128>;

// A control message with a 6-byte "AVP" payload carrying a 32-bit tag.
std::array<std::byte, 18> message(std::uint16_t tunnel, std::uint32_t tag) {
    std::array<std::byte, 18> m{};
    l2sec::store_be16(m.data(), 0xC802);
    l2sec::store_be16(m.data() + 2, 18);
    l2sec::store_be16(m.data() + 4, tunnel);
    l2sec::store_be32(m.data() + 14, tag);
    return m;
}
std::uint32_t tag_of(bytes_view m) {
    return l2sec::load_be32(m.data() + 14);
}

}  // namespace

TEST_CASE("control channel: send, deliver, delayed ZLB ACK, Ns/Nr written") {
    channel a({7, 4}), b({9, 4});
    time_point now{};
    std::array<std::byte, 256> buf{};
    REQUIRE(a.send(message(7, 0xA1), now));
    auto n = a.poll_transmit(now, buf);
    REQUIRE(n);
    CHECK(*n == 18);
    CHECK(l2sec::load_be16(buf.data() + 8) == 0);   // Ns
    CHECK(l2sec::load_be16(buf.data() + 10) == 0);  // Nr
    CHECK_FALSE(a.poll_transmit(now, buf));         // waits for the ACK
    REQUIRE(a.deadline());
    CHECK(*a.deadline() == now + 1s);

    auto k = b.receive(bytes_view(buf.data(), *n), now);
    REQUIRE(k);
    CHECK(*k == channel::received_kind::message);
    auto m = b.next_message();
    REQUIRE(m);
    CHECK(tag_of(*m) == 0xA1);
    CHECK_FALSE(b.next_message());
    CHECK(b.next_nr() == 1);
    CHECK_FALSE(b.poll_transmit(now, buf));  // ACK is delayed
    REQUIRE(b.deadline());
    CHECK(*b.deadline() == now + 100ms);
    auto z = b.poll_transmit(now + 100ms, buf);
    REQUIRE(z);
    CHECK(test::to_hex(bytes_view(buf.data(), *z)) == "c802000c0009000000000001");  // ZLB, Nr=1
    auto zk = a.receive(bytes_view(buf.data(), *z), now + 100ms);
    REQUIRE(zk);
    CHECK(*zk == channel::received_kind::zlb);
    CHECK(a.idle());
    CHECK_FALSE(a.deadline());
}

TEST_CASE("control channel: a reply piggybacks the ACK, no ZLB") {
    channel a({7, 4}), b({9, 4});
    time_point now{};
    std::array<std::byte, 256> buf{};
    REQUIRE(a.send(message(7, 1), now));
    auto n = a.poll_transmit(now, buf);
    REQUIRE(b.receive(bytes_view(buf.data(), *n), now));
    REQUIRE(b.next_message());
    REQUIRE(b.send(message(9, 2), now));
    auto r = b.poll_transmit(now, buf);
    REQUIRE(r);
    CHECK(l2sec::load_be16(buf.data() + 10) == 1);
    CHECK_FALSE(b.poll_transmit(now + 500ms, buf).has_value());  // Nr went out with the reply
    REQUIRE(a.receive(bytes_view(buf.data(), 18), now));
    CHECK(a.idle());
}

TEST_CASE("control channel: out-of-order messages are held and delivered in order") {
    channel a({7, 8}), b({9, 8});
    time_point now{};
    std::vector<std::vector<std::byte>> wire;
    std::array<std::byte, 256> buf{};
    for (std::uint32_t i = 0; i < 3; ++i)
        REQUIRE(a.send(message(7, i), now));
    // Slow start: one message in flight until the first ACK.
    while (auto n = a.poll_transmit(now, buf))
        wire.emplace_back(buf.begin(), buf.begin() + *n);
    CHECK(wire.size() == 1);
    a.set_peer_window(8);
    // Deliver the first, get its ACK back: the window opens to two.
    REQUIRE(b.receive(wire[0], now));
    REQUIRE(b.next_message());
    auto z = b.poll_transmit(now + 1s, buf);
    REQUIRE(z);
    REQUIRE(a.receive(bytes_view(buf.data(), *z), now));
    CHECK(a.congestion_window() == 2);
    wire.clear();
    while (auto n = a.poll_transmit(now, buf))
        wire.emplace_back(buf.begin(), buf.begin() + *n);
    REQUIRE(wire.size() == 2);
    // Ns 2 arrives before Ns 1 (Watchguard): kept, not dropped.
    auto k = b.receive(wire[1], now);
    REQUIRE(k);
    CHECK(*k == channel::received_kind::message);
    CHECK_FALSE(b.next_message());
    CHECK(b.next_nr() == 1);
    REQUIRE(b.receive(wire[0], now));
    CHECK(b.next_nr() == 3);
    auto m1 = b.next_message();
    REQUIRE(m1);
    CHECK(tag_of(*m1) == 1);
    auto m2 = b.next_message();
    REQUIRE(m2);
    CHECK(tag_of(*m2) == 2);
    CHECK(b.stats().reordered == 1);
    // A duplicate is dropped and acknowledged at once.
    auto d = b.receive(wire[0], now + 1ms);
    REQUIRE(d);
    CHECK(*d == channel::received_kind::duplicate);
    auto ack = b.poll_transmit(now + 1ms, buf);
    REQUIRE(ack);
    CHECK(*ack == 12);
    CHECK(l2sec::load_be16(buf.data() + 10) == 3);
}

TEST_CASE("control channel: exponential backoff with a cap, then failure") {
    control_channel_config cfg;
    cfg.peer_tunnel_id = 1;
    cfg.initial_timeout = 1s;
    cfg.max_timeout = 4s;
    cfg.max_retransmissions = 4;
    channel a(cfg);
    time_point now{};
    std::array<std::byte, 256> buf{};
    REQUIRE(a.send(message(1, 1), now));
    std::vector<long long> gaps;
    time_point last = now;
    REQUIRE(a.poll_transmit(now, buf));
    while (auto d = a.deadline()) {
        now = *d;
        if (!a.poll_transmit(now, buf)) break;
        gaps.push_back(std::chrono::duration_cast<std::chrono::seconds>(now - last).count());
        last = now;
    }
    CHECK(gaps == std::vector<long long>{1, 2, 4, 4});
    CHECK(a.failed());
    CHECK(a.stats().retransmitted == 4);
}

TEST_CASE("control channel: malformed input is rejected with its offset") {
    channel a;
    time_point now{};
    auto short_msg = test::hex("c8 02 00 0c 00 01");
    auto r = a.receive(short_msg, now);
    REQUIRE_FALSE(r);
    CHECK(r.error() == l2sec::errc::truncated);
    CHECK(r.error().offset == 6);
    auto data_msg = test::hex("40 02 00 0c 00 01 00 00 00 00 00 00");
    auto d = a.receive(data_msg, now);
    REQUIRE_FALSE(d);
    CHECK(d.error() == l2sec::errc::invalid_argument);
    CHECK(d.error().offset == 0);
    auto bad_len = test::hex("c8 02 00 20 00 01 00 00 00 00 00 00");
    auto l = a.receive(bad_len, now);
    REQUIRE_FALSE(l);
    CHECK(l.error() == l2sec::errc::length_mismatch);
    CHECK(l.error().offset == 2);
    // A message larger than a receive slot is refused, never copied past it (found by fuzzing).
    std::vector<std::byte> huge(300);
    l2sec::store_be16(huge.data(), 0xC802);
    l2sec::store_be16(huge.data() + 2, 300);
    auto h = a.receive(huge, now);
    REQUIRE_FALSE(h);
    CHECK(h.error() == l2sec::errc::capacity_exceeded);
    CHECK(h.error().offset == 2);
    std::array<std::byte, 200> big{};
    auto s = a.send(big, now);
    REQUIRE_FALSE(s);
    CHECK(s.error() == l2sec::errc::capacity_exceeded);
}

namespace {

struct sim_result {
    bool ok = true;
    std::vector<std::uint32_t> got_a, got_b;
    time_point end{};
};

// Two channels exchange `count` messages each over a lossy network.
sim_result simulate(std::uint64_t seed, std::uint32_t count) {
    auto net = std::make_unique<tr::memory_network<512, 256, 2>>(
        seed, tr::impairments{0.3, 0.1, 0.2, 1ms, 20ms, 50ms});
    auto ea = tr::endpoint::v4(10, 0, 0, 1, 1701), eb = tr::endpoint::v4(10, 0, 0, 2, 1701);
    auto sa = *net->open(ea);
    auto sb = *net->open(eb);
    control_channel_config cfg;
    cfg.max_retransmissions = 20;
    cfg.peer_window = 4;
    cfg.peer_tunnel_id = 2;
    channel a(cfg);
    cfg.peer_tunnel_id = 1;
    channel b(cfg);
    sim_result res;
    std::uint32_t next_a = 0, next_b = 0;
    std::array<std::byte, 256> buf{};
    time_point now{};
    for (int step = 0; step < 200000; ++step) {
        net->advance_to(now);
        while (next_a < count && a.send(message(2, next_a), now))
            ++next_a;
        while (next_b < count && b.send(message(1, 0x10000 + next_b), now))
            ++next_b;
        while (auto n = a.poll_transmit(now, buf))
            (void)sa.send_to(eb, bytes_view(buf.data(), *n));
        while (auto n = b.poll_transmit(now, buf))
            (void)sb.send_to(ea, bytes_view(buf.data(), *n));
        while (auto r = sb.receive_from(buf)) {
            (void)b.receive(bytes_view(buf.data(), r->size), now);
            while (auto m = b.next_message())
                res.got_b.push_back(tag_of(*m));
        }
        while (auto r = sa.receive_from(buf)) {
            (void)a.receive(bytes_view(buf.data(), r->size), now);
            while (auto m = a.next_message())
                res.got_a.push_back(tag_of(*m) - 0x10000);
        }
        if (a.failed() || b.failed()) {
            res.ok = false;
            break;
        }
        bool done = next_a == count && next_b == count && a.idle() && b.idle() &&
                    res.got_a.size() == count && res.got_b.size() == count;
        if (done) break;
        std::optional<time_point> t;
        for (auto d : {a.deadline(), b.deadline(), net->next_delivery()})
            if (d && (!t || *d < *t)) t = d;
        if (!t) {
            res.ok = false;  // stalled: nothing scheduled yet not done
            break;
        }
        now = *t > now ? *t : now;
    }
    res.end = now;
    return res;
}

}  // namespace

TEST_CASE("control channel: 300 seeds over a 30% lossy, duplicating, reordering network") {
    constexpr std::uint32_t count = 40;
    std::vector<std::uint32_t> expect(count);
    for (std::uint32_t i = 0; i < count; ++i)
        expect[i] = i;
    int failures = 0;
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
        auto r = simulate(seed, count);
        CAPTURE(seed);
        if (!r.ok || r.got_a != expect || r.got_b != expect) ++failures;
        CHECK(r.ok);
        CHECK(r.got_b == expect);  // exactly once, in order
        CHECK(r.got_a == expect);
    }
    CHECK(failures == 0);
}

TEST_CASE("control channel: zero allocations in steady state") {
    auto a = std::make_unique<channel>(control_channel_config{2, 8});
    auto b = std::make_unique<channel>(control_channel_config{1, 8});
    std::array<std::byte, 256> buf{};
    time_point now{};
    auto m = message(2, 5);
    std::size_t allocs = test::allocations_in([&] {
        for (int i = 0; i < 1000; ++i) {
            (void)a->send(m, now);
            while (auto n = a->poll_transmit(now, buf))
                (void)b->receive(bytes_view(buf.data(), *n), now);
            while (b->next_message()) {
            }
            now += 200ms;
            while (auto n = b->poll_transmit(now, buf))
                (void)a->receive(bytes_view(buf.data(), *n), now);
        }
    });
    CHECK(allocs == 0);
    CHECK(b->stats().delivered == 1000);
}
