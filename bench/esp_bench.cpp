// ESP datapath against the raw crypto of the same backend, same sizes, same
// run, so the ESP overhead is a ratio, for each crypto backend (Botan, and
// OpenSSL when l2sec::openssl is built). Names carry the backend and pair up
// under a filter:
//   l2sec-bench --benchmark_filter='/aes256gcm/1400$'
// esp_seal/<backend>/<alg>/<n>       protect an n-byte payload in place (header, IV, padding, ICV)
// esp_open/<backend>/<alg>/<n>       copy a protected packet into the work buffer, unprotect it
// aead_raw/<backend>/<alg>/<n>       AEAD seal of n bytes, 8-byte AAD, in place (the raw cost)
// aead_raw_open/<backend>/<alg>/<n>  copy + AEAD open of n bytes (same copy as esp_open)
// cbc_hmac_raw/<backend>/<alg>/<n>   CBC encrypt + truncated HMAC of n bytes
// cbc_hmac_raw_open/<backend>/<alg>/<n>  copy + HMAC verify + CBC decrypt
// <n> is 64, 1400 or imix: one packet per iteration, cycling through the
// simple IMIX (7:4:1 of 64, 576 and 1500 bytes); all pairs see the same sizes.
// bytes_per_second counts payload bytes; items_per_second is packets per second.
// esp_open runs with anti-replay off (the same packets are replayed);
// esp_replay_window/<size> measures the window on its own.
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/esp.hpp>
#if defined(L2SEC_BENCH_OPENSSL)
#include <l2sec/crypto/openssl.hpp>
#endif

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace l2sec;

struct alg {
    const char* bench_name;
    const char* suite;
};
constexpr alg algs[] = {
    {"aes128gcm", "aes128-gcm"},
    {"aes256gcm", "aes256-gcm"},
    {"chacha20poly1305", "chacha20-poly1305"},
    {"aes128cbc_sha1", "aes128-cbc-sha1"},
    {"aes256cbc_sha256", "aes256-cbc-sha256"},
    {"null_sha256", "null-sha256"},
};
constexpr std::size_t headroom = 64, tailroom = 64;

