// The key-agreement seam: Diffie-Hellman and ECDH groups as IKE uses them.
//
// Group ids are the IANA "Transform Type 4" numbers (shared by IKEv1 and
// IKEv2). Public values and shared secrets use IKE's encodings:
//   MODP (2, 5, 14, 15): g^x big-endian, left-padded to the modulus size;
//                     the shared secret likewise (RFC 7296 §2.14).
//   ECP (19, 20):     x | y, each padded to the field size, WITHOUT the 0x04
//                     point-format prefix (RFC 5903 §7); the shared secret is
//                     the x coordinate of the shared point (RFC 5903 §9).
//   Curve25519 (31):  the 32-byte u-coordinate (RFC 8031, RFC 7748).
//
//   auto kx = B::make_key_exchange(crypto::dh_id::ecp256);   // fresh private key
//   send(kx->public_value());
//   std::array<std::byte, crypto::max_dh_shared_size> s;
//   auto n = kx->agree(peer_public, s);                      // result<size_t>
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/error.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace l2sec::crypto {

/// DH groups, numbered as IANA's IKE registry.
enum class dh_id : std::uint16_t {
    modp1024 = 2,
    modp1536 = 5,
    modp2048 = 14,
    modp3072 = 15,
    ecp256 = 19,
    ecp384 = 20,
    curve25519 = 31,
};

struct dh_info {
    std::string_view name;
    std::size_t public_size;  ///< IKE KE payload data size
    std::size_t shared_size;  ///< g^ir size
    bool elliptic;
};

constexpr dh_info info(dh_id g) noexcept {
    switch (g) {
        case dh_id::modp1024:
            return {"MODP-1024", 128, 128, false};
        case dh_id::modp1536:
            return {"MODP-1536", 192, 192, false};
        case dh_id::modp2048:
            return {"MODP-2048", 256, 256, false};
        case dh_id::modp3072:
            return {"MODP-3072", 384, 384, false};
        case dh_id::ecp256:
            return {"ECP-256", 64, 32, true};
        case dh_id::ecp384:
            return {"ECP-384", 96, 48, true};
        case dh_id::curve25519:
            return {"Curve25519", 32, 32, true};
    }
    return {"", 0, 0, false};
}

/// Whether l2sec knows the group (a value from the wire may be anything).
constexpr bool known(dh_id g) noexcept {
    return info(g).public_size != 0;
}

inline constexpr std::size_t max_dh_public_size = 384;
inline constexpr std::size_t max_dh_shared_size = 384;

/// One ephemeral key pair of a group. public_value() is the IKE encoding;
/// agree() checks the peer's value (size, point on curve, range) and writes
/// the shared secret to the start of `out`, returning its size.
template <class K>
concept key_exchange = std::movable<K> &&
    requires(K& k, const K& ck, bytes_view peer, mutable_bytes out) {
    { ck.group() } -> std::same_as<dh_id>;
    { ck.public_value() } -> std::convertible_to<bytes_view>;
    { k.agree(peer, out) } -> std::same_as<result<std::size_t>>;
};

/// A backend that makes key exchanges: with a fresh random private key, or
/// with a given one (big-endian scalar/exponent; Curve25519: 32 bytes as in
/// RFC 7748) for known-answer tests.
template <class B>
concept dh_backend = key_exchange<typename B::key_exchange> && requires(dh_id g, bytes_view priv) {
    { B::make_key_exchange(g) } -> std::same_as<result<typename B::key_exchange>>;
    { B::make_key_exchange(g, priv) } -> std::same_as<result<typename B::key_exchange>>;
};

}  // namespace l2sec::crypto
