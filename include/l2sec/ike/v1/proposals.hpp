// IKEv1 proposals: what a phase 1 (ISAKMP SA) and a phase 2 (ESP SA) offer or
// accept, the default lists, and what counts as weak.
//
// The defaults are the strongest transforms the built-in clients meet:
//   Windows 10/11: AES-256/AES-128 + SHA-1 on ECP-384, ECP-256, MODP-2048
//   macOS/iOS:     AES-256 + SHA-256/SHA-1 on MODP-2048 (also 1536, 1024)
//   Android <= 11: AES-256/128 + SHA-256/SHA-1/MD5, all on MODP-1024 (weak:
//                  only with config::allow_weak, see weak_ike_proposals())
// Quick Mode: AES-256/128-CBC with HMAC-SHA-256/SHA-1 (and AES-GCM), transport.
#pragma once

#include <l2sec/crypto/dh.hpp>
#include <l2sec/esp/algorithms.hpp>
#include <l2sec/ike/registry.hpp>

#include <array>
#include <cstdint>
#include <span>

namespace l2sec::ike::v1 {

/// One phase 1 transform: cipher (+ key length for AES), hash (also the PRF's
/// HMAC), DH group; authentication is always pre-shared key.
struct phase1_proposal {
    v1_encr encr = v1_encr::aes_cbc;
    std::uint16_t key_bits = 256;  ///< AES: 128/192/256; 3DES: 192; DES: 64
    v1_hash hash = v1_hash::sha1;
    crypto::dh_id group = crypto::dh_id::modp2048;

    friend constexpr bool operator==(const phase1_proposal&, const phase1_proposal&) = default;
};

/// One ESP transform for Quick Mode.
struct esp_proposal {
    esp::suite suite{esp::encryption::aes_cbc, 32, esp::integrity::hmac_sha2_256_128};
    friend constexpr bool operator==(const esp_proposal&, const esp_proposal&) = default;
};

/// MODP-1024, 3DES, DES, MD5: accepted or offered only with config::allow_weak.
constexpr bool is_weak(const phase1_proposal& p) noexcept {
    return p.encr != v1_encr::aes_cbc || p.hash == v1_hash::md5 ||
           p.group == crypto::dh_id::modp1024;
}
constexpr bool is_weak(const esp_proposal& p) noexcept {
    return p.suite.enc == esp::encryption::des_cbc || p.suite.enc == esp::encryption::tdes_cbc ||
           p.suite.integ == esp::integrity::hmac_md5_96 || p.suite.enc == esp::encryption::null;
}

namespace detail {
inline constexpr std::array<phase1_proposal, 10> default_ike_list{{
    {v1_encr::aes_cbc, 256, v1_hash::sha2_256, crypto::dh_id::modp2048},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, crypto::dh_id::ecp384},
    {v1_encr::aes_cbc, 128, v1_hash::sha1, crypto::dh_id::ecp256},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, crypto::dh_id::modp2048},
    {v1_encr::aes_cbc, 128, v1_hash::sha2_256, crypto::dh_id::modp2048},
    {v1_encr::aes_cbc, 128, v1_hash::sha1, crypto::dh_id::modp2048},
    {v1_encr::aes_cbc, 256, v1_hash::sha2_512, crypto::dh_id::modp2048},
    {v1_encr::aes_cbc, 256, v1_hash::sha2_256, crypto::dh_id::modp1536},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, crypto::dh_id::modp1536},
    {v1_encr::aes_cbc, 128, v1_hash::sha1, crypto::dh_id::modp1536},
}};
inline constexpr std::array<phase1_proposal, 10> weak_ike_list{{
    {v1_encr::aes_cbc, 256, v1_hash::sha2_256, crypto::dh_id::modp1024},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, crypto::dh_id::modp1024},
    {v1_encr::aes_cbc, 128, v1_hash::sha2_256, crypto::dh_id::modp1024},
    {v1_encr::aes_cbc, 128, v1_hash::sha1, crypto::dh_id::modp1024},
    {v1_encr::aes_cbc, 256, v1_hash::md5, crypto::dh_id::modp1024},
    {v1_encr::aes_cbc, 128, v1_hash::md5, crypto::dh_id::modp1024},
    {v1_encr::des3_cbc, 192, v1_hash::sha1, crypto::dh_id::modp2048},
    {v1_encr::des3_cbc, 192, v1_hash::sha1, crypto::dh_id::modp1024},
    {v1_encr::des3_cbc, 192, v1_hash::md5, crypto::dh_id::modp1024},
    {v1_encr::des_cbc, 64, v1_hash::md5, crypto::dh_id::modp1024},
}};
inline constexpr std::array<esp_proposal, 6> default_esp_list{{
    {{esp::encryption::aes_cbc, 32, esp::integrity::hmac_sha2_256_128}},
    {{esp::encryption::aes_cbc, 32, esp::integrity::hmac_sha1_96}},
    {{esp::encryption::aes_cbc, 16, esp::integrity::hmac_sha2_256_128}},
    {{esp::encryption::aes_cbc, 16, esp::integrity::hmac_sha1_96}},
    {{esp::encryption::aes_gcm_16, 32, esp::integrity::none}},
    {{esp::encryption::aes_gcm_16, 16, esp::integrity::none}},  // strongSwan's aes128gcm16
}};
inline constexpr std::array<esp_proposal, 6> weak_esp_list{{
    {{esp::encryption::aes_cbc, 32, esp::integrity::hmac_md5_96}},
    {{esp::encryption::aes_cbc, 16, esp::integrity::hmac_md5_96}},
    {{esp::encryption::tdes_cbc, 24, esp::integrity::hmac_sha1_96}},
    {{esp::encryption::tdes_cbc, 24, esp::integrity::hmac_md5_96}},
    {{esp::encryption::des_cbc, 8, esp::integrity::hmac_sha1_96}},
    {{esp::encryption::des_cbc, 8, esp::integrity::hmac_md5_96}},
}};
}  // namespace detail

