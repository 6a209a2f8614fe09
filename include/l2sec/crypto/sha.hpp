// Portable SHA-1 and SHA-256 (FIPS 180-4), satisfying hash_function. They let
// code without a crypto library (tests, user backends, tools) compute digests
// and HMACs; the Botan backend offers faster ones.
#pragma once

#include <l2sec/crypto/hash.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace l2sec::crypto {

namespace detail {

constexpr std::uint32_t rotr32(std::uint32_t x, unsigned c) noexcept {
    return (x >> c) | (x << (32 - c));
}

}  // namespace detail

class sha1 : public detail::merkle_damgard64<sha1, detail::length_order::big_endian> {
    friend class detail::merkle_damgard64<sha1, detail::length_order::big_endian>;

  public:
    static constexpr std::size_t digest_size = 20;

    constexpr sha1() noexcept { reset(); }
    constexpr void reset() noexcept {
        s_ = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
        clear_buffer();
    }
    constexpr void final(std::span<std::byte, digest_size> out) noexcept {
        pad();
        for (std::size_t i = 0; i < 5; ++i)
            store_be32(out.data() + 4 * i, s_[i]);
        reset();
    }

  private:
    constexpr void block(const std::byte* p) noexcept {
        std::uint32_t w[80]{};
        for (std::size_t i = 0; i < 16; ++i)
            w[i] = load_be32(p + 4 * i);
        for (std::size_t i = 16; i < 80; ++i)
            w[i] = detail::rotl32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        std::uint32_t a = s_[0], b = s_[1], c = s_[2], d = s_[3], e = s_[4];
        for (std::size_t i = 0; i < 80; ++i) {
            std::uint32_t f = 0, k = 0;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5a827999u;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ed9eba1u;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8f1bbcdcu;
            } else {
                f = b ^ c ^ d;
                k = 0xca62c1d6u;
            }
            std::uint32_t t = detail::rotl32(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = detail::rotl32(b, 30);
            b = a;
            a = t;
        }
        s_[0] += a;
        s_[1] += b;
        s_[2] += c;
        s_[3] += d;
        s_[4] += e;
    }
    std::array<std::uint32_t, 5> s_{};
};

class sha256 : public detail::merkle_damgard64<sha256, detail::length_order::big_endian> {
    friend class detail::merkle_damgard64<sha256, detail::length_order::big_endian>;

  public:
    static constexpr std::size_t digest_size = 32;

    constexpr sha256() noexcept { reset(); }
    constexpr void reset() noexcept {
        s_ = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
              0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
        clear_buffer();
    }
    constexpr void final(std::span<std::byte, digest_size> out) noexcept {
        pad();
        for (std::size_t i = 0; i < 8; ++i)
            store_be32(out.data() + 4 * i, s_[i]);
        reset();
    }

  private:
    constexpr void block(const std::byte* p) noexcept {
        constexpr std::uint32_t K[64] = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2};
        std::uint32_t w[64]{};
        for (std::size_t i = 0; i < 16; ++i)
            w[i] = load_be32(p + 4 * i);
        for (std::size_t i = 16; i < 64; ++i) {
            std::uint32_t s0 =
                detail::rotr32(w[i - 15], 7) ^ detail::rotr32(w[i - 15], 18) ^ (w[i - 15] >> 3);
            std::uint32_t s1 =
                detail::rotr32(w[i - 2], 17) ^ detail::rotr32(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = s_[0], b = s_[1], c = s_[2], d = s_[3], e = s_[4], f = s_[5], g = s_[6],
                      h = s_[7];
        for (std::size_t i = 0; i < 64; ++i) {
            std::uint32_t S1 = detail::rotr32(e, 6) ^ detail::rotr32(e, 11) ^ detail::rotr32(e, 25);
            std::uint32_t ch = (e & f) ^ (~e & g);
            std::uint32_t t1 = h + S1 + ch + K[i] + w[i];
            std::uint32_t S0 = detail::rotr32(a, 2) ^ detail::rotr32(a, 13) ^ detail::rotr32(a, 22);
            std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            std::uint32_t t2 = S0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        s_[0] += a;
        s_[1] += b;
        s_[2] += c;
        s_[3] += d;
        s_[4] += e;
        s_[5] += f;
        s_[6] += g;
        s_[7] += h;
    }
    std::array<std::uint32_t, 8> s_{};
};

static_assert(hash_function<sha1>);
static_assert(hash_function<sha256>);

}  // namespace l2sec::crypto