/// A size pattern: one fixed size, or the simple IMIX (7 x 64, 4 x 576, 1 x 1500).
struct size_mix {
    const char* name;
    std::vector<std::size_t> sizes;
    std::size_t max() const { return *std::max_element(sizes.begin(), sizes.end()); }
};
const std::vector<size_mix>& mixes() {
    static const std::vector<size_mix> m = {
        {"64", {64}},
        {"1400", {1400}},
        {"imix", {64, 576, 64, 1500, 64, 576, 64, 64, 576, 64, 576, 64}},
    };
    return m;
}
// Runs one packet per iteration, cycling through the mix; counts its bytes.
template <class F>
void run_mix(benchmark::State& st, const size_mix& mix, F&& one) {
    std::size_t i = 0, k = mix.sizes.size();
    std::int64_t bytes = 0;
    for (auto _ : st) {
        std::size_t n = mix.sizes[i];
        i = i + 1 == k ? 0 : i + 1;
        one(n, i);
        bytes += static_cast<std::int64_t>(n);
    }
    st.SetBytesProcessed(bytes);
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

std::vector<std::byte> key_of(std::size_t n, unsigned seed) {
    std::vector<std::byte> k(n);
    for (std::size_t i = 0; i < n; ++i)
        k[i] = static_cast<std::byte>(seed + 13 * i);
    return k;
}

struct sa_pair {
    esp::suite s;
    std::vector<std::byte> ek, ik;
    esp::sa_config cfg() const {
        esp::sa_config c;
        c.spi = 0x1234;
        c.algorithms = s;
        c.enc_key = ek;
        c.integ_key = ik;
        c.replay_window = 0;
        c.esn = true;  // never exhausted, however long the run
        return c;
    }
};

sa_pair make_pair(const char* suite) {
    sa_pair p;
    p.s = *esp::parse_suite(suite);
    p.ek = key_of(p.s.enc_keymat_size(), 1);
    p.ik = key_of(esp::integrity_key_size(p.s.integ), 2);
    return p;
}

template <class B>
void esp_seal(benchmark::State& st, const char* suite, const size_mix* mix) {
    auto p = make_pair(suite);
    auto sa = esp::sa<B>::make(p.cfg());
    std::vector<std::byte> buf(headroom + mix->max() + tailroom, std::byte{0x5a});
    run_mix(st, *mix, [&](std::size_t n, std::size_t) {
        auto r = sa->protect(buf, headroom, n, esp::proto::ipv4);
        benchmark::DoNotOptimize(r);
    });
}

template <class B>
void esp_open(benchmark::State& st, const char* suite, const size_mix* mix) {
    auto p = make_pair(suite);
    // Without ESN: the receiver replays sequence numbers 1..k forever, which
    // ESN inference would read as a wrap (its high half moves on); no
    // window, so nothing is refused as a replay.
    auto cfg = p.cfg();
    cfg.esn = false;
    auto out = esp::sa<B>::make(cfg);
    auto in = esp::sa<B>::make(cfg);
    // One protected packet per entry of the mix, opened in the same order.
    std::vector<std::vector<std::byte>> pristine;
    for (std::size_t n : mix->sizes) {
        std::vector<std::byte> buf(headroom + n + tailroom, std::byte{0x5a});
        auto pkt = out->protect(buf, headroom, n, esp::proto::ipv4);
        pristine.emplace_back(pkt->begin(), pkt->end());
    }
    std::vector<std::byte> work(headroom + mix->max() + tailroom);
    std::size_t idx = 0;
    run_mix(st, *mix, [&](std::size_t, std::size_t next) {
        const auto& pk = pristine[idx];
        idx = next;
        std::memcpy(work.data(), pk.data(), pk.size());
        auto r = in->unprotect(mutable_bytes(work).first(pk.size()));
        benchmark::DoNotOptimize(r);
        if (!r) st.SkipWithError("unprotect failed");
    });
}

crypto::aead_id aead_of(const esp::suite& s) {
    if (s.enc == esp::encryption::chacha20_poly1305) return crypto::aead_id::chacha20_poly1305;
    return s.enc_key_size == 16 ? crypto::aead_id::aes128_gcm : crypto::aead_id::aes256_gcm;
}

template <class B>
void aead_raw(benchmark::State& st, const char* suite, const size_mix* mix) {
    auto p = make_pair(suite);
    auto a = B::make_aead(aead_of(p.s), bytes_view(p.ek).first(p.s.enc_key_size));
    std::vector<std::byte> data(mix->max(), std::byte{0x5a});
    std::array<std::byte, 12> nonce{};
    std::array<std::byte, 8> aad{};
    std::array<std::byte, 16> tag{};
    std::uint64_t ctr = 0;
    run_mix(st, *mix, [&](std::size_t n, std::size_t) {
        store_be64(nonce.data() + 4, ++ctr);
        benchmark::DoNotOptimize(a->seal(nonce, aad, mutable_bytes(data).first(n), tag));
    });
}

template <class B>
void aead_raw_open(benchmark::State& st, const char* suite, const size_mix* mix) {
    auto p = make_pair(suite);
    auto a = B::make_aead(aead_of(p.s), bytes_view(p.ek).first(p.s.enc_key_size));
    std::array<std::byte, 12> nonce{};
    std::array<std::byte, 8> aad{};
    std::vector<std::vector<std::byte>> pristine;
    std::vector<std::array<std::byte, 16>> tags;
    for (std::size_t n : mix->sizes) {
        pristine.emplace_back(n, std::byte{0x5a});
        tags.emplace_back();
        a->seal(nonce, aad, pristine.back(), tags.back());
    }
    std::vector<std::byte> work(mix->max());
    std::size_t idx = 0;
    run_mix(st, *mix, [&](std::size_t n, std::size_t next) {
        std::memcpy(work.data(), pristine[idx].data(), n);
        bool ok = a->open(nonce, aad, mutable_bytes(work).first(n), tags[idx]);
        idx = next;
        benchmark::DoNotOptimize(ok);
        if (!ok) st.SkipWithError("open failed");
    });
}

crypto::cipher_id cbc_of(const esp::suite& s) {
    return s.enc_key_size == 16 ? crypto::cipher_id::aes128_cbc : crypto::cipher_id::aes256_cbc;
}

// CBC (when present) + HMAC over header-sized extra bytes, as ESP does, on n bytes.
template <class B>
void cbc_hmac_raw(benchmark::State& st, const char* suite, std::size_t n) {
    auto p = make_pair(suite);
    auto m = B::make_mac(*esp::mac_for(p.s.integ), p.ik);
    std::optional<typename B::cipher> c;
    if (p.s.enc == esp::encryption::aes_cbc)
        c.emplace(std::move(*B::make_cipher(cbc_of(p.s), p.ek)));
    std::size_t len = c ? (n + 15) / 16 * 16 : n;
    std::vector<std::byte> data(len, std::byte{0x5a});
    std::array<std::byte, 16> iv{};
    std::array<std::byte, 32> icv{};
    auto out = mutable_bytes(icv).first(esp::icv_size(p.s.integ));
    for (auto _ : st) {
        if (c) c->encrypt(iv, data);
        m->update(data);
        m->final(out);
        benchmark::DoNotOptimize(icv);
    }
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

template <class B>
void cbc_hmac_raw_open(benchmark::State& st, const char* suite, std::size_t n) {
    auto p = make_pair(suite);
    auto m = B::make_mac(*esp::mac_for(p.s.integ), p.ik);
    std::optional<typename B::cipher> c;
    if (p.s.enc == esp::encryption::aes_cbc)
        c.emplace(std::move(*B::make_cipher(cbc_of(p.s), p.ek)));
    std::size_t len = c ? (n + 15) / 16 * 16 : n;
    std::vector<std::byte> pristine(len, std::byte{0x5a}), work(len);
    std::array<std::byte, 16> iv{};
    std::array<std::byte, 32> icv{};
    auto out = mutable_bytes(icv).first(esp::icv_size(p.s.integ));
    for (auto _ : st) {
        std::memcpy(work.data(), pristine.data(), len);
        m->update(work);
        m->final(out);
        benchmark::DoNotOptimize(icv);
        if (c) c->decrypt(iv, work);
    }
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

// Rejections: a flipped ICV bit (full decryption, then Botan reports the bad
// tag by an exception, caught in the backend) and a replayed packet (the
// window rejects it before any crypto).
template <class B>
void esp_reject(benchmark::State& st, const char* suite, std::size_t n, bool replay) {
    auto p = make_pair(suite);
    auto cfg = p.cfg();
    cfg.replay_window = 64;
    auto out = esp::sa<B>::make(cfg);
    auto in = esp::sa<B>::make(cfg);
    std::vector<std::byte> buf(headroom + n + tailroom, std::byte{0x5a});
    auto pkt = out->protect(buf, headroom, n, esp::proto::ipv4);
    std::vector<std::byte> pristine(pkt->begin(), pkt->end());
    if (replay) {
        auto first = pristine;
        (void)in->unprotect(first);
    } else {
        pristine.back() ^= std::byte{1};
    }
    std::vector<std::byte> work(pristine.size());
    for (auto _ : st) {
        std::memcpy(work.data(), pristine.data(), pristine.size());
        auto r = in->unprotect(work);
        benchmark::DoNotOptimize(r);
        if (r) st.SkipWithError("accepted a bad packet");
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void esp_replay_window(benchmark::State& st) {
    esp::replay_window<4096> w(4096);
    std::uint64_t seq = 1;
    for (auto _ : st) {
        // mostly in order, with some reordering inside the window
        std::uint64_t s = seq + ((seq & 7) == 3 ? 0 : 5);
        if (w.check(s) == esp::replay_verdict::ok) w.update(s);
        ++seq;
        benchmark::DoNotOptimize(w);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

template <class B>
void register_backend(const char* backend) {
    const std::string be = std::string("/") + backend;
    for (const auto& a : algs) {
        bool aead = esp::is_aead(esp::parse_suite(a.suite)->enc);
        for (const auto& m : mixes()) {
            auto suffix = be + "/" + a.bench_name + "/" + m.name;
            benchmark::RegisterBenchmark(("esp_seal" + suffix).c_str(), esp_seal<B>, a.suite, &m);
            benchmark::RegisterBenchmark(("esp_open" + suffix).c_str(), esp_open<B>, a.suite, &m);
            if (aead) {
                benchmark::RegisterBenchmark(("aead_raw" + suffix).c_str(), aead_raw<B>, a.suite,
                                             &m);
                benchmark::RegisterBenchmark(("aead_raw_open" + suffix).c_str(), aead_raw_open<B>,
                                             a.suite, &m);
            } else if (m.sizes.size() == 1) {
                std::size_t n = m.sizes.front();
                benchmark::RegisterBenchmark(("cbc_hmac_raw" + suffix).c_str(), cbc_hmac_raw<B>,
                                             a.suite, n);
                benchmark::RegisterBenchmark(("cbc_hmac_raw_open" + suffix).c_str(),
                                             cbc_hmac_raw_open<B>, a.suite, n);
            }
        }
    }
    benchmark::RegisterBenchmark(("esp_reject_bad_icv" + be + "/aes256gcm/1400").c_str(),
                                 esp_reject<B>, "aes256-gcm", std::size_t{1400}, false);
    benchmark::RegisterBenchmark(("esp_reject_bad_icv" + be + "/aes128cbc_sha1/1400").c_str(),
                                 esp_reject<B>, "aes128-cbc-sha1", std::size_t{1400}, false);
    benchmark::RegisterBenchmark(("esp_reject_replay" + be + "/aes256gcm/1400").c_str(),
                                 esp_reject<B>, "aes256-gcm", std::size_t{1400}, true);
}

[[maybe_unused]] const bool registered = [] {
    register_backend<crypto::botan>("botan");
#if defined(L2SEC_BENCH_OPENSSL)
    register_backend<crypto::openssl>("openssl");
#endif
    benchmark::RegisterBenchmark("esp_replay_window/4096", esp_replay_window);
    return true;
}();

}  // namespace
