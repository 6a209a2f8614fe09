// IKEv1 and IKEv2 decoders on arbitrary input: header, payload chain, every
// payload body (deep validation), and the byte-exact round trip property: a
// message that validates re-encodes to exactly its input. With the Botan
// backend linked, the same input also goes through IKEv2 SK open (AES-CBC +
// HMAC and AES-GCM, fixed keys) and IKEv1 CBC decryption, whose plaintext
// (garbage, since there is no integrity check in IKEv1) is parsed as a chain.
#include <l2sec/ike.hpp>

#if __has_include(<botan/version.h>)
#include <l2sec/crypto/botan.hpp>
#define L2SEC_FUZZ_IKE_CRYPTO 1
#endif

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace {

#ifdef L2SEC_FUZZ_IKE_CRYPTO
using B = l2sec::crypto::botan;
struct contexts {
    std::optional<l2sec::ike::v2::sk_protect<B>> cbc, gcm;
    std::optional<l2sec::ike::v1::message_crypto<B>> v1;
    contexts() {
        std::array<std::byte, 36> k{};
        k.fill(std::byte{0x42});
        auto ci = *l2sec::ike::v2::describe({l2sec::ike::encr_id::aes_cbc, 128,
                                             l2sec::ike::prf_id::hmac_sha2_256,
                                             l2sec::ike::integ_id::hmac_sha2_256_128});
        auto gi = *l2sec::ike::v2::describe({l2sec::ike::encr_id::aes_gcm_16, 128,
                                             l2sec::ike::prf_id::hmac_sha2_256,
                                             l2sec::ike::integ_id::none});
        auto vi = *l2sec::ike::v1::describe(
            {l2sec::ike::v1_encr::aes_cbc, 128, l2sec::ike::v1_hash::sha1});
        if (auto c = l2sec::ike::v2::sk_protect<B>::make(ci, l2sec::bytes_view(k).first(16),
                                                         l2sec::bytes_view(k).first(32)))
            cbc.emplace(std::move(*c));
        if (auto g = l2sec::ike::v2::sk_protect<B>::make(gi, l2sec::bytes_view(k).first(20), {}))
            gcm.emplace(std::move(*g));
        if (auto v = l2sec::ike::v1::message_crypto<B>::make(vi, l2sec::bytes_view(k).first(16)))
            v1.emplace(std::move(*v));
    }
};
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    l2sec::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    static std::array<std::byte, 70000> out;
    if (auto m = l2sec::ike::parse(in)) {
        std::size_t n = 0;
        for (const auto& p : m->payloads())
            n += p.size();
        (void)n;
        if (l2sec::ike::validate(*m)) {
            auto r = l2sec::ike::reencode(*m, out);
            if (!r || *r != size || std::memcmp(out.data(), data, size) != 0) std::abort();
        }
#ifdef L2SEC_FUZZ_IKE_CRYPTO
        static contexts ctx;
        std::vector<std::byte> work(in.begin(), in.end());
        for (auto* sk : {&ctx.cbc, &ctx.gcm}) {
            if (!*sk) continue;
            std::copy(in.begin(), in.end(), work.begin());
            if (auto pt = (*sk)->open(work)) (void)l2sec::ike::v2::validate(pt->payloads());
        }
        if (ctx.v1 && m->header().encrypted()) {
            std::copy(in.begin(), in.end(), work.begin());
            l2sec::ike::v1::iv iv{};
            if (auto chain = ctx.v1->decrypt(work, iv)) (void)l2sec::ike::v1::validate(*chain);
        }
#endif
    }
    // The same bytes as a decrypted body: an IKEv1 plaintext and an IKEv2 SK inner chain.
    if (size > 1) {
        auto first = static_cast<std::uint8_t>(data[0]);
        auto rest = in.subspan(1);
        (void)l2sec::ike::v1::validate(l2sec::ike::parse_v1_plaintext(rest, first));
        (void)l2sec::ike::v2::validate(l2sec::ike::parse_v2_inner(rest, first));
    }
    return 0;
}
