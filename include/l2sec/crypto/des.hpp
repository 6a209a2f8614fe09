// DES key expansion for MS-CHAPv2 (RFC 2759 section 8.6): a 7-byte (56-bit)
// key spread over 8 bytes, one parity bit per byte, for a raw DES cipher
// (crypto::block_cipher_id::des).
#pragma once

#include <l2sec/core/bytes.hpp>

#include <array>
#include <cstddef>
#include <span>

namespace l2sec::crypto {

constexpr std::array<std::byte, 8> des_key_from_56(std::span<const std::byte, 7> k) noexcept {
    std::array<std::byte, 8> out{};
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < 7; ++i)
        bits = (bits << 8) | std::to_integer<std::uint64_t>(k[i]);
    for (std::size_t i = 0; i < 8; ++i) {
        auto seven = static_cast<unsigned>((bits >> (49 - 7 * i)) & 0x7f);
        unsigned b = seven << 1;
        unsigned ones = 0;
        for (unsigned v = b; v; v >>= 1)
            ones += v & 1u;
        out[i] = static_cast<std::byte>(b | ((ones & 1u) ? 0u : 1u));  // odd parity
    }
    return out;
}

}  // namespace l2sec::crypto
