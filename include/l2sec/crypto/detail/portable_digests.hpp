// The standard-library-only digests behind crypto::portable: MD4 (RFC 1320),
// MD5 (RFC 1321), SHA-1 and SHA-256 (FIPS 180-4). Internal: reach them through
// crypto::portable::make_hash (crypto/portable.hpp). Straightforward code,
// checked against the standards' vectors, not reviewed for side channels.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

namespace l2sec::crypto::detail {

/// A digest fixed at compile time: final() writes digest_size bytes and resets.
template <class H>
concept fixed_digest = std::default_initializable<H> &&
    requires(H h, bytes_view in, std::span<std::byte, H::digest_size> out) {
    { H::digest_size } -> std::convertible_to<std::size_t>;
    { H::block_size } -> std::convertible_to<std::size_t>;
    h.update(in);
    h.final(out);
    h.reset();
};

constexpr std::uint32_t rotr32(std::uint32_t x, unsigned c) noexcept {
    return (x >> c) | (x << (32 - c));
}
constexpr std::uint32_t rotl32(std::uint32_t x, unsigned c) noexcept {
    return (x << c) | (x >> (32 - c));
}

/// The byte order a Merkle-Damgard hash writes its bit length in.
enum class length_order { little_endian, big_endian };

/// Merkle-Damgard block buffering over 64-byte blocks, shared by MD5, SHA-1
/// and SHA-256: update() feeds whole blocks to Derived::block(const std::byte*),
/// pad() appends 0x80, zeros and the 64-bit message length in bits.
template <class Derived, length_order Order>
class merkle_damgard64 {
  public:
    static constexpr std::size_t block_size = 64;

    constexpr void update(bytes_view in) noexcept {
        len_ += in.size();
        std::size_t i = 0;
        if (used_) {
            while (used_ < block_size && i < in.size())
                buf_[used_++] = in[i++];
            if (used_ < block_size) return;
            self().block(buf_.data());
            used_ = 0;
        }
        for (; in.size() - i >= block_size; i += block_size)
            self().block(in.data() + i);
        while (i < in.size())
            buf_[used_++] = in[i++];
    }

  protected:
    constexpr void pad() noexcept {
        std::uint64_t bits = len_ * 8;
        std::array<std::byte, 72> p{};
        p[0] = std::byte{0x80};
        std::size_t padlen = (used_ < 56) ? 56 - used_ : 120 - used_;
        for (std::size_t k = 0; k < 8; ++k) {
            std::size_t shift = Order == length_order::big_endian ? 56 - 8 * k : 8 * k;
            p[padlen + k] = static_cast<std::byte>(bits >> shift);
        }
        update(bytes_view(p.data(), padlen + 8));
    }
    constexpr void clear_buffer() noexcept {
        len_ = 0;
        used_ = 0;
    }

  private:
    constexpr Derived& self() noexcept { return static_cast<Derived&>(*this); }
    std::array<std::byte, block_size> buf_{};
    std::uint64_t len_ = 0;
    std::size_t used_ = 0;
};

/// MD4 (RFC 1320): only for MS-CHAPv2's NT password hash (RFC 2759 8.3).
class md4 : public merkle_damgard64<md4, length_order::little_endian> {
    friend class merkle_damgard64<md4, length_order::little_endian>;

  public:
    static constexpr std::size_t digest_size = 16;

    constexpr md4() noexcept { reset(); }

    constexpr void reset() noexcept {
        s_ = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
        clear_buffer();
    }

    constexpr void final(std::span<std::byte, digest_size> out) noexcept {
        pad();
        for (std::size_t w = 0; w < 4; ++w)
            for (std::size_t k = 0; k < 4; ++k)
                out[4 * w + k] = static_cast<std::byte>(s_[w] >> (8 * k));
        reset();
    }

