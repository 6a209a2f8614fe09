// Paired A/B: our path and the raw AEAD of the same backend, in alternating
// blocks inside one benchmark, so that the ratio is not at the mercy of what
// the machine does between two separate benchmarks (on a shared 2-core guest,
// neighbouring benchmarks of one binary drift by up to 30%; the pairs drift
// together). The goals of issue 11 part 2 are stated as these ratios.
//
//   esp_seal_paired/<backend>/<alg>/<size>     esp::sa::protect of an IP packet, in place
//   esp_open_paired/<backend>/<alg>/<size>     copy the ESP packet in, esp::sa::unprotect
//   stack_encap_paired/<backend>/<alg>/<size>  client send_ip: PPP, L2TP, UDP, ESP, UDP encap
//   stack_decap_paired/<backend>/<alg>/<size>  copy in, server on_esp: out comes the IP packet
//
// Each one's reference is the raw AEAD on an ESP-shaped packet of the same
// ciphertext size: seal = write SPI and sequence, the IV from a counter, nonce
// salt || IV, seal in place, the tag after; open = the same copy, nonce from the
// packet, AAD its header, open in place. That is the least any ESP must do.
// <size> is the IP packet: 64, 1400, or imix (7:4:1 of 64/576/1400).
//
// One iteration is one pair: `block` packets through ours and `block` through
// the reference (which goes first alternates), timed with steady_clock. Counters:
//   ours_ns  median over pairs of our time per packet
//   aead_ns  median over pairs of the reference's time per packet
//   vs_aead  median over pairs of aead time / our time (1.00: nothing beyond the cipher)
//   pkt_per_s  1e9 / ours_ns: packets per second per core through our path
// Google Benchmark's own time column covers both halves and the bookkeeping.
#include <benchmark/benchmark.h>

#include "stack_rig.hpp"

#include <l2sec/esp.hpp>
#include <l2sec/vpn/icmp.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace l2sec;
using namespace l2sec::bench;

constexpr int block = 64;

double median(std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

// ours(k) and ref(k) each handle packet k of the size cycle and return false
// on failure. Both halves of a pair start at the same k, so they see the same sizes.
template <class Ours, class Ref>
void run_paired(benchmark::State& st, Ours&& ours, Ref&& ref) {
    using clock = std::chrono::steady_clock;
    std::vector<double> ours_ns, ref_ns, ratio;
    ours_ns.reserve(1 << 16);
    ref_ns.reserve(1 << 16);
    ratio.reserve(1 << 16);
    std::size_t k = 0;
    bool ours_first = true;
    auto half = [&](auto& f, bool& ok) {
        auto t0 = clock::now();
        for (std::size_t i = 0; i < std::size_t{block}; ++i)
            ok = f(k + i) && ok;
        return std::chrono::duration<double, std::nano>(clock::now() - t0).count();
    };
    for (auto _ : st) {
        bool ok = true;
        double a, r;
        if (ours_first) {
            a = half(ours, ok);
            r = half(ref, ok);
        } else {
            r = half(ref, ok);
            a = half(ours, ok);
        }
        if (!ok) return st.SkipWithError("a packet failed");
        ours_first = !ours_first;
        k += std::size_t{block};
        ours_ns.push_back(a / block);
        ref_ns.push_back(r / block);
        ratio.push_back(r / a);
    }
    if (ratio.empty()) return;
    st.counters["ours_ns"] = median(ours_ns);
    st.counters["aead_ns"] = median(ref_ns);
    st.counters["vs_aead"] = median(ratio);
    st.counters["pkt_per_s"] = 1e9 / st.counters["ours_ns"].value;
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * 2 * block));
}

// The reference: one keyed AEAD context and its salt, and ESP-shaped packets
// (8-byte header, 8-byte IV, ciphertext, 16-byte tag) for each ciphertext size.
template <class B>
class aead_ref {
  public:
    aead_ref(const esp::suite& s, const std::vector<std::size_t>& ct_sizes)
        : aead_(std::move(*B::make_aead(aead_of(s), key_of(s.enc_key_size)))), ct_(ct_sizes) {
        for (auto n : ct_) {
            sealed_.emplace_back(n + esp_shaped_overhead, std::byte{0x5a});
            (void)seal_into(sealed_.back().data(), n, 1);
        }
    }

