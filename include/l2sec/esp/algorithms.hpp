// ESP transforms (IKEv2 transform IDs, RFC 7296 / IANA) and their sizes, plus
// the short names used on command lines ("aes256-gcm", "aes128-cbc-sha1", ...).
#pragma once

#include <l2sec/crypto/algorithms.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace l2sec::esp {

/// Encryption transforms (IANA "Transform Type 1" values).
enum class encryption : std::uint16_t {
    des_cbc = 2,             ///< RFC 2405; weak, for the oldest Android clients only
    tdes_cbc = 3,            ///< RFC 2451 (3DES-EDE3); weak, for old clients only
    null = 11,               ///< RFC 2410
    aes_cbc = 12,            ///< RFC 3602
    aes_gcm_16 = 20,         ///< RFC 4106, 16-byte ICV
    chacha20_poly1305 = 28,  ///< RFC 7634
};
/// Integrity transforms (IANA "Transform Type 3" values).
enum class integrity : std::uint16_t {
    none = 0,
    hmac_md5_96 = 1,         ///< RFC 2403
    hmac_sha1_96 = 2,        ///< RFC 2404
    hmac_sha2_256_128 = 12,  ///< RFC 4868
    hmac_sha2_384_192 = 13,
    hmac_sha2_512_256 = 14,
    /// HMAC-SHA-256 truncated to 96 bits, as Android 6/7 send it (the
    /// draft-era truncation). Not an IANA number and never on the wire: IKE
    /// negotiates hmac_sha2_256_128 and the caller installs this one
    /// (ike::v1::config::sha256_96_compat).
    hmac_sha2_256_96 = 0x7f0c,
};

constexpr bool is_aead(encryption e) noexcept {
    return e == encryption::aes_gcm_16 || e == encryption::chacha20_poly1305;
}
/// Bytes of salt at the end of an AEAD's keying material (RFC 4106 8.1, RFC 7634 2).
inline constexpr std::size_t aead_salt_size = 4;
/// Explicit IV carried in each packet.
constexpr std::size_t iv_size(encryption e) noexcept {
    switch (e) {
        case encryption::null:
            return 0;
        case encryption::des_cbc:
        case encryption::tdes_cbc:
            return 8;
        case encryption::aes_cbc:
            return 16;
        case encryption::aes_gcm_16:
            return 8;
        case encryption::chacha20_poly1305:
            return 8;
    }
    return 0;
}
/// Ciphertext alignment (at least 4, RFC 4303 2.4).
constexpr std::size_t block_size(encryption e) noexcept {
    switch (e) {
        case encryption::aes_cbc:
            return 16;
        case encryption::des_cbc:
        case encryption::tdes_cbc:
            return 8;
        default:
            return 4;
    }
}
/// Whether the transform is a CBC block cipher (explicit IV, separate integrity).
constexpr bool is_cbc(encryption e) noexcept {
    return e == encryption::aes_cbc || e == encryption::des_cbc || e == encryption::tdes_cbc;
}
/// The crypto seam's cipher for a CBC transform with a key of `key_size`
/// bytes; false when the pair does not exist (AES with 20 bytes, DES with 16).
constexpr bool cbc_cipher_for(encryption e, std::size_t key_size, crypto::cipher_id& out) noexcept {
    switch (e) {
        case encryption::aes_cbc:
            return crypto::aes_cbc_for_key_bits(key_size * 8, out);
        case encryption::des_cbc:
            out = crypto::cipher_id::des_cbc;
            return key_size == 8;
        case encryption::tdes_cbc:
            out = crypto::cipher_id::tdes_cbc;
            return key_size == 24;
        default:
            return false;
    }
}
constexpr std::size_t icv_size(integrity i) noexcept {
    switch (i) {
        case integrity::none:
            return 0;
        case integrity::hmac_md5_96:
            return 12;
        case integrity::hmac_sha1_96:
            return 12;
        case integrity::hmac_sha2_256_96:
            return 12;
        case integrity::hmac_sha2_256_128:
            return 16;
        case integrity::hmac_sha2_384_192:
            return 24;
        case integrity::hmac_sha2_512_256:
            return 32;
    }
    return 0;
}
constexpr std::size_t integrity_key_size(integrity i) noexcept {
    switch (i) {
        case integrity::none:
            return 0;
        case integrity::hmac_md5_96:
            return 16;
        case integrity::hmac_sha1_96:
            return 20;
        case integrity::hmac_sha2_256_96:
        case integrity::hmac_sha2_256_128:
            return 32;
        case integrity::hmac_sha2_384_192:
            return 48;
        case integrity::hmac_sha2_512_256:
            return 64;
    }
    return 0;
}
constexpr std::optional<crypto::mac_id> mac_for(integrity i) noexcept {
    switch (i) {
        case integrity::none:
            return std::nullopt;
        case integrity::hmac_md5_96:
            return crypto::mac_id::hmac_md5;
        case integrity::hmac_sha1_96:
            return crypto::mac_id::hmac_sha1;
        case integrity::hmac_sha2_256_96:
        case integrity::hmac_sha2_256_128:
            return crypto::mac_id::hmac_sha256;
        case integrity::hmac_sha2_384_192:
            return crypto::mac_id::hmac_sha384;
        case integrity::hmac_sha2_512_256:
            return crypto::mac_id::hmac_sha512;
    }
    return std::nullopt;
}

