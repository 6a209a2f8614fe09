// The IKEv1 engine: whole handshakes in memory, both roles in one process.
// ike_v1_handshake/botan/<group>  Main Mode + Quick Mode, initiator and
//                                 responder engines, PSK, no NAT: one
//                                 iteration = one complete MM+QM (two
//                                 ESP SA pairs installed), then close.
// ike_v1_dh/botan/<group>         the reference: one DH key pair + agreement.
//                                 A handshake does two of each (one per side),
//                                 so handshake / (2 x dh) is the share of DH.
// ike_v1_dpd/botan                R-U-THERE + ACK on an established SA.
// ike_v1_lookup/botan/<n>         one message found among n IKE SAs by its
//                                 cookies (a retransmitted MM1, answered from
//                                 the cache): n = 10 is the reference for
//                                 n = 10,000. Counter B/IKE SA: the engine's
//                                 memory per IKE SA slot (with its Quick Mode
//                                 slots, queues and indexes), all from make().
// ike_v1_idle_tick/botan/<n>      tick() + next_deadline() with n IKE SAs and
//                                 nothing due (a server loop's turn): n = 10
//                                 is the reference for n = 10,000.
// ike_v2_handshake/botan/<group>  IKEv2 IKE_SA_INIT + IKE_AUTH (one Child SA),
//                                 both roles, PSK, then Delete; beside
//                                 ike_v1_dh/botan/<group> (ratio = handshake / 2 DH).
//                                 The counter slot_bytes is the memory per IKE SA.
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/ike/v1/engine.hpp>
#include <l2sec/ike/v2/engine.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <vector>