    // Seal packet k's size in place in `buf`, as esp::sa::protect does with the cipher.
    bool seal(std::size_t k, std::byte* buf) noexcept {
        return seal_into(buf, ct_[k % ct_.size()], ++seq_);
    }

    // Copy packet k in and open it, as esp::sa::unprotect does with the cipher.
    bool open(std::size_t k, std::byte* work) noexcept {
        const auto& p = sealed_[k % sealed_.size()];
        std::memcpy(work, p.data(), p.size());
        return esp_shaped_open(aead_, salt_, work, p.size());
    }

    // The reference halves of run_paired.
    auto sealer(std::byte* buf) noexcept {
        return [this, buf](std::size_t k) {
            bool ok = seal(k, buf);
            benchmark::DoNotOptimize(buf);
            return ok;
        };
    }
    auto opener(std::byte* work) noexcept {
        return [this, work](std::size_t k) {
            bool ok = open(k, work);
            benchmark::DoNotOptimize(ok);
            return ok;
        };
    }

  private:
    static std::vector<std::byte> key_of(std::size_t n) {
        std::vector<std::byte> k(n);
        for (std::size_t i = 0; i < n; ++i)
            k[i] = std::byte(3 + 7 * i);
        return k;
    }

    bool seal_into(std::byte* p, std::size_t ct, std::uint64_t seq) noexcept {
        store_be32(p, 0x1234);
        store_be32(p + 4, static_cast<std::uint32_t>(seq));
        store_be64(p + esp::header_size, seq);
        return esp_shaped_seal(aead_, salt_, p, ct + esp_shaped_overhead);
    }

