// The per-packet cost through the whole server with n clients up (issue 11,
// part 4): the fleet of bench/fleet_rig.hpp (n vpn::clients, one vpn::server,
// IKE Main Mode + Quick Mode, ESP, L2TP, PPP with MS-CHAPv2, real crypto, the
// in-memory network) brought up once, then 1400-byte IP packets sealed by the
// clients and handed to server::receive_esp / receive, as the server's socket
// loop does, IKE's per-packet ESP accounting included:
//   vpn_fleet_packets/<backend>/aes128gcm/<n>/cold     each packet copied from its slot in
//                                            the arena inside the timed region:
//                                            it arrives out of cache
//   vpn_fleet_packets/<backend>/aes128gcm/<n>/batch1   32 a batch, as recvmmsg hands them
//                                            over: copied into 32 receive buffers
//                                            outside the timed region (the
//                                            kernel's copy, which leaves them in
//                                            cache), every packet another client
//   vpn_fleet_packets/<backend>/aes128gcm/<n>/batch16  the same, 16 packets of one client
//                                            in a row (a TCP flow's train)
//   .../batch1_warm, .../batch16_warm        the same, server::warm over the batch first
//                                            (timed: the example server's loop does it)
// The clients come in the scattered order (7919 k mod n), every client's
// packets in sequence (the real anti-replay window accepts each once).
// Counters: ns_per_packet (timed region / packets), and from the bring-up,
// heap_per_client (heap growth from start to all up, per client, both ends:
// the crypto library's SA contexts) and server_bytes_per_slot (the server's fixed state per slot).
// n = 10 by default, 10,000 with L2SEC_BENCH_LARGE=1 (the bring-up runs
// 10,000 IKE handshakes first: about two minutes with OpenSSL).
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#if defined(L2SEC_BENCH_OPENSSL)
#include <l2sec/crypto/openssl.hpp>
#endif
#include <l2sec/vpn/icmp.hpp>

#include "fleet_rig.hpp"
#include "packet_arena.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace l2sec;

constexpr std::size_t ip_len = 1400, rx_batch = 32, batches = 4096;
constexpr std::size_t slot_len = 1536;  // room for 1400 + ESP and L2TP overhead
// The suite of bench/vpn_bench.cpp's stack_decap_clients, so the two compare
// (the clients' default list starts with AES-256-CBC + HMAC-SHA-256).
constexpr ike::v1::esp_proposal gcm_only[] = {
    {{esp::encryption::aes_gcm_16, 16, esp::integrity::none}}};

// The fleet, up, once per process and type (Google Benchmark may call a
// benchmark several times; bringing 10,000 clients up takes minutes).
template <class B, std::size_t Capacity>
struct fleet_up {
    using types = bench::fleet_types<B, Capacity>;
    test::users users;
    std::unique_ptr<typename types::fleet> f;
    std::string error;
    double heap_per_client = 0, server_bytes_per_slot = 0;
    std::size_t n = 0;

    explicit fleet_up(std::size_t clients) : n(clients) {
        const auto h0 = bench::heap_in_use();
        auto srv = bench::make_fleet_server<B, Capacity>(users);
        if (!srv) {
            error = srv.error().message();
            return;
        }
        server_bytes_per_slot = static_cast<double>(bench::heap_in_use() - h0) / Capacity;
        f = std::make_unique<typename types::fleet>(std::move(*srv), bench::fleet_server_ip,
                                                    bench::fleet_ppp_server_ip);
        error = bench::add_fleet_clients<B, Capacity>(*f, n, gcm_only);
        if (!error.empty()) return;
        const auto h1 = bench::heap_in_use();
        // In waves of 1,000: the server admits max_half_open (at most 1,024)
        // IKE SAs in Main Mode at a time, and 10,000 clients starting in the
        // same instant would mostly give up waiting (connect_timeout).
        for (std::size_t first = 0; first < n; first += 1000) {
            const std::size_t last = std::min(n, first + 1000);
            for (std::size_t i = first; i < last; ++i)
                (void)f->client(i).start(f->now());
            f->run([&] { return f->up() + f->failed() == last; }, std::chrono::seconds(600));
        }
        if (f->up() != n) {
            error = "only " + std::to_string(f->up()) + " clients came up";
            return;
        }
        heap_per_client = static_cast<double>(bench::heap_in_use() - h1) / static_cast<double>(n);
    }
    static fleet_up& get(std::size_t clients) {
        static fleet_up u(clients);
        return u;
    }
};

enum class order { cold, batch1, batch16 };