namespace {

using namespace l2sec;
namespace v1 = l2sec::ike::v1;
using rng = testing::insecure_deterministic_random;
using eng = v1::engine<crypto::botan, rng, v1::limits<4, 4, 2>>;
using tp = std::chrono::steady_clock::time_point;

const auto cep = transport::endpoint::v4(10, 0, 0, 1, 500);
const auto sep = transport::endpoint::v4(10, 0, 0, 2, 500);

/// Move datagrams between the two engines (IKEv1 or IKEv2) until both are
/// quiet; counts the Child SAs that came up.
template <class Engine>
int pump(Engine& c, Engine& s, tp now) {
    int events = 0;
    std::array<std::byte, 4096> buf{};
    for (bool moved = true; moved;) {
        moved = false;
        while (auto d = c.poll_datagram()) {
            std::copy(d->data.begin(), d->data.end(), buf.begin());
            s.receive(bytes_view(buf.data(), d->data.size()), sep, cep, now);
            moved = true;
        }
        while (auto d = s.poll_datagram()) {
            std::copy(d->data.begin(), d->data.end(), buf.begin());
            c.receive(bytes_view(buf.data(), d->data.size()), cep, sep, now);
            moved = true;
        }
        while (auto e = c.poll_event())
            events += e->kind == decltype(e->kind)::child_up;
        while (auto e = s.poll_event())
            events += e->kind == decltype(e->kind)::child_up;
    }
    return events;
}

v1::config config_for(const v1::phase1_proposal* p) {
    v1::config cfg;
    cfg.ike_proposals = std::span<const v1::phase1_proposal>(p, 1);
    return cfg;
}

const v1::phase1_proposal modp2048{ike::v1_encr::aes_cbc, 256, ike::v1_hash::sha2_256,
                                   crypto::dh_id::modp2048};
const v1::phase1_proposal ecp256{ike::v1_encr::aes_cbc, 128, ike::v1_hash::sha1,
                                 crypto::dh_id::ecp256};

void handshake(benchmark::State& state, const v1::phase1_proposal* p) {
    auto cfg = config_for(p);
    auto c = eng::make(cfg, rng(1), v1::single_psk(as_bytes("bench")));
    auto s = eng::make(cfg, rng(2), v1::single_psk(as_bytes("bench")));
    tp now{};
    v1::connection conn;
    conn.local = cep;
    conn.peer = sep;
    for (auto _ : state) {
        auto h = c->connect(conn, now);
        if (!h || pump(*c, *s, now) != 2) {
            state.SkipWithError("handshake failed");
            break;
        }
        c->close(*h, now);
        pump(*c, *s, now);
        now += std::chrono::seconds(1);
    }
    state.counters["handshakes/s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// One key pair + one agreement: the same DH work one side of a handshake does.
void dh_one(benchmark::State& state, crypto::dh_id g) {
    auto peer = crypto::botan::make_key_exchange(g);
    for (auto _ : state) {
        auto a = crypto::botan::make_key_exchange(g);
        std::array<std::byte, crypto::max_dh_shared_size> out{};
        auto n = a->agree(peer->public_value(), out);
        benchmark::DoNotOptimize(n);
    }
}

void dpd(benchmark::State& state) {
    v1::config cfg;
    cfg.dpd_interval = std::chrono::seconds(1);
    cfg.phase1_lifetime = std::chrono::seconds(1) * 2000000000;  // no rekey inside the loop
    cfg.phase2_lifetime = cfg.phase1_lifetime;
    auto c = eng::make(cfg, rng(1), v1::single_psk(as_bytes("bench")));
    auto s = eng::make(cfg, rng(2), v1::single_psk(as_bytes("bench")));
    tp now{};
    v1::connection conn;
    conn.local = cep;
    conn.peer = sep;
    (void)c->connect(conn, now);
    pump(*c, *s, now);
    for (auto _ : state) {
        now += std::chrono::seconds(2);
        c->tick(now);
        pump(*c, *s, now);
    }
    if (c->established() != 1 ||
        c->stats().dpd_sent < static_cast<std::uint64_t>(state.iterations()))
        state.SkipWithError("SA lost or no DPD sent");
}

// Up to 10,000 half-open responder SAs (MM1 -> MM2 costs no DH), then one of
// them is looked up again and again.
using big_limits = v1::limits<16, 10000, 4>;
using big_eng = v1::engine<crypto::botan, rng, big_limits>;

transport::endpoint bench_peer(std::size_t i) {
    return transport::endpoint::v4(10, 1, 0, 1, static_cast<std::uint16_t>(1024 + i));
}

// n half-open responder SAs from distinct ports of one address; `probe` is
// the MM1 of the one in the middle. Null when not every MM1 made an SA.
std::unique_ptr<big_eng> fill(std::size_t n, tp now, std::vector<std::byte>& probe) {
    v1::config cfg;
    cfg.half_open_per_address = n + 1;
    auto s = big_eng::make(cfg, rng(2), v1::single_psk(as_bytes("bench")));
    auto c = eng::make(cfg, rng(1), v1::single_psk(as_bytes("bench")));
    v1::connection conn;
    conn.local = cep;
    conn.peer = sep;
    (void)c->connect(conn, now);
    auto d = c->poll_datagram();
    if (!d || !s) return nullptr;
    std::vector<std::byte> mm1(d->data.begin(), d->data.end());
    for (std::size_t i = 0; i < n; ++i) {
        for (int b = 0; b < 8; ++b)  // a distinct initiator cookie per SA
            mm1[static_cast<std::size_t>(b)] =
                static_cast<std::byte>(((i + 1) * 0x9e3779b97f4a7c15ULL) >> (8 * b));
        s->receive(mm1, sep, bench_peer(i), now);
        while (s->poll_datagram()) {
        }
        while (s->poll_event()) {
        }
        if (i == n / 2) probe = mm1;
    }
    if (s->half_open() != n) return nullptr;
    return std::make_unique<big_eng>(std::move(*s));
}

void lookup(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    tp now{};
    std::vector<std::byte> probe;
    auto s = fill(n, now, probe);
    if (!s) {
        state.SkipWithError("not every MM1 made an SA");
        return;
    }
    auto peer = bench_peer;
    const auto before = s->stats().duplicates;
    for (auto _ : state) {
        s->receive(probe, sep, peer(n / 2), now);
        auto r = s->poll_datagram();
        benchmark::DoNotOptimize(r);
    }
    if (s->stats().duplicates - before != static_cast<std::uint64_t>(state.iterations()))
        state.SkipWithError("the retransmitted MM1 was not found");
    using core = v1::detail::engine_core<crypto::botan, rng, big_limits, v1::single_psk>;
    const double total =
        static_cast<double>(sizeof(core)) + static_cast<double>(core::slots * sizeof(core::sa_t)) +
        static_cast<double>(core::event_capacity * sizeof(v1::event)) +
        static_cast<double>(core::out_capacity * sizeof(core::out_ref)) + 3.0 * core::rx_capacity +
        static_cast<double>(sizeof(core::timer_heap)) +
        static_cast<double>(core::slots * (sizeof(l2sec::list_hook) + sizeof(transport::endpoint) +
                                           sizeof(std::uint16_t)));
    state.counters["B/IKE SA"] = total / static_cast<double>(core::slots);
}

// What a server loop pays each turn with n SAs and nothing due: tick() and
// next_deadline() (the timers live in a heap: the ratio 10000/10 stays near 1).
void idle_tick(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    tp now{};
    std::vector<std::byte> probe;
    auto s = fill(n, now, probe);
    if (!s) {
        state.SkipWithError("not every MM1 made an SA");
        return;
    }
    const auto visits = s->stats().timer_visits;
    for (auto _ : state) {
        now += std::chrono::nanoseconds(1);
        s->tick(now);
        auto d = s->next_deadline();
        benchmark::DoNotOptimize(d);
    }
    if (s->stats().timer_visits != visits) state.SkipWithError("an SA was due");
}

namespace v2 = l2sec::ike::v2;
using eng2 = v2::engine<crypto::botan, rng, v2::limits<4, 4, 2>>;

const v2::ike_proposal v2_modp2048{ike::encr_id::aes_cbc, 256, ike::prf_id::hmac_sha2_256,
                                   ike::integ_id::hmac_sha2_256_128, ike::dh_group::modp2048};
const v2::ike_proposal v2_ecp256{ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_256,
                                 ike::integ_id::none, ike::dh_group::ecp256};

void handshake2(benchmark::State& state, const v2::ike_proposal* p) {
    v2::config cfg;
    cfg.ike_proposals = std::span<const v2::ike_proposal>(p, 1);
    auto c = eng2::make(cfg, rng(1), v2::single_psk(as_bytes("bench")));
    auto s = eng2::make(cfg, rng(2), v2::single_psk(as_bytes("bench")));
    tp now{};
    v2::connection conn;
    conn.local = cep;
    conn.peer = sep;
    for (auto _ : state) {
        auto h = c->connect(conn, now);
        if (!h || pump(*c, *s, now) != 2) {
            state.SkipWithError("handshake failed");
            break;
        }
        c->close(*h, now);
        pump(*c, *s, now);
        now += std::chrono::seconds(1);
    }
    state.counters["handshakes/s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["slot_bytes"] = static_cast<double>(eng2::slot_size());
}

}  // namespace

BENCHMARK(lookup)->Name("ike_v1_lookup/botan")->Arg(10)->Arg(10000)->Unit(benchmark::kNanosecond);
BENCHMARK(idle_tick)
    ->Name("ike_v1_idle_tick/botan")
    ->Arg(10)
    ->Arg(10000)
    ->Unit(benchmark::kNanosecond);
BENCHMARK_CAPTURE(handshake2, modp2048, &v2_modp2048)
    ->Name("ike_v2_handshake/botan/modp2048")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(handshake2, ecp256, &v2_ecp256)
    ->Name("ike_v2_handshake/botan/ecp256")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(handshake, modp2048, &modp2048)
    ->Name("ike_v1_handshake/botan/modp2048")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(dh_one, modp2048, crypto::dh_id::modp2048)
    ->Name("ike_v1_dh/botan/modp2048")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(handshake, ecp256, &ecp256)
    ->Name("ike_v1_handshake/botan/ecp256")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(dh_one, ecp256, crypto::dh_id::ecp256)
    ->Name("ike_v1_dh/botan/ecp256")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(dpd)->Name("ike_v1_dpd/botan")->Unit(benchmark::kMicrosecond);
