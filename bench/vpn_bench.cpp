// The whole L2TP/IPsec datapath against the cipher it runs on, same backend,
// same ciphertext size, same run (issue 11, part 2). Names pair up:
//   stack_encap/<backend>/<alg>/<size>  an IP packet from the TUN: PPP, L2TP data header,
//                                       UDP 1701, ESP transport mode, all in place (client side)
//   stack_decap/<backend>/<alg>/<size>  copy the ESP packet into the work buffer, then ESP
//                                       open, UDP, L2TP, PPP, out comes the IP packet (server)
//   stack_aead/<backend>/<alg>/<size>   the raw AEAD seal of the same ciphertext size
//   stack_aead_open/...                 copy + the raw AEAD open of it
// <size> is the IP packet: 64, 1400, or imix (7:4:1 of 64/576/1400, per packet averaged).
// The ratio stack/aead is what the double encapsulation costs beyond the cipher.
// stack_decap_clients/<backend>/<n> measures the per-packet cost with n clients up,
// stack_aead_open_clients/<backend>/<n> the same packets through n bare AEAD contexts
// (n = 10000 only with L2SEC_BENCH_LARGE=1: it brings up 10,000 PPP sessions).
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#if defined(L2SEC_BENCH_OPENSSL)
#include <l2sec/crypto/openssl.hpp>
#endif
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/vpn/detail/stack_core.hpp>
#include <l2sec/vpn/icmp.hpp>

#include "packet_arena.hpp"
#include "stack_rig.hpp"

#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace l2sec;
using namespace l2sec::bench;

// One packet each way, out of line: callgrind counts the benchmark loop's
// packets alone with --toggle-collect='*measured_*' (the setup's control
// packets also pass through on_esp and send_ip).
template <class Core>
[[gnu::noinline]] auto measured_send_ip(Core& c, mutable_bytes buf, std::size_t n) {
    return c.send_ip(1, buf, vpn::headroom, n);
}
template <class Core>
[[gnu::noinline]] auto measured_on_esp(Core& c, mutable_bytes pkt, time_point now) {
    return c.on_esp(pkt, now);
}

