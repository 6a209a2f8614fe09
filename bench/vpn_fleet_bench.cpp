// Many clients in one process (issue 10, "bad input and load"): N simulated
// L2TP/IPsec clients and one server over the in-memory network, real crypto,
// each with its IKE SA, ESP SAs, L2TP tunnel and PPP session up and answered
// when it pings. One iteration per run (it is a setup, not a loop):
//   vpn_fleet/<backend>/<n>   CPU time from start to all n up (manual time; one thread
//                             runs the server and every client)
// counters, all from the same run:
//   clients_per_s         n / that time (both ends' work: one process does all)
//   dh_share              the share of that CPU time spent in Diffie-Hellman: one
//                         client's DH (two MODP-2048 key pairs and two agreements,
//                         the default proposal) timed right after, times n
//   heap_per_client       heap growth from start to all up, per client, both ends
//                         (SA contexts of the crypto library included)
//   server_bytes_per_slot the server's fixed state (allocated once by make()) per
//                         client it can hold
// n = 100 by default, 1000 with L2SEC_BENCH_LARGE=1.
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#if defined(L2SEC_BENCH_OPENSSL)
#include <l2sec/crypto/openssl.hpp>
#endif
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/testing/vpn_fleet.hpp>
#include <l2sec/vpn/client.hpp>
#include <l2sec/vpn/server.hpp>

#include "support/users.hpp"

#include <malloc.h>
#include <time.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace {

using namespace l2sec;
using rnd = testing::insecure_deterministic_random;
constexpr std::size_t capacity = 1024;
constexpr std::uint32_t server_ip = 0xc0000201, ppp_server_ip = 0x0a0a0001;

// Heap in use, large (mmapped) blocks included.
std::size_t heap_in_use() {
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

// CPU time of this thread: the shares below stay meaningful on a machine
// shared with other work (wall time would count their slices too).
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class B>
double dh_seconds_per_client() {
    constexpr int reps = 20;
    std::array<std::byte, crypto::max_dh_shared_size> out{};
    const double t0 = cpu_seconds();
    for (int i = 0; i < reps; ++i) {
        auto a = B::make_key_exchange(crypto::dh_id::modp2048);
        auto b = B::make_key_exchange(crypto::dh_id::modp2048);
        if (!a || !b) return 0;
        benchmark::DoNotOptimize(a->agree(b->public_value(), out));
        benchmark::DoNotOptimize(b->agree(a->public_value(), out));
    }
    return (cpu_seconds() - t0) / reps;
}

template <class B>
void vpn_fleet(benchmark::State& st) {
    using server_t = vpn::server<B, test::users, capacity, rnd, ike::v1::single_psk>;
    using client_t = vpn::client<B, rnd, ike::v1::single_psk>;
    const auto n = static_cast<std::size_t>(st.range(0));
    for (auto _ : st) {
        test::users users;
        vpn::server_config sc;
        sc.link.require = ppp::auth_method::mschapv2;
        sc.link.local_ip = ppp_server_ip;
        sc.pool_first = 0x0a0b0000;
        sc.pool_last = sc.pool_first + 2 * capacity - 1;
        // All n connect in the same instant: room for as many L2TP tunnels
        // waiting for SCCCN (the default, 32, makes the rest retry).
        sc.l2tp.max_half_open = capacity;
        const auto h0 = heap_in_use();
        auto srv = server_t::make(sc, rnd(7919),
                                  ike::v1::single_psk(as_bytes(std::string_view("secret"))), users);
        if (!srv) {
            st.SkipWithError(srv.error().message().c_str());
            return;
        }
        const auto server_fixed = heap_in_use() - h0;
        testing::vpn_fleet<server_t, client_t> f(std::move(*srv), server_ip, ppp_server_ip);
        for (std::size_t i = 0; i < n; ++i) {
            const auto ip = 0x0a630000u + static_cast<std::uint32_t>(i) + 1;
            vpn::client_config cfg;
            cfg.connection.local = transport::endpoint::v4(ip, 500);
            cfg.connection.peer = transport::endpoint::v4(server_ip, 500);
            cfg.link.user = "alice";
            cfg.link.password = "wonderland";
            auto c = client_t::make(cfg, rnd(31 + i),
                                    ike::v1::single_psk(as_bytes(std::string_view("secret"))));
            if (!c) {
                st.SkipWithError(c.error().message().c_str());
                return;
            }
            f.add(std::move(*c), ip);
        }
        const auto h1 = heap_in_use();
        const double t0 = cpu_seconds();
        f.start_all();
        f.run([&] { return f.up() + f.failed() == n; }, std::chrono::seconds(600));
        const double setup = cpu_seconds() - t0;
        const auto sim_setup = f.now().time_since_epoch();
        const auto h2 = heap_in_use();
        if (f.up() != n) {
            st.SkipWithError(("only " + std::to_string(f.up()) + " clients came up").c_str());
            return;
        }
        for (std::size_t i = 0; i < n; ++i)
            f.ping(i, 1);
        f.run(
            [&] {
                for (std::size_t i = 0; i < n; ++i)
                    if (f.echo_replies(i) != 1) return false;
                return true;
            },
            std::chrono::seconds(10));
        std::size_t answered = 0;
        for (std::size_t i = 0; i < n; ++i)
            answered += f.echo_replies(i) == 1;
        st.SetIterationTime(setup);
        const double dh = dh_seconds_per_client<B>();
        st.counters["clients_per_s"] = static_cast<double>(n) / setup;
        st.counters["dh_share"] = dh * static_cast<double>(n) / setup;
        st.counters["heap_per_client"] = static_cast<double>(h2 - h1) / static_cast<double>(n);
        st.counters["server_bytes_per_slot"] =
            static_cast<double>(server_fixed) / static_cast<double>(capacity);
        st.counters["pings_answered"] = static_cast<double>(answered);
        st.counters["sim_setup_ms"] = std::chrono::duration<double, std::milli>(sim_setup).count();
    }
}

void fleet_sizes(benchmark::internal::Benchmark* b) {
    const char* large = std::getenv("L2SEC_BENCH_LARGE");
    b->Arg(large && std::string(large) == "1" ? 1000 : 100);
    b->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK_TEMPLATE(vpn_fleet, crypto::botan)->Name("vpn_fleet/botan")->Apply(fleet_sizes);
#if defined(L2SEC_BENCH_OPENSSL)
BENCHMARK_TEMPLATE(vpn_fleet, crypto::openssl)->Name("vpn_fleet/openssl")->Apply(fleet_sizes);
#endif

}  // namespace