/// An encryption + integrity pair with the encryption key length in bytes
/// (without the AEAD salt).
struct suite {
    encryption enc = encryption::aes_gcm_16;
    std::size_t enc_key_size = 32;
    integrity integ = integrity::none;

    /// Size of the encryption keying material as IKE derives it (key + salt for AEADs).
    constexpr std::size_t enc_keymat_size() const noexcept {
        return enc_key_size + (is_aead(enc) ? aead_salt_size : 0);
    }
    constexpr std::size_t icv_size() const noexcept {
        return is_aead(enc) ? 16 : esp::icv_size(integ);
    }
    friend constexpr bool operator==(const suite&, const suite&) = default;
};

/// "aes128-gcm", "aes256-gcm", "chacha20-poly1305",
/// "aes{128,192,256}-cbc-{sha1,sha256,sha256-96,sha384,sha512,md5}",
/// "null-{sha1,sha256,sha384,sha512,md5}", and the weak "3des-cbc-{...}" and "des-cbc-{...}".
constexpr std::optional<suite> parse_suite(std::string_view name) noexcept {
    if (name == "aes128-gcm") return suite{encryption::aes_gcm_16, 16, integrity::none};
    if (name == "aes256-gcm") return suite{encryption::aes_gcm_16, 32, integrity::none};
    if (name == "chacha20-poly1305")
        return suite{encryption::chacha20_poly1305, 32, integrity::none};
    auto integ_of = [](std::string_view s) -> std::optional<integrity> {
        if (s == "sha1") return integrity::hmac_sha1_96;
        if (s == "sha256") return integrity::hmac_sha2_256_128;
        if (s == "sha256-96") return integrity::hmac_sha2_256_96;
        if (s == "sha384") return integrity::hmac_sha2_384_192;
        if (s == "sha512") return integrity::hmac_sha2_512_256;
        if (s == "md5") return integrity::hmac_md5_96;
        return std::nullopt;
    };
    if (name.substr(0, 5) == "null-") {
        if (auto i = integ_of(name.substr(5))) return suite{encryption::null, 0, *i};
        return std::nullopt;
    }
    if (name.substr(0, 9) == "3des-cbc-") {
        if (auto i = integ_of(name.substr(9))) return suite{encryption::tdes_cbc, 24, *i};
        return std::nullopt;
    }
    if (name.substr(0, 8) == "des-cbc-") {
        if (auto i = integ_of(name.substr(8))) return suite{encryption::des_cbc, 8, *i};
        return std::nullopt;
    }
    for (std::size_t bits : {128u, 192u, 256u}) {
        std::string_view prefix = bits == 128   ? "aes128-cbc-"
                                  : bits == 192 ? "aes192-cbc-"
                                                : "aes256-cbc-";
        if (name.substr(0, prefix.size()) == prefix) {
            if (auto i = integ_of(name.substr(prefix.size())))
                return suite{encryption::aes_cbc, bits / 8, *i};
            return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace l2sec::esp
