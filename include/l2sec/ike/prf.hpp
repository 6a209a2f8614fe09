// IKE's pseudo-random functions over the crypto seam: prf(K, S...) and
// prf+ (RFC 7296 §2.13), and the fixed-size key holder the key schedules
// return. PRFs are the backend's HMACs (crypto::mac_context).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/registry.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace l2sec::ike {

/// A key of up to 64 bytes (the largest PRF output / key IKE derives).
struct key {
    static constexpr std::size_t capacity = 64;
    std::array<std::byte, capacity> bytes{};
    std::size_t size = 0;

    constexpr bytes_view view() const noexcept { return bytes_view(bytes.data(), size); }
    constexpr operator bytes_view() const noexcept { return view(); }
    static constexpr key from(bytes_view b) noexcept {
        key k;
        k.size = b.size() < capacity ? b.size() : capacity;
        for (std::size_t i = 0; i < k.size; ++i)
            k.bytes[i] = b[i];
        return k;
    }
};

/// The HMAC behind an IKEv2 PRF transform (RFC 7296 §3.3.2), or nullopt-like false.
constexpr bool prf_mac(prf_id p, crypto::mac_id& out) noexcept {
    switch (p) {
        case prf_id::hmac_md5:
            out = crypto::mac_id::hmac_md5;
            return true;
        case prf_id::hmac_sha1:
            out = crypto::mac_id::hmac_sha1;
            return true;
        case prf_id::hmac_sha2_256:
            out = crypto::mac_id::hmac_sha256;
            return true;
        case prf_id::hmac_sha2_384:
            out = crypto::mac_id::hmac_sha384;
            return true;
        case prf_id::hmac_sha2_512:
            out = crypto::mac_id::hmac_sha512;
            return true;
        default:
            return false;
    }
}

/// prf(K, S1 | S2 | ...) into a key.
template <crypto::datapath_backend B>
result<key> prf(crypto::mac_id id, bytes_view k, std::initializer_list<bytes_view> parts) noexcept {
    auto m = B::make_mac(id, k);
    if (!m) return error(errc::crypto_failure, 0, "prf");
    key out;
    out.size = m->output_size();
    if (out.size > key::capacity) return error(errc::unsupported_algorithm, 0, "prf");
    for (auto p : parts)
        m->update(p);
    m->final(mutable_bytes(out.bytes.data(), out.size));
    return out;
}

/// prf+(K, S) = T1 | T2 | ..., T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n),
/// written to `out` (at most 255 blocks). S is given in parts (no concatenation).
template <crypto::datapath_backend B>
result<void> prf_plus(crypto::mac_id id, bytes_view k, std::span<const bytes_view> seed,
                      mutable_bytes out) noexcept {
    auto m = B::make_mac(id, k);
    if (!m) return error(errc::crypto_failure, 0, "prf+");
    const std::size_t n = m->output_size();
    if (n > key::capacity || n == 0) return error(errc::unsupported_algorithm, 0, "prf+");
    std::array<std::byte, key::capacity> t{};
    std::size_t t_size = 0, done = 0;
    for (unsigned counter = 1; done < out.size(); ++counter) {
        if (counter > 255) return error(l2sec::errc::invalid_argument, 0, "prf+ length");
        m->update(bytes_view(t.data(), t_size));
        for (auto s : seed)
            m->update(s);
        const std::byte c = static_cast<std::byte>(counter);
        m->update(bytes_view(&c, 1));
        m->final(mutable_bytes(t.data(), n));
        t_size = n;
        std::size_t take = out.size() - done < n ? out.size() - done : n;
        for (std::size_t i = 0; i < take; ++i)
            out[done + i] = t[i];
        done += take;
    }
    crypto::secure_zero(t);
    return {};
}

}  // namespace l2sec::ike