template <class B, std::size_t Capacity>
void vpn_fleet_packets(benchmark::State& st, std::size_t n, order o, bool warm) {
    auto& up = fleet_up<B, Capacity>::get(n);
    if (!up.error.empty()) return st.SkipWithError(up.error.c_str());
    auto& f = *up.f;
    auto& srv = f.server();
    const auto now = f.now();
    // Every packet this run will use, sealed now by its client in sequence:
    // per client `per` slots of the arena, `len` bytes each.
    const std::size_t total = batches * rx_batch, per = total / n + 17;
    bench::packet_arena arena(n * per, slot_len);
    std::vector<transport::endpoint> from(n), to(n);
    std::vector<std::size_t> next(n, 0);
    std::size_t len = 0;
    bool raw = false;
    std::array<std::byte, vpn::packet_buffer_size> buf{};
    for (std::size_t c = 0; c < n; ++c) {
        auto& cl = f.client(c);
        for (std::size_t k = 0; k < per; ++k) {
            vpn::make_echo_request(mutable_bytes(buf).subspan(vpn::headroom, ip_len), cl.address(),
                                   bench::fleet_ppp_server_ip, 7, static_cast<std::uint16_t>(k),
                                   ip_len);
            auto out = cl.send_ip(buf, vpn::headroom, ip_len, now);
            if (!out || out->data.size() > slot_len || (len && out->data.size() != len))
                return st.SkipWithError("a client could not seal its packet");
            len = out->data.size();
            raw = out->raw_esp;
            from[c] = out->local;
            to[c] = out->peer;
            std::memcpy(arena.at(c * per + k), out->data.data(), len);
        }
    }
    bench::packet_arena ring(rx_batch, slot_len);
    std::array<bytes_view, rx_batch> views{};
    for (std::size_t j = 0; j < rx_batch; ++j)
        views[j] = bytes_view(ring.at(j), len);
    const std::size_t burst = o == order::batch16 ? 16 : 1;
    std::array<std::size_t, rx_batch> who{};
    std::array<const std::byte*, rx_batch> src{};
    std::size_t k = 0;
    std::int64_t ns = 0;
    std::size_t ok = 0;
    auto receive = [&](std::size_t j) {
        auto d = mutable_bytes(ring.at(j), len);
        auto r = raw ? srv.receive_esp(d, to[who[j]], from[who[j]], now)
                     : srv.receive(d, to[who[j]], from[who[j]], now);
        ok += r && *r;
    };
    for (auto _ : st) {
        for (std::size_t j = 0; j < rx_batch; ++j) {
            who[j] = j % burst == 0 ? (k++ * 7919) % n : who[j - 1];
            if (next[who[j]] == per) return st.SkipWithError("ran out of sealed packets");
            src[j] = arena.at(who[j] * per + next[who[j]]++);
            if (o != order::cold) std::memcpy(ring.at(j), src[j], len);
        }
        auto t0 = std::chrono::steady_clock::now();
        if (warm) srv.warm(views);
        for (std::size_t j = 0; j < rx_batch; ++j) {
            if (o == order::cold) std::memcpy(ring.at(j), src[j], len);
            receive(j);
        }
        auto t1 = std::chrono::steady_clock::now();
        st.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    }
    const auto packets = st.iterations() * static_cast<std::int64_t>(rx_batch);
    if (ok != static_cast<std::size_t>(packets))
        return st.SkipWithError(
            ("only " + std::to_string(ok) + " of " + std::to_string(packets) + " packets delivered")
                .c_str());
    st.SetItemsProcessed(packets);
    st.counters["clients"] = static_cast<double>(n);
    st.counters["ns_per_packet"] =
        packets ? static_cast<double>(ns) / static_cast<double>(packets) : 0;
    st.counters["heap_per_client"] = up.heap_per_client;
    st.counters["server_bytes_per_slot"] = up.server_bytes_per_slot;
}

template <class B, std::size_t Capacity>
void register_fleet(const std::string& bn, std::size_t n) {
    struct variant {
        const char* name;
        order o;
        bool warm;
    };
    const variant variants[] = {{"cold", order::cold, false},
                                {"batch1", order::batch1, false},
                                {"batch1_warm", order::batch1, true},
                                {"batch16", order::batch16, false},
                                {"batch16_warm", order::batch16, true}};
    for (auto [name, o, warm] : variants)
        benchmark::RegisterBenchmark(
            ("vpn_fleet_packets/" + bn + "/aes128gcm/" + std::to_string(n) + "/" + name).c_str(),
            vpn_fleet_packets<B, Capacity>, n, o, warm)
            ->Iterations(batches)
            ->UseManualTime();
}

template <class B>
void register_backend(const std::string& bn) {
    register_fleet<B, 16>(bn, 10);
    if (const char* l = std::getenv("L2SEC_BENCH_LARGE"); l && *l == '1')
        register_fleet<B, 10240>(bn, 10000);
}

const int registered = [] {
    register_backend<crypto::botan>("botan");
#if defined(L2SEC_BENCH_OPENSSL)
    register_backend<crypto::openssl>("openssl");
#endif
    return 0;
}();

}  // namespace
