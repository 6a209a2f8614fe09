// ESP datapath against the raw crypto of the same backend, same sizes, same
// run, so the ESP overhead is a ratio. Names pair up under a filter:
//   l2sec-bench --benchmark_filter='/aes256gcm/1400$'
// esp_protect/<alg>/<n>    protect an n-byte payload in place (header, IV, padding, ICV)
// esp_unprotect/<alg>/<n>  copy a protected packet into the work buffer, unprotect it
// raw_aead/<alg>/<n>       Botan AEAD seal of n bytes, 8-byte AAD, in place (the raw cost)
// raw_aead_open/<alg>/<n>  copy + AEAD open of n bytes (same copy as esp_unprotect)
// raw_cbc_hmac/<alg>/<n>   CBC encrypt + truncated HMAC of n bytes
// raw_cbc_hmac_open/<alg>/<n>  copy + HMAC verify + CBC decrypt
// bytes_per_second counts payload bytes; items_per_second is packets per second.
// esp_unprotect runs with anti-replay off (the same packets are replayed);
// esp_replay_window/<size> measures the window on its own.
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/esp.hpp>

#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace l2sec;
using B = crypto::botan;

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
constexpr std::size_t sizes[] = {64, 512, 1400, 8192};
constexpr std::size_t headroom = 64, tailroom = 64;

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

void esp_protect(benchmark::State& st, const char* suite, std::size_t n) {
    auto p = make_pair(suite);
    auto sa = esp::sa<B>::make(p.cfg());
    std::vector<std::byte> buf(headroom + n + tailroom, std::byte{0x5a});
    for (auto _ : st) {
        auto r = sa->protect(buf, headroom, n, esp::proto::ipv4);
        benchmark::DoNotOptimize(r);
    }
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void esp_unprotect(benchmark::State& st, const char* suite, std::size_t n) {
    auto p = make_pair(suite);
    auto out = esp::sa<B>::make(p.cfg());
    auto in = esp::sa<B>::make(p.cfg());
    std::vector<std::byte> buf(headroom + n + tailroom, std::byte{0x5a});
    auto pkt = out->protect(buf, headroom, n, esp::proto::ipv4);
    std::vector<std::byte> pristine(pkt->begin(), pkt->end());
    std::vector<std::byte> work(pristine.size());
    for (auto _ : st) {
        std::memcpy(work.data(), pristine.data(), pristine.size());
        auto r = in->unprotect(work);
        benchmark::DoNotOptimize(r);
        if (!r) st.SkipWithError("unprotect failed");
    }
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

crypto::aead_id aead_of(const esp::suite& s) {
    if (s.enc == esp::encryption::chacha20_poly1305) return crypto::aead_id::chacha20_poly1305;
    return s.enc_key_size == 16 ? crypto::aead_id::aes128_gcm : crypto::aead_id::aes256_gcm;
}

void raw_aead(benchmark::State& st, const char* suite, std::size_t n) {
    auto p = make_pair(suite);
    auto a = B::make_aead(aead_of(p.s), bytes_view(p.ek).first(p.s.enc_key_size));
    std::vector<std::byte> data(n, std::byte{0x5a});
    std::array<std::byte, 12> nonce{};
    std::array<std::byte, 8> aad{};
    std::array<std::byte, 16> tag{};
    std::uint64_t ctr = 0;
    for (auto _ : st) {
        store_be64(nonce.data() + 4, ++ctr);
        benchmark::DoNotOptimize(a->seal(nonce, aad, data, tag));
    }
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void raw_aead_open(benchmark::State& st, const char* suite, std::size_t n) {
    auto p = make_pair(suite);
    auto a = B::make_aead(aead_of(p.s), bytes_view(p.ek).first(p.s.enc_key_size));
    std::vector<std::byte> pristine(n, std::byte{0x5a}), work(n);
    std::array<std::byte, 12> nonce{};
    std::array<std::byte, 8> aad{};
    std::array<std::byte, 16> tag{};
    a->seal(nonce, aad, pristine, tag);
    for (auto _ : st) {
        std::memcpy(work.data(), pristine.data(), n);
        bool ok = a->open(nonce, aad, work, tag);
        benchmark::DoNotOptimize(ok);
        if (!ok) st.SkipWithError("open failed");
    }
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

crypto::cipher_id cbc_of(const esp::suite& s) {
    return s.enc_key_size == 16 ? crypto::cipher_id::aes128_cbc : crypto::cipher_id::aes256_cbc;
}

// CBC (when present) + HMAC over header-sized extra bytes, as ESP does, on n bytes.
void raw_cbc_hmac(benchmark::State& st, const char* suite, std::size_t n) {
    auto p = make_pair(suite);
    auto m = B::make_mac(*esp::mac_for(p.s.integ), p.ik);
    std::optional<B::cipher> c;
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

void raw_cbc_hmac_open(benchmark::State& st, const char* suite, std::size_t n) {
    auto p = make_pair(suite);
    auto m = B::make_mac(*esp::mac_for(p.s.integ), p.ik);
    std::optional<B::cipher> c;
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

[[maybe_unused]] const bool registered = [] {
    for (const auto& a : algs) {
        bool aead = esp::is_aead(esp::parse_suite(a.suite)->enc);
        for (std::size_t n : sizes) {
            auto suffix = std::string("/") + a.bench_name + "/" + std::to_string(n);
            benchmark::RegisterBenchmark(("esp_protect" + suffix).c_str(), esp_protect, a.suite, n);
            benchmark::RegisterBenchmark(("esp_unprotect" + suffix).c_str(), esp_unprotect, a.suite,
                                         n);
            if (aead) {
                benchmark::RegisterBenchmark(("raw_aead" + suffix).c_str(), raw_aead, a.suite, n);
                benchmark::RegisterBenchmark(("raw_aead_open" + suffix).c_str(), raw_aead_open,
                                             a.suite, n);
            } else {
                benchmark::RegisterBenchmark(("raw_cbc_hmac" + suffix).c_str(), raw_cbc_hmac,
                                             a.suite, n);
                benchmark::RegisterBenchmark(("raw_cbc_hmac_open" + suffix).c_str(),
                                             raw_cbc_hmac_open, a.suite, n);
            }
        }
    }
    benchmark::RegisterBenchmark("esp_reject_bad_icv/aes256gcm/1400", esp_reject, "aes256-gcm",
                                 std::size_t{1400}, false);
    benchmark::RegisterBenchmark("esp_reject_bad_icv/aes128cbc_sha1/1400", esp_reject,
                                 "aes128-cbc-sha1", std::size_t{1400}, false);
    benchmark::RegisterBenchmark("esp_reject_replay/aes256gcm/1400", esp_reject, "aes256-gcm",
                                 std::size_t{1400}, true);
    benchmark::RegisterBenchmark("esp_replay_window/4096", esp_replay_window);
    return true;
}();

}  // namespace
