// The L2TP engine's timers (the heap itself: tests/core/deadline_heap_tests.cpp):
// the engine against the per-tunnel scan it replaced (the reference
// model) over random schedules, 10,000 quiet tunnels costing no work per
// on_timer(), and no allocations.
#include <l2sec/l2tp/engine.hpp>

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "l2tp_engine/timer_schedule.hpp"
#include "support/alloc_counter.hpp"

#include "l2tp_engine/names.hpp"

namespace {

// The reference model: what on_timer() and deadline() computed before the
// heap, a scan of every tunnel slot, written against the public API.
template <class Engine>
std::optional<time_point> reference_tunnel_deadline(const Engine& e,
                                                    const typename Engine::tunnel_type& t) {
    std::optional<time_point> best = t.channel.deadline();
    auto take = [&](time_point x) {
        if (!best || x < *best) best = x;
    };
    if (t.state == tunnel_state::closed_wait) take(t.hold_until);
    if (t.state == tunnel_state::wait_ctl_conn) take(t.half_open_until);
    if (t.state == tunnel_state::established) take(t.last_rx + e.config().hello_interval);
    return best;
}

template <class Engine>
std::optional<time_point> reference_deadline(const Engine& e) {
    std::optional<time_point> best;
    for (std::uint16_t id = 1; id <= Engine::max_tunnels; ++id)
        if (const auto* t = e.find_tunnel(id))
            if (auto d = reference_tunnel_deadline(e, *t); d && (!best || *d < *best)) best = d;
    return best;
}

// What the scan's on_timer(now) does to each tunnel.
enum class expect : std::uint8_t { nothing, freed, hello };

struct reference_checker {
    std::array<std::array<expect, test::timer_engine::max_tunnels + 1>, 2> predicted{};
    std::array<std::array<bool, test::timer_engine::max_tunnels + 1>, 2> live{};
    std::array<std::uint64_t, 2> visits_before{};
    std::array<std::size_t, 2> due{}, live_count{};
    std::size_t checks = 0, hellos = 0, frees = 0, timers_due = 0;

    template <class E>
    void before_timer(std::size_t ku, E& e, time_point now) {
        REQUIRE(e.deadline() == reference_deadline(e));
        ++checks;
        due[ku] = live_count[ku] = 0;
        for (std::uint16_t id = 1; id <= E::max_tunnels; ++id) {
            auto& p = predicted[ku][id];
            p = expect::nothing;
            const auto* t = e.find_tunnel(id);
            live[ku][id] = t != nullptr;
            if (!t) continue;
            ++live_count[ku];
            if (auto d = reference_tunnel_deadline(e, *t); d && *d <= now) ++due[ku];
            if (t->state == tunnel_state::closed_wait && t->hold_until <= now &&
                !t->channel.ack_pending())
                p = expect::freed;
            else if (t->state == tunnel_state::wait_ctl_conn && t->half_open_until <= now)
                p = expect::freed;  // half-open: its SCCCN never came
            else if (t->state == tunnel_state::established && t->channel.idle() &&
                     t->last_rx + e.config().hello_interval <= now)
                p = expect::hello;
        }
        visits_before[ku] = e.stats().timer_visits;
    }

    template <class E>
    void after_timer(std::size_t ku, E& e, time_point now) {
        const auto visits = e.stats().timer_visits - visits_before[ku];
        // Every due tunnel is looked at; nothing beyond the live ones.
        REQUIRE(visits >= due[ku]);
        REQUIRE(visits <= live_count[ku]);
        timers_due += due[ku];
        for (std::uint16_t id = 1; id <= E::max_tunnels; ++id) {
            const auto* t = e.find_tunnel(id);
            switch (predicted[ku][id]) {
                case expect::freed:
                    REQUIRE(t == nullptr);
                    ++frees;
                    break;
                case expect::hello:
                    REQUIRE(t != nullptr);
                    REQUIRE(t->last_rx == now);
                    REQUIRE_FALSE(t->channel.idle());
                    ++hellos;
                    break;
                case expect::nothing:
                    REQUIRE((t != nullptr) == live[ku][id]);
                    break;
            }
        }
    }
    void datagram(std::size_t, bytes_view) {}
    void event(std::size_t, const engine_event&) {}
};

}  // namespace

TEST_CASE("engine timers: deadline() and on_timer() match the per-tunnel scan (random schedules)") {
    reference_checker c;
    for (std::uint64_t seed = 1; seed <= 150; ++seed) {
        CAPTURE(seed);
        test::run_timer_schedule<test::timer_engine>(seed, 1500, c);
    }
    MESSAGE(c.checks << " deadline checks, " << c.timers_due << " due tunnels, " << c.hellos
                     << " Hellos, " << c.frees << " hold-time frees");
    // The schedules do exercise the timers.
    CHECK(c.hellos > 1000);
    CHECK(c.frees > 100);
    CHECK(c.timers_due > 10000);
}