  private:
    constexpr void block(const std::byte* p) noexcept {
        // RFC 1320 3.4: three rounds of sixteen steps; word order and shifts per round.
        constexpr std::size_t order[3][16] = {
            {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
            {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15},
            {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15}};
        constexpr unsigned shift[3][4] = {{3, 7, 11, 19}, {3, 5, 9, 13}, {3, 9, 11, 15}};
        constexpr std::uint32_t add[3] = {0, 0x5a827999u, 0x6ed9eba1u};
        std::uint32_t x[16]{};
        for (std::size_t i = 0; i < 16; ++i)
            x[i] = load_le32(p + 4 * i);
        std::uint32_t a = s_[0], b = s_[1], c = s_[2], d = s_[3];
        for (std::size_t r = 0; r < 3; ++r) {
            for (std::size_t i = 0; i < 16; ++i) {
                std::uint32_t f = r == 0   ? (b & c) | (~b & d)
                                  : r == 1 ? (b & c) | (b & d) | (c & d)
                                           : b ^ c ^ d;
                std::uint32_t t = rotl32(a + f + x[order[r][i]] + add[r], shift[r][i % 4]);
                a = d;
                d = c;
                c = b;
                b = t;
            }
        }
        s_[0] += a;
        s_[1] += b;
        s_[2] += c;
        s_[3] += d;
    }

    std::array<std::uint32_t, 4> s_{};
};

/// MD5 (RFC 1321). Broken for collision resistance; L2TP and CHAP use it anyway.
class md5 : public merkle_damgard64<md5, length_order::little_endian> {
    friend class merkle_damgard64<md5, length_order::little_endian>;

  public:
    static constexpr std::size_t digest_size = 16;

    constexpr md5() noexcept { reset(); }

    constexpr void reset() noexcept {
        s_ = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
        clear_buffer();
    }

    constexpr void final(std::span<std::byte, digest_size> out) noexcept {
        pad();
        for (std::size_t w = 0; w < 4; ++w)
            for (std::size_t k = 0; k < 4; ++k)
                out[4 * w + k] = static_cast<std::byte>(s_[w] >> (8 * k));
        reset();
    }

  private:
    constexpr void block(const std::byte* p) noexcept {
        constexpr std::uint32_t K[64] = {
            0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
            0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
            0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
            0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
            0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
            0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
            0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
            0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
            0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
            0xeb86d391};
        constexpr unsigned R[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};
        std::uint32_t m[16]{};
        for (std::size_t i = 0; i < 16; ++i)
            m[i] = load_le32(p + 4 * i);
        std::uint32_t a = s_[0], b = s_[1], c = s_[2], d = s_[3];
        for (std::size_t i = 0; i < 64; ++i) {
            std::uint32_t f = 0;
            std::size_t g = 0;
            switch (i / 16) {
                case 0:
                    f = (b & c) | (~b & d);
                    g = i;
                    break;
                case 1:
                    f = (d & b) | (~d & c);
                    g = (5 * i + 1) % 16;
                    break;
                case 2:
                    f = b ^ c ^ d;
                    g = (3 * i + 5) % 16;
                    break;
                default:
                    f = c ^ (b | ~d);
                    g = (7 * i) % 16;
                    break;
            }
            std::uint32_t t = d;
            d = c;
            c = b;
            b = b + rotl32(a + f + K[i] + m[g], R[(i / 16) * 4 + i % 4]);
            a = t;
        }
        s_[0] += a;
        s_[1] += b;
        s_[2] += c;
        s_[3] += d;
    }

    std::array<std::uint32_t, 4> s_{};
};

/// SHA-1 (FIPS 180-4).
class sha1 : public merkle_damgard64<sha1, length_order::big_endian> {
    friend class merkle_damgard64<sha1, length_order::big_endian>;

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
            w[i] = rotl32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
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
            std::uint32_t t = rotl32(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rotl32(b, 30);
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

/// SHA-256 (FIPS 180-4).
class sha256 : public merkle_damgard64<sha256, length_order::big_endian> {
    friend class merkle_damgard64<sha256, length_order::big_endian>;

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
            std::uint32_t s0 = rotr32(w[i - 15], 7) ^ rotr32(w[i - 15], 18) ^ (w[i - 15] >> 3);
            std::uint32_t s1 = rotr32(w[i - 2], 17) ^ rotr32(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = s_[0], b = s_[1], c = s_[2], d = s_[3], e = s_[4], f = s_[5], g = s_[6],
                      h = s_[7];
        for (std::size_t i = 0; i < 64; ++i) {
            std::uint32_t S1 = rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25);
            std::uint32_t ch = (e & f) ^ (~e & g);
            std::uint32_t t1 = h + S1 + ch + K[i] + w[i];
            std::uint32_t S0 = rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22);
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

static_assert(fixed_digest<md4> && fixed_digest<md5> && fixed_digest<sha1> && fixed_digest<sha256>);

}  // namespace l2sec::crypto::detail