template <class B>
void stack_encap(benchmark::State& st, const char* suite, std::string which) {
    bench_stack<B, 1> s(*esp::parse_suite(suite));
    rnd crng(2);
    auto c = s.connect(transport::endpoint::v4(203, 0, 113, 9, 40000), 1, crng);
    if (c->sessions_up() != 1) return st.SkipWithError("session did not come up");
    auto sizes = sizes_of(which);
    std::array<std::byte, vpn::packet_buffer_size> buf{};
    vpn::make_echo_request(mutable_bytes(buf).subspan(vpn::headroom, 1500), 0x0a100000, 0x0a000001,
                           1, 1, 1500);
    std::size_t k = 0, bytes = 0;
    // The packet is encrypted in place each time, as the raw AEAD reference
    // does: what is encrypted does not change the cost.
    for (auto _ : st) {
        std::size_t n = sizes[k++ % sizes.size()];
        buf[vpn::headroom] = std::byte{0x45};
        auto o = measured_send_ip(*c, buf, n);
        benchmark::DoNotOptimize(o);
        if (!o) return st.SkipWithError("send_ip failed");
        bytes += n;
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

template <class B>
void stack_decap(benchmark::State& st, const char* suite, std::string which) {
    bench_stack<B, 1> s(*esp::parse_suite(suite));
    rnd crng(2);
    auto c = s.connect(transport::endpoint::v4(203, 0, 113, 9, 40000), 1, crng);
    if (c->sessions_up() != 1) return st.SkipWithError("session did not come up");
    auto sizes = sizes_of(which);
    std::vector<std::vector<std::byte>> pkts;
    std::array<std::byte, vpn::packet_buffer_size> buf{}, work{};
    for (auto n : sizes) {
        vpn::make_echo_request(mutable_bytes(buf).subspan(vpn::headroom, n), 0x0a100000, 0x0a000001,
                               1, 1, n);
        auto o = c->send_ip(1, buf, vpn::headroom, n);
        pkts.emplace_back(o->data.begin(), o->data.end());
    }
    std::size_t k = 0, bytes = 0;
    time_point now{};
    for (auto _ : st) {
        auto& p = pkts[k++ % pkts.size()];
        std::memcpy(work.data(), p.data(), p.size());
        auto d = measured_on_esp(*s.server, mutable_bytes(work.data(), p.size()), now);
        benchmark::DoNotOptimize(d);
        if (!d || !*d) return st.SkipWithError("on_esp failed");
        bytes += d->ip.size();
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

// The reference: the backend's raw cipher on the ciphertext ESP would produce
// (AEAD seal, or CBC + truncated HMAC for the CBC suites).
template <class B>
void stack_aead(benchmark::State& st, const char* suite, std::string which, bool open) {
    auto s = *esp::parse_suite(suite);
    auto sizes = sizes_of(which);
    std::vector<std::byte> key(s.enc_key_size, std::byte{3}),
        ikey(esp::integrity_key_size(s.integ), std::byte{4});
    std::vector<std::byte> data(2048, std::byte{0x5a}), pristine(2048, std::byte{0x5a});
    std::array<std::byte, 12> nonce{};
    std::array<std::byte, 8> aad{};
    std::array<std::byte, 32> tag{};
    std::size_t k = 0, bytes = 0;
    std::uint64_t ctr = 0;
    if (esp::is_aead(s.enc)) {
        auto a = B::make_aead(aead_of(s), key);
        std::vector<std::size_t> ct;
        for (auto n : sizes)
            ct.push_back(ct_size(n, 4));
        std::vector<std::vector<std::byte>> sealed, tags;
        for (auto n : ct) {
            sealed.emplace_back(n, std::byte{0x5a});
            tags.emplace_back(16);
            a->seal(nonce, aad, sealed.back(), tags.back());
        }
        for (auto _ : st) {
            std::size_t i = k++ % ct.size();
            auto d = mutable_bytes(data).first(ct[i]);
            if (open) {
                std::memcpy(d.data(), sealed[i].data(), ct[i]);
                bool ok = a->open(nonce, aad, d, tags[i]);
                benchmark::DoNotOptimize(ok);
            } else {
                store_be64(nonce.data() + 4, ++ctr);
                benchmark::DoNotOptimize(a->seal(nonce, aad, d, mutable_bytes(tag).first(16)));
            }
            bytes += sizes[i];
        }
    } else {
        crypto::cipher_id cid{};
        (void)esp::cbc_cipher_for(s.enc, s.enc_key_size, cid);
        auto ci = B::make_cipher(cid, key);
        auto m = B::make_mac(*esp::mac_for(s.integ), ikey);
        std::array<std::byte, 16> iv{};
        for (auto _ : st) {
            std::size_t i = k++ % sizes.size();
            auto d = mutable_bytes(data).first(ct_size(sizes[i], 16));
            if (open) std::memcpy(d.data(), pristine.data(), d.size());
            m->update(d);
            m->final(mutable_bytes(tag).first(esp::icv_size(s.integ)));
            if (open)
                ci->decrypt(iv, d);
            else
                ci->encrypt(iv, d);
            bytes += sizes[i];
        }
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

// ---- N clients up (issue 11, part 4) -------------------------------------
//
// stack_decap_clients/<backend>/<n>      copy + on_esp of client i's pre-sealed packet
// stack_aead_open_clients/<backend>/<n>  copy + AEAD open of context i's pre-sealed
//                                        packet: n keyed contexts, nothing else
// Same suite (AES-128-GCM), same packet (1400-byte IP packet: 1452 bytes of ESP),
// same scattered order, same copy, same arena: stack / aead at the same n is what
// our state adds; aead(10000) / aead(10) is what the cipher contexts alone cost.

constexpr std::size_t clients_ip_len = 1400;
// ESP header + IV (8) + ciphertext (UDP, L2TP, PPP, IP, pad, trailer) + ICV.
const std::size_t clients_pkt_len = esp::header_size + 8 + ct_size(clients_ip_len, 4) + 16;

// Client i, visited at step k: 7919 is prime, so every client comes once per
// n steps, in an order no cache line or prefetcher is lucky with.
constexpr std::size_t scattered(std::size_t k, std::size_t n) noexcept {
    return (k * 7919) % n;
}

// One measured packet each, out of line, copy included (both benches copy
// from the arena): --toggle-collect='*measured_copy_*' counts exactly this.
template <class Core>
[[gnu::noinline]] auto measured_copy_on_esp(Core& c, const std::byte* pkt, std::size_t n,
                                            std::byte* work, time_point now) {
    std::memcpy(work, pkt, n);
    return c.on_esp(mutable_bytes(work, n), now);
}

// The reference's per-SA state: the keyed context and what ESP keeps beside it.
template <class B>
struct ref_sa {
    typename B::aead aead;
    std::array<std::byte, 4> salt;
};

// The copy, and what esp::sa::unprotect does with the cipher (esp_shaped_open).
template <class B>
[[gnu::noinline]] bool measured_copy_open(ref_sa<B>& r, const std::byte* pkt, std::size_t n,
                                          std::byte* work) {
    std::memcpy(work, pkt, n);
    return esp_shaped_open(r.aead, r.salt, work, n);
}

// N clients up, each with one pre-sealed packet in the arena. Every client's one
// packet (sequence number 1) is opened again and again: the SAs run with
// replay_window = 0 (bench_stack::sa), so window.check() says ok to a repeated
// number (update() still marks its bit: the window's line is touched as with
// real traffic), and without ESN, whose inference would take an older number as
// the next epoch's. A real window would refuse every pass after the first.
template <class B, std::size_t N>
struct stack_clients {
    std::unique_ptr<bench_stack<B, N>> s;
    packet_arena pkts{N, clients_pkt_len};
    const char* error = nullptr;

    stack_clients() : s(std::make_unique<bench_stack<B, N>>(*esp::parse_suite("aes128-gcm"))) {
        rnd crng(5);
        std::array<std::byte, vpn::packet_buffer_size> buf{};
        for (std::uint32_t i = 0; i < N && !error; ++i) {
            auto c = s->connect(transport::endpoint::v4(0xcb000000 + i, 40000), i + 1, crng);
            if (c->sessions_up() != 1) error = "a session did not come up";
            vpn::make_echo_request(mutable_bytes(buf).subspan(vpn::headroom, clients_ip_len),
                                   0x0a100000 + i, 0x0a000001, 1, 1, clients_ip_len);
            auto o = c->send_ip(1, buf, vpn::headroom, clients_ip_len);
            if (!o || o->data.size() != pkts.len()) error = "unexpected ESP size";
            if (!error) std::memcpy(pkts.at(i), o->data.data(), pkts.len());
        }
    }
    // Client i's packet, `work` its copy: on_esp in place.
    bool open(std::size_t, std::byte* work, time_point now) {
        auto d = s->server->on_esp(mutable_bytes(work, pkts.len()), now);
        benchmark::DoNotOptimize(d);
        return d && *d;
    }
    // server::warm's work (core/warm.hpp): the batch's state loaded first.
    void warm(std::span<const bytes_view> batch) const { s->server->warm_esp(batch); }
    void counters(benchmark::State& st) const {
        st.counters["server_bytes_per_client"] =
            static_cast<double>(sizeof(typename bench_stack<B, N>::server_core)) / N;
    }
};

// The reference: N keyed AES-128-GCM contexts (keys as bench_stack::sa derives
// them), each with one sealed ESP-shaped packet in the arena, and nothing else.
template <class B, std::size_t N>
struct aead_clients {
    packet_arena pkts{N, clients_pkt_len};
    std::vector<ref_sa<B>> sas;
    const char* error = nullptr;

    aead_clients() {
        sas.reserve(N);
        for (std::uint32_t i = 0; i < N && !error; ++i) {
            std::array<std::byte, 20> km;  // key 16 + salt 4
            for (std::size_t j = 0; j < km.size(); ++j)
                km[j] = std::byte(i + 1 + 7 * j);
            auto a = B::make_aead(crypto::aead_id::aes128_gcm, bytes_view(km).first(16));
            if (!a) {
                error = "make_aead failed";
                break;
            }
            sas.push_back(ref_sa<B>{std::move(*a), {km[16], km[17], km[18], km[19]}});
            std::byte* p = pkts.at(i);
            std::memset(p, 0x5a, pkts.len());
            store_be32(p, 0x10000 + i + 1);       // SPI
            store_be32(p + 4, 1);                 // sequence number
            store_be64(p + esp::header_size, 1);  // IV
            if (!esp_shaped_seal(sas.back().aead, sas.back().salt, p, pkts.len()))
                error = "seal failed";
        }
    }
    bool open(std::size_t i, std::byte* work, time_point) {
        return esp_shaped_open(sas[i].aead, sas[i].salt, work, pkts.len());
    }
    void warm(std::span<const bytes_view>) const {}
    void counters(benchmark::State&) const {}
};

// One of each fixture per process, built on first use: Google Benchmark calls a
// benchmark several times while it sizes the run, and bringing up 10,000
// clients takes seconds. The benches leave it as they found it (the replayed
// packets only mark the same window bit again).
template <class Fixture>
Fixture& fixture() {
    static Fixture f;
    return f;
}

// Per-packet cost with N clients up: client i's packet copied from the arena
// and opened, the clients in the scattered order, each packet arriving cold.
template <class B, std::size_t N>
void stack_decap_clients(benchmark::State& st) {
    auto& f = fixture<stack_clients<B, N>>();
    if (f.error) return st.SkipWithError(f.error);
    std::array<std::byte, vpn::packet_buffer_size> work{};
    std::size_t k = 0;
    time_point now{};
    for (auto _ : st) {
        auto d = measured_copy_on_esp(*f.s->server, f.pkts.at(scattered(k++, N)), f.pkts.len(),
                                      work.data(), now);
        benchmark::DoNotOptimize(d);
        if (!d || !*d) return st.SkipWithError("on_esp failed");
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.counters["clients"] = static_cast<double>(N);
    f.counters(st);
}

// The reference for stack_decap_clients: the same copy and order, the bare AEAD.
template <class B, std::size_t N>
void stack_aead_open_clients(benchmark::State& st) {
    auto& f = fixture<aead_clients<B, N>>();
    if (f.error) return st.SkipWithError(f.error);
    std::array<std::byte, vpn::packet_buffer_size> work{};
    std::size_t k = 0;
    for (auto _ : st) {
        std::size_t i = scattered(k++, N);
        bool ok = measured_copy_open(f.sas[i], f.pkts.at(i), f.pkts.len(), work.data());
        benchmark::DoNotOptimize(ok);
        if (!ok) return st.SkipWithError("open failed");
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.counters["clients"] = static_cast<double>(N);
}

// ---- the same clients, packets arriving as a receive batch ------------------
//
// <bench>_batch/<backend>/<n>/<burst>: the packets come 32 at a time, as
// recvmmsg hands them over: the batch is copied into 32 receive buffers outside
// the timed region (the kernel's copy, which leaves them in cache), then each is
// opened in place, timed (manual time, ns_per_packet). burst b: the batch holds
// 32/b clients with b packets each in a row, the clients in the scattered
// order. b = 1 is every packet from another client; b = 4 and 16 are the trains
// a TCP flow or a GRO'd burst brings. What the cold packet cost the unbatched
// bench is gone here in both the stack and its reference: the difference
// between 10 and 10,000 clients is the per-client state alone.
// stack_decap_clients_batch_warm/...: the same, the batch's state loaded first
// (stack_core::warm_esp, what server::warm does), inside the timed region.
constexpr std::size_t rx_batch = 32;

template <class Fixture>
void decap_batches(benchmark::State& st, Fixture& f, std::size_t n, std::size_t burst, bool warm) {
    if (f.error) return st.SkipWithError(f.error);
    const std::size_t len = f.pkts.len();
    packet_arena ring(rx_batch, len);
    std::array<bytes_view, rx_batch> views{};
    for (std::size_t j = 0; j < rx_batch; ++j)
        views[j] = bytes_view(ring.at(j), len);
    std::array<std::size_t, rx_batch> who{};
    std::size_t k = 0;
    std::int64_t ns = 0;
    time_point now{};
    for (auto _ : st) {
        for (std::size_t j = 0; j < rx_batch; ++j) {
            if (j % burst == 0)
                who[j] = scattered(k++, n);
            else
                who[j] = who[j - 1];
            std::memcpy(ring.at(j), f.pkts.at(who[j]), len);
        }
        auto t0 = std::chrono::steady_clock::now();
        if (warm) f.warm(views);
        bool ok = true;
        for (std::size_t j = 0; j < rx_batch; ++j)
            ok &= f.open(who[j], ring.at(j), now);
        auto t1 = std::chrono::steady_clock::now();
        if (!ok) return st.SkipWithError("a packet did not open");
        st.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    }
    const auto packets = st.iterations() * static_cast<std::int64_t>(rx_batch);
    st.SetItemsProcessed(packets);
    st.counters["clients"] = static_cast<double>(n);
    st.counters["burst"] = static_cast<double>(burst);
    st.counters["ns_per_packet"] =
        packets ? static_cast<double>(ns) / static_cast<double>(packets) : 0;
    f.counters(st);
}

template <class B, std::size_t N>
void stack_decap_clients_batch(benchmark::State& st, std::size_t burst, bool warm) {
    decap_batches(st, fixture<stack_clients<B, N>>(), N, burst, warm);
}

template <class B, std::size_t N>
void stack_aead_open_clients_batch(benchmark::State& st, std::size_t burst) {
    decap_batches(st, fixture<aead_clients<B, N>>(), N, burst, false);
}

template <class B, std::size_t N>
void register_clients(const std::string& bn) {
    const std::string n = std::to_string(N);
    benchmark::RegisterBenchmark(("stack_decap_clients/" + bn + "/" + n).c_str(),
                                 stack_decap_clients<B, N>);
    benchmark::RegisterBenchmark(("stack_aead_open_clients/" + bn + "/" + n).c_str(),
                                 stack_aead_open_clients<B, N>);
    for (std::size_t b : {std::size_t{1}, std::size_t{4}, std::size_t{16}}) {
        const std::string tail = bn + "/" + n + "/" + std::to_string(b);
        benchmark::RegisterBenchmark(("stack_decap_clients_batch/" + tail).c_str(),
                                     stack_decap_clients_batch<B, N>, b, false)
            ->UseManualTime();
        benchmark::RegisterBenchmark(("stack_decap_clients_batch_warm/" + tail).c_str(),
                                     stack_decap_clients_batch<B, N>, b, true)
            ->UseManualTime();
        benchmark::RegisterBenchmark(("stack_aead_open_clients_batch/" + tail).c_str(),
                                     stack_aead_open_clients_batch<B, N>, b)
            ->UseManualTime();
    }
}

template <class B>
void register_backend() {
    const std::string bn = backend_name(static_cast<B*>(nullptr));
    for (const auto& a : algs)
        for (std::string size : {"64", "1400", "imix"}) {
            auto tail = bn + "/" + a.name + "/" + size;
            benchmark::RegisterBenchmark(("stack_encap/" + tail).c_str(), stack_encap<B>, a.suite,
                                         size);
            benchmark::RegisterBenchmark(("stack_aead/" + tail).c_str(), stack_aead<B>, a.suite,
                                         size, false);
            benchmark::RegisterBenchmark(("stack_decap/" + tail).c_str(), stack_decap<B>, a.suite,
                                         size);
            benchmark::RegisterBenchmark(("stack_aead_open/" + tail).c_str(), stack_aead<B>,
                                         a.suite, size, true);
        }
    register_clients<B, 10>(bn);
    if (const char* l = std::getenv("L2SEC_BENCH_LARGE"); l && *l == '1')
        register_clients<B, 10000>(bn);
}

const int registered = [] {
    register_backend<crypto::botan>();
#if defined(L2SEC_BENCH_OPENSSL)
    register_backend<crypto::openssl>();
#endif
    return 0;
}();

}  // namespace
