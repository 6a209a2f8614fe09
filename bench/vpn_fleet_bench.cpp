// Many clients in one process (issue 10, "bad input and load"): N simulated
// L2TP/IPsec clients and one server over the in-memory network, real crypto,
// each with its IKE SA, ESP SAs, L2TP tunnel and PPP session up and answered
// when it pings. One iteration per run (it is a setup, not a loop):
//   vpn_fleet/<backend>/<n>   CPU time from start to all n up (manual time; one thread
//                             runs the server and every client)
// counters, all from the same run:
//   clients_per_s         n / that time (both ends' work: one process does all)
//   dh_share              the share of that CPU time spent in Diffie-Hellman (key
//                         pairs and agreements, timed inside the setup: timed_dh)
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

#include "fleet_rig.hpp"

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace {

using namespace l2sec;
constexpr std::size_t capacity = 1024;

// CPU time of this thread: the shares below stay meaningful on a machine
// shared with other work (wall time would count their slices too).
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time spent in Diffie-Hellman on this thread, accumulated by timed_dh.
double dh_cpu = 0;

// The backend with its key exchanges timed where the handshake makes them:
// make_key_exchange() (the key pair: what IKE's make_dh calls, with the
// engine's 256-bit private value for MODP-2048) and agree(). dh_share is then
// the DH time inside the setup over the setup, on the same clock, in the same
// run. The earlier method (one client's DH timed in a loop after the setup,
// times n) gave OpenSSL a share of 1.7-2.7: that loop called
// make_key_exchange() without a private value, and OpenSSL then draws a
// 2048-bit exponent (BN_priv_rand_range over p - 1) where the engine passes
// 256 bits, several times the work of each exponentiation; and a loop
// timed apart moves with the machine's load, so even Botan's share could
// pass 1.
template <class B>
struct timed_dh : B {
    class key_exchange {
      public:
        explicit key_exchange(typename B::key_exchange k) noexcept : k_(std::move(k)) {}
        crypto::dh_id group() const noexcept { return k_.group(); }
        bytes_view public_value() const noexcept { return k_.public_value(); }
        result<std::size_t> agree(bytes_view peer, mutable_bytes out) noexcept {
            const double t0 = cpu_seconds();
            auto r = k_.agree(peer, out);
            dh_cpu += cpu_seconds() - t0;
            return r;
        }

      private:
        typename B::key_exchange k_;
    };
    static result<key_exchange> make_key_exchange(crypto::dh_id g, bytes_view priv = {}) noexcept {
        const double t0 = cpu_seconds();
        auto k = B::make_key_exchange(g, priv);
        dh_cpu += cpu_seconds() - t0;
        if (!k) return k.error();
        return key_exchange(std::move(*k));
    }
};

template <class Backend>
void vpn_fleet(benchmark::State& st) {
    using B = timed_dh<Backend>;
    using types = bench::fleet_types<B, capacity>;
    const auto n = static_cast<std::size_t>(st.range(0));
    for (auto _ : st) {
        test::users users;
        const auto h0 = bench::heap_in_use();
        auto srv = bench::make_fleet_server<B, capacity>(users);
        if (!srv) {
            st.SkipWithError(srv.error().message().c_str());
            return;
        }
        const auto server_fixed = bench::heap_in_use() - h0;
        typename types::fleet f(std::move(*srv), bench::fleet_server_ip,
                                bench::fleet_ppp_server_ip);
        if (auto e = bench::add_fleet_clients<B, capacity>(f, n); !e.empty()) {
            st.SkipWithError(e.c_str());
            return;
        }
        const auto h1 = bench::heap_in_use();
        dh_cpu = 0;
        const double t0 = cpu_seconds();
        f.start_all();
        f.run([&] { return f.up() + f.failed() == n; }, std::chrono::seconds(600));
        const double setup = cpu_seconds() - t0;
        const double dh = dh_cpu;
        const auto sim_setup = f.now().time_since_epoch();
        const auto h2 = bench::heap_in_use();
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
        st.counters["clients_per_s"] = static_cast<double>(n) / setup;
        st.counters["dh_share"] = dh / setup;
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
