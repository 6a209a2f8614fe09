// The hash seam: what L2TP hidden AVPs, tunnel authentication and CHAP need
// from a message digest. Backends (crypto/botan) provide MD5/SHA-1/SHA-2 that
// satisfy it; l2sec ships a portable MD5 so the L2TP and PPP codecs need no
// crypto library at all.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

namespace l2sec::crypto {

/// An incremental message digest. final() writes the digest and resets the
/// object, so one instance can hash many messages without reallocating.
template <class H>
concept hash_function = std::default_initializable<H> &&
    requires(H h, bytes_view in, std::span<std::byte, H::digest_size> out) {
    { H::digest_size } -> std::convertible_to<std::size_t>;
    { H::block_size } -> std::convertible_to<std::size_t>;
    h.update(in);
    h.final(out);
    h.reset();
};

template <class H>
using digest = std::array<std::byte, H::digest_size>;

/// One-shot digest over several pieces (no concatenation buffer needed).
template <hash_function H, class... Parts>
digest<H> hash_of(const Parts&... parts) {
    H h;
    (h.update(bytes_view(parts)), ...);
    digest<H> d;
    h.final(d);
    return d;
}

namespace detail {

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

}  // namespace detail

/// Portable MD5 (RFC 1321). MD5 is broken for collision resistance; L2TP and
/// CHAP use it anyway, which is the only reason it is here.
class md5 : public detail::merkle_damgard64<md5, detail::length_order::little_endian> {
    friend class detail::merkle_damgard64<md5, detail::length_order::little_endian>;

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
            b = b + detail::rotl32(a + f + K[i] + m[g], R[(i / 16) * 4 + i % 4]);
            a = t;
        }
        s_[0] += a;
        s_[1] += b;
        s_[2] += c;
        s_[3] += d;
    }

    std::array<std::uint32_t, 4> s_{};
};

static_assert(hash_function<md5>);

}  // namespace l2sec::crypto
