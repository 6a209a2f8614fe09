// Engines: the L2TP reliable control channel, tunnel+session setup between
// two in-process engines, data through an L2TP session (with and without
// PPP), and memory per tunnel and per session.
//   l2sec-bench --benchmark_filter=engine_
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/ppp/engine/link.hpp>

#include <array>
#include <memory>

namespace {

using namespace l2sec;
using namespace std::chrono_literals;

// ---------------------------------------------------------------- channel

void engine_control_channel_messages(benchmark::State& st) {
    using ch = l2tp::control_channel<8, 8, 512>;
    auto a = std::make_unique<ch>(l2tp::control_channel_config{2, 8});
    auto b = std::make_unique<ch>(l2tp::control_channel_config{1, 8});
    a->set_peer_window(8);
    std::array<std::byte, 64> msg{};
    store_be16(msg.data(), 0xC802);
    store_be16(msg.data() + 2, 64);
    std::array<std::byte, 600> buf{};
    time_point now{};
    for (auto _ : st) {
        (void)a->send(msg, now);
        while (auto n = a->poll_transmit(now, buf))
            (void)b->receive(bytes_view(buf.data(), *n), now);
        while (auto m = b->next_message())
            benchmark::DoNotOptimize(m->data());
        now += 200ms;  // the delayed ACK fires
        while (auto n = b->poll_transmit(now, buf))
            (void)a->receive(bytes_view(buf.data(), *n), now);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(engine_control_channel_messages);

// ---------------------------------------------------------------- L2TP engines

using small = l2tp::limits<16, 64>;
using B = crypto::botan;
using eng = l2tp::engine<B, small>;
const auto lac_ep = transport::endpoint::v4(10, 0, 0, 1, 1701);
const auto lns_ep = transport::endpoint::v4(10, 0, 0, 2, 1701);

// Move every pending datagram between the two engines until both are quiet.
void exchange(eng& lac, eng& lns, time_point now, std::array<std::byte, 2048>& buf) {
    for (int round = 0; round < 32; ++round) {
        bool any = false;
        while (auto o = lac.poll_transmit(now, buf)) {
            any = true;
            (void)lns.handle_datagram(lac_ep, bytes_view(buf.data(), o->size), now);
        }
        while (auto o = lns.poll_transmit(now, buf)) {
            any = true;
            (void)lac.handle_datagram(lns_ep, bytes_view(buf.data(), o->size), now);
        }
        if (!any) return;
    }
}

void engine_l2tp_setup_teardown(benchmark::State& st) {
    l2tp::engine_config lc;
    lc.accept_tunnels = false;
    lc.hold_time = 1ms;
    auto lac = std::make_unique<eng>(lc, B::random{});
    auto lns = std::make_unique<eng>(l2tp::engine_config{.hold_time = 1ms}, B::random{});
    std::array<std::byte, 2048> buf{};
    time_point now{};
    for (auto _ : st) {
        auto tid = lac->open_tunnel(lns_ep, now);
        exchange(*lac, *lns, now, buf);
        auto sid = lac->open_session(*tid, now);
        exchange(*lac, *lns, now, buf);
        (void)lac->close_session(*sid, now);
        (void)lac->close_tunnel(*tid, now);
        exchange(*lac, *lns, now, buf);
        for (int i = 0; i < 2; ++i) {  // ZLBs, then the peer's hold time
            now += 1s;
            lac->on_timer(now);
            lns->on_timer(now);
            exchange(*lac, *lns, now, buf);
        }
        while (lac->poll_event()) {
        }
        while (lns->poll_event()) {
        }
        if (lac->tunnel_count() || lns->tunnel_count()) st.SkipWithError("did not converge");
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetLabel("tunnel + session up and down");
}
BENCHMARK(engine_l2tp_setup_teardown);

struct session_pair {
    std::unique_ptr<eng> lac, lns;
    std::uint16_t sid = 0;
    time_point now{};
    std::array<std::byte, 2048> buf{};
    session_pair() {
        l2tp::engine_config lc;
        lc.accept_tunnels = false;
        lac = std::make_unique<eng>(lc, B::random{});
        lns = std::make_unique<eng>(l2tp::engine_config{}, B::random{});
        auto tid = lac->open_tunnel(lns_ep, now);
        exchange(*lac, *lns, now, buf);
        sid = *lac->open_session(*tid, now);
        exchange(*lac, *lns, now, buf);
    }
};

void engine_l2tp_data(benchmark::State& st) {
    session_pair p;
    std::vector<std::byte> frame(static_cast<std::size_t>(st.range(0)), std::byte{0x45});
    std::array<std::byte, 2048> out{};
    for (auto _ : st) {
        auto o = p.lac->encode_data(p.sid, frame, out);
        auto in = p.lns->handle_datagram(lac_ep, bytes_view(out.data(), o->size), p.now);
        benchmark::DoNotOptimize(in->payload.data());
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}
BENCHMARK(engine_l2tp_data)->Arg(64)->Arg(1400);

// PPP inside L2TP: IP datagram -> PPP frame -> L2TP data -> L2TP engine -> PPP link -> IP.
void engine_l2tp_ppp_data(benchmark::State& st) {
    session_pair p;
    ppp::link_config cc, sc;
    cc.user = "u";
    cc.password = "p";
    sc.server = true;
    sc.local_ip = 0x0a000001;
    sc.peer_ip = 0x0a000002;
    auto client = std::make_unique<ppp::link_engine<B>>(cc, B::random{});
    auto server = std::make_unique<ppp::link_engine<B>>(sc, B::random{});
    client->start(p.now);
    server->start(p.now);
    std::array<std::byte, 2048> f{};
    for (int i = 0; i < 20 && !(client->is_up() && server->is_up()); ++i) {
        while (auto n = client->poll_transmit(f))
            (void)server->handle_frame(bytes_view(f.data(), *n), p.now);
        while (auto n = server->poll_transmit(f))
            (void)client->handle_frame(bytes_view(f.data(), *n), p.now);
    }
    if (!client->is_up()) st.SkipWithError("PPP did not come up");
    std::vector<std::byte> ip(static_cast<std::size_t>(st.range(0)), std::byte{0x45});
    std::array<std::byte, 2048> out{};
    for (auto _ : st) {
        auto n = client->encode_ip(ip, f);
        auto o = p.lac->encode_data(p.sid, bytes_view(f.data(), *n), out);
        auto in = p.lns->handle_datagram(lac_ep, bytes_view(out.data(), o->size), p.now);
        auto got = server->handle_frame(in->payload, p.now);
        benchmark::DoNotOptimize(got);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}
BENCHMARK(engine_l2tp_ppp_data)->Arg(64)->Arg(1400);

// Timers: one event-loop wake-up (deadline(), then on_timer()) on a
// carrier-sized engine holding N established, quiet tunnels. A heap makes it
// independent of N; the scan it replaced cost O(capacity).
void engine_l2tp_timers(benchmark::State& st) {
    using big = l2tp::engine<B, l2tp::carrier_limits>;
    l2tp::engine_config lc;
    lc.accept_tunnels = false;
    auto lac = std::make_unique<big>(lc, B::random{});
    // One LAC opens the N tunnels, 100 at a time: no flood limit per address.
    auto lns = std::make_unique<big>(
        l2tp::engine_config{.max_half_open = 10000, .max_half_open_per_peer = 0}, B::random{});
    std::array<std::byte, 2048> buf{};
    time_point now{};
    auto exchange_big = [&] {
        for (bool any = true; any;) {
            any = false;
            while (auto o = lac->poll_transmit(now, buf)) {
                any = true;
                (void)lns->handle_datagram(lac_ep, bytes_view(buf.data(), o->size), now);
            }
            while (auto o = lns->poll_transmit(now, buf)) {
                any = true;
                (void)lac->handle_datagram(lns_ep, bytes_view(buf.data(), o->size), now);
            }
            while (lac->poll_event()) {
            }
            while (lns->poll_event()) {
            }
        }
    };
    for (std::int64_t i = 0; i < st.range(0); ++i) {
        (void)lac->open_tunnel(lns_ep, now);
        if (i % 100 == 99) exchange_big();
    }
    exchange_big();
    now += 500ms;  // the delayed ACKs; then nothing is due until the Hellos at 60 s
    lns->on_timer(now);
    exchange_big();
    if (lns->tunnel_count() != static_cast<std::size_t>(st.range(0)))
        st.SkipWithError("tunnels did not come up");
    for (auto _ : st) {
        benchmark::DoNotOptimize(lns->deadline());
        lns->on_timer(now);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetLabel("deadline() + on_timer(), nothing due");
}
BENCHMARK(engine_l2tp_timers)->Arg(100)->Arg(10000);

// Memory: bytes per tunnel and per session, as counters.
void engine_memory_per_tunnel_session(benchmark::State& st) {
    using big = l2tp::engine<B, l2tp::carrier_limits>;
    for (auto _ : st)
        benchmark::DoNotOptimize(sizeof(big));
    st.counters["engine_MiB_10k_tunnels_60k_sessions"] =
        static_cast<double>(sizeof(big)) / (1024.0 * 1024.0);
    st.counters["bytes_per_tunnel"] = static_cast<double>(sizeof(big::tunnel_type));
    st.counters["bytes_per_session"] = static_cast<double>(sizeof(l2tp::session));
    st.counters["bytes_per_ppp_link"] = static_cast<double>(sizeof(ppp::link_engine<B>));
}
BENCHMARK(engine_memory_per_tunnel_session)->Iterations(1);

}  // namespace
