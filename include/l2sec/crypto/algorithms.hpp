// Algorithm identifiers and descriptors (picotls style): what an algorithm is
// (name, key, nonce, tag and block sizes), independent of who implements it.
// Backends turn an identifier plus a key into a keyed context, once per SA.
#pragma once

#include <cstddef>
#include <string_view>

namespace l2sec::crypto {

/// AEADs with a 96-bit nonce and a 128-bit tag (RFC 4106, RFC 7634, RFC 5282).
enum class aead_id : unsigned char { aes128_gcm, aes256_gcm, chacha20_poly1305 };
/// Block cipher modes without padding (the caller pads, as ESP and IKE do).
/// DES and 3DES (64-bit blocks) are here only because old clients (Android
/// racoon, Windows' last fallback) still offer them: IKE and ESP accept them
/// only when the configuration allows weak algorithms.
enum class cipher_id : unsigned char { aes128_cbc, aes192_cbc, aes256_cbc, des_cbc, tdes_cbc };
/// Keyed MACs; also the PRFs of IKE (prf_hmac_*).
enum class mac_id : unsigned char { hmac_md5, hmac_sha1, hmac_sha256, hmac_sha384, hmac_sha512 };
/// Message digests.
enum class hash_id : unsigned char { md4, md5, sha1, sha256, sha384, sha512 };
/// Raw single-block ciphers (MS-CHAPv2 needs DES, RFC 2759).
enum class block_cipher_id : unsigned char { des, aes128, aes256 };

struct aead_info {
    std::string_view name;
    std::size_t key_size;
    std::size_t nonce_size;
    std::size_t tag_size;
};
struct cipher_info {
    std::string_view name;
    std::size_t key_size;
    std::size_t block_size;  ///< also the IV size
};
struct mac_info {
    std::string_view name;
    std::size_t output_size;  ///< untruncated output
    std::size_t block_size;
};
struct hash_info {
    std::string_view name;
    std::size_t digest_size;
    std::size_t block_size;
};
struct block_cipher_info {
    std::string_view name;
    std::size_t key_size;
    std::size_t block_size;
};

constexpr aead_info info(aead_id a) noexcept {
    switch (a) {
        case aead_id::aes128_gcm:
            return {"AES-128-GCM", 16, 12, 16};
        case aead_id::aes256_gcm:
            return {"AES-256-GCM", 32, 12, 16};
        case aead_id::chacha20_poly1305:
            return {"ChaCha20-Poly1305", 32, 12, 16};
    }
    return {"", 0, 0, 0};
}
constexpr cipher_info info(cipher_id c) noexcept {
    switch (c) {
        case cipher_id::aes128_cbc:
            return {"AES-128-CBC", 16, 16};
        case cipher_id::aes192_cbc:
            return {"AES-192-CBC", 24, 16};
        case cipher_id::aes256_cbc:
            return {"AES-256-CBC", 32, 16};
        case cipher_id::des_cbc:
            return {"DES-CBC", 8, 8};
        case cipher_id::tdes_cbc:
            return {"3DES-CBC", 24, 8};  // three independent keys (EDE3)
    }
    return {"", 0, 0};
}
/// The AES-CBC cipher_id for a key of `key_bits` (128, 192 or 256); false for
/// any other length.
constexpr bool aes_cbc_for_key_bits(std::size_t key_bits, cipher_id& out) noexcept {
    switch (key_bits) {
        case 128:
            out = cipher_id::aes128_cbc;
            return true;
        case 192:
            out = cipher_id::aes192_cbc;
            return true;
        case 256:
            out = cipher_id::aes256_cbc;
            return true;
        default:
            return false;
    }
}
constexpr mac_info info(mac_id m) noexcept {
    switch (m) {
        case mac_id::hmac_md5:
            return {"HMAC-MD5", 16, 64};
        case mac_id::hmac_sha1:
            return {"HMAC-SHA1", 20, 64};
        case mac_id::hmac_sha256:
            return {"HMAC-SHA256", 32, 64};
        case mac_id::hmac_sha384:
            return {"HMAC-SHA384", 48, 128};
        case mac_id::hmac_sha512:
            return {"HMAC-SHA512", 64, 128};
    }
    return {"", 0, 0};
}
constexpr hash_info info(hash_id h) noexcept {
    switch (h) {
        case hash_id::md4:
            return {"MD4", 16, 64};
        case hash_id::md5:
            return {"MD5", 16, 64};
        case hash_id::sha1:
            return {"SHA-1", 20, 64};
        case hash_id::sha256:
            return {"SHA-256", 32, 64};
        case hash_id::sha384:
            return {"SHA-384", 48, 128};
        case hash_id::sha512:
            return {"SHA-512", 64, 128};
    }
    return {"", 0, 0};
}
constexpr block_cipher_info info(block_cipher_id b) noexcept {
    switch (b) {
        case block_cipher_id::des:
            return {"DES", 8, 8};
        case block_cipher_id::aes128:
            return {"AES-128", 16, 16};
        case block_cipher_id::aes256:
            return {"AES-256", 32, 16};
    }
    return {"", 0, 0};
}

}  // namespace l2sec::crypto