    typename B::aead aead_;
    std::vector<std::size_t> ct_;
    std::vector<std::vector<std::byte>> sealed_;
    std::array<std::byte, 4> salt_{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    std::uint64_t seq_ = 1;
};

// Ciphertext of ESP alone around an n-byte payload: payload, pad, pad length, next header.
std::size_t esp_ct_size(std::size_t n) {
    return (n + 2 + 3) / 4 * 4;
}

template <class B>
void esp_seal_paired(benchmark::State& st, const char* suite, std::string which) {
    auto s = *esp::parse_suite(suite);
    auto sizes = sizes_of(which);
    std::vector<std::size_t> ct;
    for (auto n : sizes)
        ct.push_back(esp_ct_size(n));
    bench_stack<B, 1> keys(s);
    auto cfg = keys.sa(0x1234, 1);
    cfg.esn = true;  // never exhausted, however long the run
    auto sa = esp::sa<B>::make(cfg);
    if (!sa) return st.SkipWithError("esp::sa::make failed");
    aead_ref<B> ref(s, ct);
    std::vector<std::byte> buf(vpn::packet_buffer_size, std::byte{0x5a}), rbuf(buf);
    run_paired(
        st,
        [&](std::size_t k) {
            auto r = sa->protect(buf, vpn::headroom, sizes[k % sizes.size()], esp::proto::ipv4);
            benchmark::DoNotOptimize(r);
            return r.has_value();
        },
        ref.sealer(rbuf.data()));
}

template <class B>
void esp_open_paired(benchmark::State& st, const char* suite, std::string which) {
    auto s = *esp::parse_suite(suite);
    auto sizes = sizes_of(which);
    std::vector<std::size_t> ct;
    for (auto n : sizes)
        ct.push_back(esp_ct_size(n));
    bench_stack<B, 1> keys(s);
    auto cfg = keys.sa(0x1234, 1);  // no window, no ESN: the same packets are replayed
    auto out = esp::sa<B>::make(cfg);
    auto in = esp::sa<B>::make(cfg);
    if (!out || !in) return st.SkipWithError("esp::sa::make failed");
    std::vector<std::vector<std::byte>> pkts;
    std::vector<std::byte> buf(vpn::packet_buffer_size, std::byte{0x5a}), work(buf);
    for (auto n : sizes) {
        auto p = out->protect(buf, vpn::headroom, n, esp::proto::ipv4);
        pkts.emplace_back(p->begin(), p->end());
    }
    aead_ref<B> ref(s, ct);
    run_paired(
        st,
        [&](std::size_t k) {
            const auto& p = pkts[k % pkts.size()];
            std::memcpy(work.data(), p.data(), p.size());
            auto r = in->unprotect(mutable_bytes(work).first(p.size()));
            benchmark::DoNotOptimize(r);
            return r.has_value();
        },
        ref.opener(work.data()));
}

template <class B>
void stack_encap_paired(benchmark::State& st, const char* suite, std::string which) {
    auto s = *esp::parse_suite(suite);
    bench_stack<B, 1> stack(s);
    rnd crng(2);
    auto c = stack.connect(transport::endpoint::v4(203, 0, 113, 9, 40000), 1, crng);
    if (c->sessions_up() != 1) return st.SkipWithError("session did not come up");
    auto sizes = sizes_of(which);
    std::vector<std::size_t> ct;
    for (auto n : sizes)
        ct.push_back(ct_size(n, 4));
    aead_ref<B> ref(s, ct);
    std::array<std::byte, vpn::packet_buffer_size> buf{}, rbuf{};
    vpn::make_echo_request(mutable_bytes(buf).subspan(vpn::headroom, 1500), 0x0a100000, 0x0a000001,
                           1, 1, 1500);
    run_paired(
        st,
        [&](std::size_t k) {
            buf[vpn::headroom] = std::byte{0x45};  // encrypted in place the time before
            auto o = c->send_ip(1, buf, vpn::headroom, sizes[k % sizes.size()]);
            benchmark::DoNotOptimize(o);
            return o.has_value();
        },
        ref.sealer(rbuf.data()));
}

template <class B>
void stack_decap_paired(benchmark::State& st, const char* suite, std::string which) {
    auto s = *esp::parse_suite(suite);
    bench_stack<B, 1> stack(s);
    rnd crng(2);
    auto c = stack.connect(transport::endpoint::v4(203, 0, 113, 9, 40000), 1, crng);
    if (c->sessions_up() != 1) return st.SkipWithError("session did not come up");
    auto sizes = sizes_of(which);
    std::vector<std::size_t> ct;
    std::vector<std::vector<std::byte>> pkts;
    std::array<std::byte, vpn::packet_buffer_size> buf{}, work{};
    for (auto n : sizes) {
        ct.push_back(ct_size(n, 4));
        vpn::make_echo_request(mutable_bytes(buf).subspan(vpn::headroom, n), 0x0a100000, 0x0a000001,
                               1, 1, n);
        auto o = c->send_ip(1, buf, vpn::headroom, n);
        if (!o) return st.SkipWithError("send_ip failed");
        pkts.emplace_back(o->data.begin(), o->data.end());
    }
    aead_ref<B> ref(s, ct);
    time_point now{};
    run_paired(
        st,
        [&](std::size_t k) {
            const auto& p = pkts[k % pkts.size()];
            std::memcpy(work.data(), p.data(), p.size());
            auto d = stack.server->on_esp(mutable_bytes(work.data(), p.size()), now);
            benchmark::DoNotOptimize(d);
            return d && *d;
        },
        ref.opener(work.data()));
}

template <class B>
void register_backend() {
    const std::string bn = backend_name(static_cast<B*>(nullptr));
    for (const auto& a : algs) {
        if (!esp::is_aead(esp::parse_suite(a.suite)->enc)) continue;
        for (std::string size : {"64", "1400", "imix"}) {
            auto tail = bn + "/" + a.name + "/" + size;
            benchmark::RegisterBenchmark(("esp_seal_paired/" + tail).c_str(), esp_seal_paired<B>,
                                         a.suite, size);
            benchmark::RegisterBenchmark(("esp_open_paired/" + tail).c_str(), esp_open_paired<B>,
                                         a.suite, size);
            benchmark::RegisterBenchmark(("stack_encap_paired/" + tail).c_str(),
                                         stack_encap_paired<B>, a.suite, size);
            benchmark::RegisterBenchmark(("stack_decap_paired/" + tail).c_str(),
                                         stack_decap_paired<B>, a.suite, size);
        }
    }
}

const int registered = [] {
    register_backend<crypto::botan>();
#if defined(L2SEC_BENCH_OPENSSL)
    register_backend<crypto::openssl>();
#endif
    return 0;
}();

}  // namespace
