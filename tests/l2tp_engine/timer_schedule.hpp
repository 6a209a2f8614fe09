// A random schedule for the L2TP engine's timers: a LAC and an LNS over a
// lossy, duplicating, reordering in-memory network, with tunnels and calls
// opened and cleared, data sent and time advanced at random (to the next
// deadline or by a random jump). The observer sees each engine just before
// and just after its on_timer() and every datagram and event, so the timer
// tests can check the engine against the per-tunnel scan it replaced.
#pragma once

#include <l2sec/crypto/botan.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/transport/memory_network.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace l2sec::test {

using timer_limits = l2tp::limits<8, 24, 4, 4, 512>;
using timer_engine =
    l2tp::engine<crypto::botan, timer_limits, testing::insecure_deterministic_random>;

// Observer: before_timer(e, now), after_timer(e, now), datagram(e, bytes),
// event(e, ev); e (std::size_t) is 0 for the LAC, 1 for the LNS.
template <class Engine, class Observer>
void run_timer_schedule(std::uint64_t seed, int steps, Observer& obs) {
    using namespace std::chrono_literals;
    using net_t = transport::memory_network<256, 1600, 4>;
    testing::insecure_splitmix64 g(seed);
    auto net =
        std::make_unique<net_t>(seed, transport::impairments{0.15, 0.05, 0.1, 1ms, 40ms, 30ms});
    const auto lac_ep = transport::endpoint::v4(10, 0, 0, 1, 1701);
    const auto lns_ep = transport::endpoint::v4(10, 0, 0, 2, 1701);
    std::array<net_t::socket, 2> socks{*net->open(lac_ep), *net->open(lns_ep)};
    l2tp::engine_config cfg{.host_name = "t"};
    cfg.hello_interval = std::chrono::seconds(3 + g.below(5));
    cfg.hold_time = std::chrono::seconds(1 + g.below(4));
    cfg.channel.ack_delay = std::chrono::milliseconds(50 + g.below(100));
    l2tp::engine_config lac_cfg = cfg;
    lac_cfg.accept_tunnels = false;
    std::array<std::unique_ptr<Engine>, 2> e{
        std::make_unique<Engine>(lac_cfg, testing::insecure_deterministic_random(seed * 2 + 1)),
        std::make_unique<Engine>(cfg, testing::insecure_deterministic_random(seed * 2 + 2))};
    time_point now{};
    std::array<std::byte, 1600> buf{};

    auto pick_tunnel = [&](std::size_t k, bool established) -> std::optional<std::uint16_t> {
        auto first = static_cast<std::uint16_t>(1 + g.below(Engine::max_tunnels));
        for (std::size_t i = 0; i < Engine::max_tunnels; ++i) {
            auto id = static_cast<std::uint16_t>((first - 1 + i) % Engine::max_tunnels + 1);
            if (auto* t = e[k]->find_tunnel(id);
                t && (!established || t->state == l2tp::tunnel_state::established))
                return id;
        }
        return std::nullopt;
    };
    auto pick_session = [&](std::size_t k) -> std::optional<std::uint16_t> {
        auto first = static_cast<std::uint16_t>(1 + g.below(Engine::max_sessions));
        for (std::size_t i = 0; i < Engine::max_sessions; ++i) {
            auto id = static_cast<std::uint16_t>((first - 1 + i) % Engine::max_sessions + 1);
            if (e[k]->find_session(id)) return id;
        }
        return std::nullopt;
    };
    auto drive = [&](std::size_t k) {
        while (auto r = socks[k].receive_from(buf))
            (void)e[k]->handle_datagram(r->from, bytes_view(buf.data(), r->size), now);
        obs.before_timer(k, *e[k], now);
        e[k]->on_timer(now);
        obs.after_timer(k, *e[k], now);
        while (auto o = e[k]->poll_transmit(now, buf)) {
            obs.datagram(k, bytes_view(buf.data(), o->size));
            (void)socks[k].send_to(o->to, bytes_view(buf.data(), o->size));
        }
        while (auto ev = e[k]->poll_event())
            obs.event(k, *ev);
    };

    for (int step = 0; step < steps; ++step) {
        const std::size_t k = g.below(2);
        switch (g.below(12)) {
            case 0:
                (void)e[0]->open_tunnel(lns_ep, now);
                break;
            case 1:
                if (auto t = pick_tunnel(k, true)) (void)e[k]->open_session(*t, now, k == 1);
                break;
            case 2:
                if (auto s = pick_session(k)) (void)e[k]->close_session(*s, now);
                break;
            case 3:
                if (g.below(4) == 0)
                    if (auto t = pick_tunnel(k, false)) (void)e[k]->close_tunnel(*t, now);
                break;
            case 4:
            case 5:
                if (auto s = pick_session(k)) {
                    const std::array<std::byte, 4> ppp{std::byte{0xff}, std::byte{0x03},
                                                       std::byte{0x00}, std::byte{0x21}};
                    if (auto o = e[k]->encode_data(*s, ppp, buf))
                        (void)socks[k].send_to(o->to, bytes_view(buf.data(), o->size));
                }
                break;
            case 6:
                now += std::chrono::milliseconds(g.below(10000));
                break;
            default: {
                std::optional<time_point> t;
                for (auto d : {e[0]->deadline(), e[1]->deadline(), net->next_delivery()})
                    if (d && (!t || *d < *t)) t = d;
                if (t && *t > now) now = *t;
                break;
            }
        }
        net->advance_to(now);
        drive(0);
        drive(1);
    }
}

}  // namespace l2sec::test