namespace {

using big =
    engine<l2sec::crypto::botan, carrier_limits, l2sec::testing::insecure_deterministic_random>;

// 10,000 tunnels up between two carrier-sized engines at time 0.
struct carrier_pair {
    std::unique_ptr<big> lac, lns;
    tr::endpoint lac_ep = tr::endpoint::v4(10, 0, 0, 1, 1701);
    tr::endpoint lns_ep = tr::endpoint::v4(10, 0, 0, 2, 1701);
    std::array<std::byte, 1600> buf{};
    std::size_t up = 0;

    carrier_pair() {
        engine_config lc{.host_name = "lac"};
        lc.accept_tunnels = false;
        lac = std::make_unique<big>(lc, l2sec::testing::insecure_deterministic_random(1));
        lns = std::make_unique<big>(
            engine_config{.host_name = "lns", .max_half_open = 10000, .max_half_open_per_peer = 0},
            l2sec::testing::insecure_deterministic_random(2));
        for (int i = 0; i < 10000; ++i) {
            REQUIRE(lac->open_tunnel(lns_ep, time_point{}));
            if (i % 100 == 99) exchange(time_point{});
        }
        exchange(time_point{});
    }
    void exchange(time_point now) {
        for (bool any = true; any;) {
            any = false;
            while (auto o = lac->poll_transmit(now, buf)) {
                any = true;
                (void)lns->handle_datagram(lac_ep, bytes_view(buf.data(), o->size), now);
                while (lns->poll_event()) {
                }
            }
            while (auto o = lns->poll_transmit(now, buf)) {
                any = true;
                (void)lac->handle_datagram(lns_ep, bytes_view(buf.data(), o->size), now);
                while (auto e = lac->poll_event())
                    up += e->kind == event_kind::tunnel_up;
            }
        }
    }
};

}  // namespace

TEST_CASE("engine timers: 10,000 quiet tunnels cost no work per on_timer(), and no allocations") {
    carrier_pair p;
    REQUIRE(p.up == 10000);
    // The LNS's delayed ACKs of the SCCCNs go out at 100 ms; then all is quiet
    // until the Hellos: 60 s after each side last heard from its peer.
    const auto settle = time_point{} + 500ms;
    p.lac->on_timer(settle);
    p.lns->on_timer(settle);
    p.exchange(settle);
    REQUIRE(p.lac->deadline() == settle + 60s);
    REQUIRE(p.lns->deadline() == time_point{} + 60s);
    const auto lac_visits = p.lac->stats().timer_visits;
    const auto lns_visits = p.lns->stats().timer_visits;
    std::size_t wakeups = 0;
    std::size_t allocs = test::allocations_in([&] {
        for (auto now = settle; now < time_point{} + 60s; now += 10ms, ++wakeups) {
            p.lac->on_timer(now);
            p.lns->on_timer(now);
            REQUIRE(p.lac->deadline() == settle + 60s);
            REQUIRE(p.lns->deadline() == time_point{} + 60s);
        }
    });
    CHECK(allocs == 0);
    CHECK(wakeups == 5950);
    // Not one tunnel looked at in all those wake-ups.
    CHECK(p.lac->stats().timer_visits == lac_visits);
    CHECK(p.lns->stats().timer_visits == lns_visits);

    // At 61 s every tunnel is due on both sides: each is visited once and
    // sends Hello; the Hellos cross (the LNS's carries the ACK of the LAC's),
    // and at 61.5 s the LAC's delayed ACKs are the only timers due.
    const auto hello = time_point{} + 61s;
    allocs = test::allocations_in([&] {
        p.lac->on_timer(hello);
        p.lns->on_timer(hello);
        p.exchange(hello);
        p.lac->on_timer(hello + 500ms);
        p.lns->on_timer(hello + 500ms);
        p.exchange(hello + 500ms);
    });
    CHECK(allocs == 0);
    CHECK(p.lac->stats().timer_visits - lac_visits == 20000);
    CHECK(p.lns->stats().timer_visits - lns_visits == 10000);
    CHECK(p.lac->tunnel_count() == 10000);
    CHECK(p.lns->tunnel_count() == 10000);
    CHECK(p.lac->deadline() == hello + 60s);
    CHECK(p.lns->deadline() == hello + 500ms + 60s);
}
