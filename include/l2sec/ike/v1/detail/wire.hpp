// Wire helpers of the IKEv1 engine: transform attributes, proposal matching,
// NAT-D, IDs, DH key pairs drawn from the random source. Not a public interface.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/nat.hpp>
#include <l2sec/ike/payload.hpp>
#include <l2sec/ike/proposal.hpp>
#include <l2sec/ike/registry.hpp>
#include <l2sec/ike/v1/detail/state.hpp>
#include <l2sec/ike/v1/keys.hpp>
#include <l2sec/ike/v1/payloads.hpp>
#include <l2sec/ike/v1/proposals.hpp>
#include <l2sec/ike/v1/vendor_ids.hpp>

#include <array>
#include <cstdint>
#include <optional>

namespace l2sec::ike::v1::detail {

constexpr std::uint8_t u8(std::size_t v) noexcept {
    return static_cast<std::uint8_t>(v);
}
constexpr std::uint16_t u16(std::size_t v) noexcept {
    return static_cast<std::uint16_t>(v);
}

/// phase1_info for any phase 1 transform (keys.hpp's describe() covers AES;
/// 3DES and DES take 8-byte blocks).
inline std::optional<phase1_info> describe_p1(const phase1_proposal& p) noexcept {
    auto i = describe({v1_encr::aes_cbc, 128, p.hash});
    if (!i) return std::nullopt;
    phase1_info r = *i;
    switch (p.encr) {
        case v1_encr::aes_cbc:
            if (!crypto::aes_cbc_for_key_bits(p.key_bits, r.cipher)) return std::nullopt;
            r.key_size = p.key_bits / 8u;
            r.block_size = 16;
            return r;
        case v1_encr::des3_cbc:
            r.cipher = crypto::cipher_id::tdes_cbc;
            r.key_size = 24;
            r.block_size = 8;
            return r;
        case v1_encr::des_cbc:
            r.cipher = crypto::cipher_id::des_cbc;
            r.key_size = 8;
            r.block_size = 8;
            return r;
        default:
            return std::nullopt;
    }
}

/// A life duration attribute: TV when it fits 16 bits, else a 4-byte TLV.
inline void write_life(writer& w, std::uint16_t type, std::uint32_t v,
                       std::array<std::byte, 4>& scratch) noexcept {
    if (v <= 0xffff) {
        attribute::basic(type, u16(v)).encode(w);
    } else {
        store_be32(scratch.data(), v);
        attribute::variable(type, scratch).encode(w);
    }
}

/// The attributes of a phase 1 transform that matter here.
struct p1_attrs {
    std::uint16_t encr = 0, key_bits = 0, hash = 0, auth = 0, group = 0;
    std::uint32_t life_s = 0;
    bool other_group = false;  ///< a private group (type/prime given): refused
};
inline p1_attrs read_p1(const transform_v1& t) noexcept {
    p1_attrs a;
    std::uint16_t life_type = 0;
    for (const auto& at : t.attributes()) {
        switch (at.type) {
            case v1_attr::encryption_algorithm:
                a.encr = u16(at.value());
                break;
            case v1_attr::key_length:
                a.key_bits = u16(at.value());
                break;
            case v1_attr::hash_algorithm:
                a.hash = u16(at.value());
                break;
            case v1_attr::authentication_method:
                a.auth = u16(at.value());
                break;
            case v1_attr::group_description:
                a.group = u16(at.value());
                break;
            case v1_attr::group_type:
            case v1_attr::field_size:
            case v1_attr::group_order:
                a.other_group = true;
                break;
            case v1_attr::life_type:
                life_type = u16(at.value());
                break;
            case v1_attr::life_duration:
                if (life_type == 1) a.life_s = static_cast<std::uint32_t>(at.value());
                break;
            default:
                break;
        }
    }
    return a;
}
constexpr std::uint16_t default_key_bits(v1_encr e) noexcept {
    return e == v1_encr::des3_cbc ? 192 : e == v1_encr::des_cbc ? 64 : 0;
}
inline bool matches(const phase1_proposal& p, const p1_attrs& a) noexcept {
    if (a.other_group || a.auth != static_cast<std::uint16_t>(v1_auth::pre_shared_key))
        return false;
    if (a.encr != static_cast<std::uint16_t>(p.encr)) return false;
    std::uint16_t kb = a.key_bits ? a.key_bits : default_key_bits(p.encr);
    if (p.encr == v1_encr::aes_cbc && a.key_bits == 0) kb = 128;
    return kb == p.key_bits && a.hash == static_cast<std::uint16_t>(p.hash) &&
           a.group == static_cast<std::uint16_t>(p.group);
}

/// Write one phase 1 transform (number `n`) for `p`.
inline void write_p1_transform(sa_writer& sw, writer& w, std::uint8_t n, const phase1_proposal& p,
                               std::uint32_t life_s) noexcept {
    sw.transform_v1(n, 1);  // KEY_IKE
    attribute::basic(v1_attr::encryption_algorithm, static_cast<std::uint16_t>(p.encr)).encode(w);
    if (p.encr == v1_encr::aes_cbc) attribute::basic(v1_attr::key_length, p.key_bits).encode(w);
    attribute::basic(v1_attr::hash_algorithm, static_cast<std::uint16_t>(p.hash)).encode(w);
    attribute::basic(v1_attr::authentication_method,
                     static_cast<std::uint16_t>(v1_auth::pre_shared_key))
        .encode(w);
    attribute::basic(v1_attr::group_description, static_cast<std::uint16_t>(p.group)).encode(w);
    attribute::basic(v1_attr::life_type, 1).encode(w);
    std::array<std::byte, 4> s{};
    write_life(w, v1_attr::life_duration, life_s, s);
}

/// The attributes of an ESP transform.
struct esp_attrs {
    std::uint16_t encap = 0, auth = 0, key_bits = 0, group = 0;
    std::uint32_t life_s = 0;
    std::uint64_t life_kb = 0;
};
inline esp_attrs read_esp(const transform_v1& t) noexcept {
    esp_attrs a;
    std::uint16_t life_type = 0;
    for (const auto& at : t.attributes()) {
        switch (at.type) {
            case v1_ipsec_attr::sa_life_type:
                life_type = u16(at.value());
                break;
            case v1_ipsec_attr::sa_life_duration:
                if (life_type == 1) a.life_s = static_cast<std::uint32_t>(at.value());
                if (life_type == 2) a.life_kb = at.value();
                break;
            case v1_ipsec_attr::group_description:
                a.group = u16(at.value());
                break;
            case v1_ipsec_attr::encapsulation_mode:
                a.encap = u16(at.value());
                break;
            case v1_ipsec_attr::auth_algorithm:
                a.auth = u16(at.value());
                break;
            case v1_ipsec_attr::key_length:
                a.key_bits = u16(at.value());
                break;
            default:
                break;
        }
    }
    return a;
}
inline bool matches(const esp_proposal& p, std::uint8_t id, const esp_attrs& a) noexcept {
    if (id != esp_transform_id(p.suite)) return false;
    if (a.auth != esp_auth_alg(p.suite.integ)) return false;
    std::size_t kb = a.key_bits;
    if (p.suite.enc == esp::encryption::aes_cbc || p.suite.enc == esp::encryption::aes_gcm_16) {
        if (kb == 0) kb = 128;
    } else {
        if (kb == 0) kb = p.suite.enc_key_size * 8;
    }
    return kb == p.suite.enc_key_size * 8;
}
constexpr bool encap_is_udp(std::uint16_t m) noexcept {
    return m == 3 || m == 4 || m == 61443 || m == 61444;
}
constexpr bool encap_is_tunnel(std::uint16_t m) noexcept {
    return m == 1 || m == 3 || m == 61443;
}
constexpr std::uint16_t encap_value(esp::mode m, bool udp, nat_t n) noexcept {
    const bool tunnel = m == esp::mode::tunnel;
    if (!udp) return tunnel ? 1 : 2;
    if (n == nat_t::rfc3947) return tunnel ? 3 : 4;
    return tunnel ? 61443 : 61444;
}

inline void write_esp_transform(sa_writer& sw, writer& w, std::uint8_t n, const esp_proposal& p,
                                std::uint16_t encap, std::uint32_t life_s, std::uint64_t life_kb,
                                std::optional<crypto::dh_id> pfs) noexcept {
    namespace a = v1_ipsec_attr;
    sw.transform_v1(n, esp_transform_id(p.suite));
    std::array<std::byte, 4> s{};
    attribute::basic(a::sa_life_type, 1).encode(w);
    write_life(w, a::sa_life_duration, life_s, s);
    if (life_kb) {
        attribute::basic(a::sa_life_type, 2).encode(w);
        std::array<std::byte, 4> s2{};
        write_life(w, a::sa_life_duration, static_cast<std::uint32_t>(life_kb), s2);
    }
    if (pfs) attribute::basic(a::group_description, static_cast<std::uint16_t>(*pfs)).encode(w);
    attribute::basic(a::encapsulation_mode, encap).encode(w);
    if (auto al = esp_auth_alg(p.suite.integ)) attribute::basic(a::auth_algorithm, al).encode(w);
    if (p.suite.enc == esp::encryption::aes_cbc || p.suite.enc == esp::encryption::aes_gcm_16)
        attribute::basic(a::key_length, u16(p.suite.enc_key_size * 8)).encode(w);
}

/// Write a transform substructure copied from the peer's SA (the chosen one),
/// as the last one of its proposal.
inline void copy_transform(writer& w, const payload& t) noexcept {
    w.u8(0);
    w.u8(0);
    w.u16(u16(t.body.size() + payload::header_size));
    w.bytes(t.body);
}

/// Address bytes of an endpoint (4 or 16).
inline bytes_view address_bytes(const transport::endpoint& e) noexcept {
    return bytes_view(reinterpret_cast<const std::byte*>(e.addr.data()),
                      e.family == transport::endpoint::family_t::v6 ? 16 : 4);
}
constexpr std::uint8_t address_id_type(const transport::endpoint& e) noexcept {
    return e.family == transport::endpoint::family_t::v6 ? 5 : 1;
}

/// The endpoint an IPv4/IPv6 ID or NAT-OA address names (port 0).
inline std::optional<transport::endpoint> endpoint_of(std::uint8_t type, bytes_view a) noexcept {
    transport::endpoint e;
    if (type == 1 && a.size() == 4) {
        e.family = transport::endpoint::family_t::v4;
    } else if (type == 5 && a.size() == 16) {
        e.family = transport::endpoint::family_t::v6;
    } else {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < a.size(); ++i)
        e.addr[i] = std::to_integer<std::uint8_t>(a[i]);
    return e;
}

/// A fresh DH/ECDH key pair whose private value comes from the engine's
/// random source (not the backend's own generator).
template <class B, class R>
std::optional<typename B::key_exchange> make_dh(crypto::dh_id g, R& rnd) noexcept {
    std::array<std::byte, 48> priv{};
    std::size_t n = 32;
    if (g == crypto::dh_id::ecp384 || g == crypto::dh_id::modp3072) n = 48;
    for (int attempt = 0; attempt < 4; ++attempt) {
        if (!rnd.fill(mutable_bytes(priv.data(), n))) return std::nullopt;
        if (g == crypto::dh_id::ecp256 || g == crypto::dh_id::ecp384) priv[0] &= std::byte{0x7f};
        priv[n - 1] |= std::byte{0x01};  // never zero
        auto k = B::make_key_exchange(g, bytes_view(priv.data(), n));
        crypto::secure_zero(priv);
        if (k) return std::move(*k);
    }
    return std::nullopt;
}

/// NAT-D hash of an endpoint with the SA's cookies.
template <class B>
std::optional<key> nat_d(const phase1_info& info, std::uint64_t cky_i, std::uint64_t cky_r,
                         const transport::endpoint& e) noexcept {
    auto h = nat_detection_hash<B>(info.hash, cky_i, cky_r, address_bytes(e), e.port);
    if (!h) return std::nullopt;
    return *h;
}

/// The bytes after the HASH payload (first in the chain) to the end of the
/// last payload: what the Quick Mode / Informational hashes cover.
inline std::optional<bytes_view> after_first_hash(bytes_view message,
                                                  const payload_range& chain) noexcept {
    std::size_t start = 0, end = 0;
    bool first = true;
    for (const auto& p : chain) {
        if (first) {
            if (p.kind() != payload_type::hash) return std::nullopt;
            start = p.offset + p.size();
            first = false;
        }
        end = p.offset + p.size();
    }
    if (first || !chain.ok() || end > message.size()) return std::nullopt;
    return message.subspan(start, end - start);
}

}  // namespace l2sec::ike::v1::detail