/// Phase 1 defaults, in order of preference (no weak algorithm).
constexpr std::span<const phase1_proposal> default_ike_proposals() noexcept {
    return detail::default_ike_list;
}
/// ESP defaults, in order of preference (no weak algorithm).
constexpr std::span<const esp_proposal> default_esp_proposals() noexcept {
    return detail::default_esp_list;
}
/// What config::allow_weak adds after the configured phase 1 list (Android's
/// MODP-1024, 3DES, MD5, DES).
constexpr std::span<const phase1_proposal> weak_ike_proposals() noexcept {
    return detail::weak_ike_list;
}
/// What config::allow_weak adds after the configured ESP list.
constexpr std::span<const esp_proposal> weak_esp_proposals() noexcept {
    return detail::weak_esp_list;
}

/// The IPsec DOI ESP transform id (RFC 2407 4.4.4) of a suite, 0 if none.
constexpr std::uint8_t esp_transform_id(const esp::suite& s) noexcept {
    switch (s.enc) {
        case esp::encryption::des_cbc:
            return 2;
        case esp::encryption::tdes_cbc:
            return 3;
        case esp::encryption::null:
            return 11;
        case esp::encryption::aes_cbc:
            return 12;
        case esp::encryption::aes_gcm_16:
            return 20;
        default:
            return 0;
    }
}
/// The IPsec DOI authentication algorithm (SA attribute 5) of an integrity
/// transform, 0 for none (AEAD).
constexpr std::uint16_t esp_auth_alg(esp::integrity i) noexcept {
    switch (i) {
        case esp::integrity::hmac_md5_96:
            return 1;
        case esp::integrity::hmac_sha1_96:
            return 2;
        case esp::integrity::hmac_sha2_256_128:
            return 5;
        case esp::integrity::hmac_sha2_384_192:
            return 6;
        case esp::integrity::hmac_sha2_512_256:
            return 7;
        default:
            return 0;
    }
}

}  // namespace l2sec::ike::v1
