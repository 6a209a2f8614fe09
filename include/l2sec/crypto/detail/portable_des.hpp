// DES (FIPS 46-3), one 64-bit block at a time, behind
// crypto::portable::make_block_cipher: MS-CHAPv2 (RFC 2759 8.5) is its only
// user. Written for clarity (bit permutations from the standard's tables),
// not speed, and not reviewed for side channels (the S-box lookups are
// table-indexed by key-dependent values). Internal: use crypto::portable.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2sec::crypto::detail {

class des {
  public:
    static constexpr std::size_t block_size = 8;
    static constexpr std::size_t key_size = 8;

    constexpr explicit des(bytes_view key) noexcept { schedule(load_be64(key.data())); }

    constexpr std::uint64_t encrypt(std::uint64_t block) const noexcept {
        return run(block, false);
    }
    constexpr std::uint64_t decrypt(std::uint64_t block) const noexcept { return run(block, true); }

  private:
    // Tables of FIPS 46-3, 1-based bit numbers counted from the most significant bit.
    static constexpr std::uint8_t ip[64] = {
        58, 50, 42, 34, 26, 18, 10, 2,  60, 52, 44, 36, 28, 20, 12, 4,  62, 54, 46, 38, 30, 22,
        14, 6,  64, 56, 48, 40, 32, 24, 16, 8,  57, 49, 41, 33, 25, 17, 9,  1,  59, 51, 43, 35,
        27, 19, 11, 3,  61, 53, 45, 37, 29, 21, 13, 5,  63, 55, 47, 39, 31, 23, 15, 7};
    static constexpr std::uint8_t fp[64] = {
        40, 8,  48, 16, 56, 24, 64, 32, 39, 7,  47, 15, 55, 23, 63, 31, 38, 6,  46, 14, 54, 22,
        62, 30, 37, 5,  45, 13, 53, 21, 61, 29, 36, 4,  44, 12, 52, 20, 60, 28, 35, 3,  43, 11,
        51, 19, 59, 27, 34, 2,  42, 10, 50, 18, 58, 26, 33, 1,  41, 9,  49, 17, 57, 25};
    static constexpr std::uint8_t expansion[48] = {32, 1,  2,  3,  4,  5,  4,  5,  6,  7,  8,  9,
                                                   8,  9,  10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
                                                   16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25,
                                                   24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1};
    static constexpr std::uint8_t pbox[32] = {16, 7, 20, 21, 29, 12, 28, 17, 1,  15, 23,
                                              26, 5, 18, 31, 10, 2,  8,  24, 14, 32, 27,
                                              3,  9, 19, 13, 30, 6,  22, 11, 4,  25};
    static constexpr std::uint8_t pc1[56] = {57, 49, 41, 33, 25, 17, 9,  1,  58, 50, 42, 34, 26, 18,
                                             10, 2,  59, 51, 43, 35, 27, 19, 11, 3,  60, 52, 44, 36,
                                             63, 55, 47, 39, 31, 23, 15, 7,  62, 54, 46, 38, 30, 22,
                                             14, 6,  61, 53, 45, 37, 29, 21, 13, 5,  28, 20, 12, 4};
    static constexpr std::uint8_t pc2[48] = {14, 17, 11, 24, 1,  5,  3,  28, 15, 6,  21, 10,
                                             23, 19, 12, 4,  26, 8,  16, 7,  27, 20, 13, 2,
                                             41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
                                             44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32};
    static constexpr std::uint8_t rotations[16] = {1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1};
    static constexpr std::uint8_t sbox[8][64] = {
        {14, 4,  13, 1, 2,  15, 11, 8, 3, 10, 6, 12, 5,  9,  0,  7,  0,  15, 7,  4,  14, 2,
         13, 1,  10, 6, 12, 11, 9,  5, 3, 8,  4, 1,  14, 8,  13, 6,  2,  11, 15, 12, 9,  7,
         3,  10, 5,  0, 15, 12, 8,  2, 4, 9,  1, 7,  5,  11, 3,  14, 10, 0,  6,  13},
        {15, 1,  8,  14, 6,  11, 3,  4, 9,  7,  2, 13, 12, 0,  5,  10, 3,  13, 4,  7, 15, 2,
         8,  14, 12, 0,  1,  10, 6,  9, 11, 5,  0, 14, 7,  11, 10, 4,  13, 1,  5,  8, 12, 6,
         9,  3,  2,  15, 13, 8,  10, 1, 3,  15, 4, 2,  11, 6,  7,  12, 0,  5,  14, 9},
        {10, 0,  9,  14, 6, 3,  15, 5,  1,  13, 12, 7, 11, 4,  2,  8,  13, 7, 0,  9, 3, 4,
         6,  10, 2,  8,  5, 14, 12, 11, 15, 1,  13, 6, 4,  9,  8,  15, 3,  0, 11, 1, 2, 12,
         5,  10, 14, 7,  1, 10, 13, 0,  6,  9,  8,  7, 4,  15, 14, 3,  11, 5, 2,  12},
        {7, 13, 14, 3, 0, 6,  9, 10, 1,  2, 8,  5, 11, 12, 4,  15, 13, 8,  11, 5, 6, 15,
         0, 3,  4,  7, 2, 12, 1, 10, 14, 9, 10, 6, 9,  0,  12, 11, 7,  13, 15, 1, 3, 14,
         5, 2,  8,  4, 3, 15, 0, 6,  10, 1, 13, 8, 9,  4,  5,  11, 12, 7,  2,  14},
        {2,  12, 4, 1,  7,  10, 11, 6, 8, 5,  3, 15, 13, 0,  14, 9,  14, 11, 2,  12, 4,  7,
         13, 1,  5, 0,  15, 10, 3,  9, 8, 6,  4, 2,  1,  11, 10, 13, 7,  8,  15, 9,  12, 5,
         6,  3,  0, 14, 11, 8,  12, 7, 1, 14, 2, 13, 6,  15, 0,  9,  10, 4,  5,  3},
        {12, 1,  10, 15, 9,  2,  6, 8,  0, 13, 3,  4,  14, 7,  5, 11, 10, 15, 4, 2, 7, 12,
         9,  5,  6,  1,  13, 14, 0, 11, 3, 8,  9,  14, 15, 5,  2, 8,  12, 3,  7, 0, 4, 10,
         1,  13, 11, 6,  4,  3,  2, 12, 9, 5,  15, 10, 11, 14, 1, 7,  6,  0,  8, 13},
        {4, 11, 2,  14, 15, 0,  8,  13, 3, 12, 9,  7, 5,  10, 6,  1,  13, 0,  11, 7,  4, 9,
         1, 10, 14, 3,  5,  12, 2,  15, 8, 6,  1,  4, 11, 13, 12, 3,  7,  14, 10, 15, 6, 8,
         0, 5,  9,  2,  6,  11, 13, 8,  1, 4,  10, 7, 9,  5,  0,  15, 14, 2,  3,  12},
        {13, 2, 8,  4, 6, 15, 11, 1,  10, 9,  3, 14, 5,  0,  12, 7,  1,  15, 13, 8, 10, 3,
         7,  4, 12, 5, 6, 11, 0,  14, 9,  2,  7, 11, 4,  1,  9,  12, 14, 2,  0,  6, 10, 13,
         15, 3, 5,  8, 2, 1,  14, 7,  4,  10, 8, 13, 15, 12, 9,  0,  3,  5,  6,  11}};

    /// Output bit i (from the top of an `out_bits`-bit result) is input bit
    /// table[i] (1-based from the top of an `in_bits`-bit input).
    template <std::size_t N>
    static constexpr std::uint64_t permute(std::uint64_t in, const std::uint8_t (&table)[N],
                                           unsigned in_bits) noexcept {
        std::uint64_t out = 0;
        for (std::size_t i = 0; i < N; ++i)
            out = (out << 1) | ((in >> (in_bits - table[i])) & 1u);
        return out;
    }

    constexpr void schedule(std::uint64_t key) noexcept {
        std::uint64_t cd = permute(key, pc1, 64);  // 56 bits: C (28) then D (28)
        std::uint32_t c = static_cast<std::uint32_t>(cd >> 28) & 0x0fffffffu;
        std::uint32_t d = static_cast<std::uint32_t>(cd) & 0x0fffffffu;
        for (std::size_t r = 0; r < 16; ++r) {
            const unsigned s = rotations[r];
            c = ((c << s) | (c >> (28 - s))) & 0x0fffffffu;
            d = ((d << s) | (d >> (28 - s))) & 0x0fffffffu;
            subkeys_[r] = permute((std::uint64_t{c} << 28) | d, pc2, 56);
        }
    }

    static constexpr std::uint32_t feistel(std::uint32_t r, std::uint64_t k) noexcept {
        const std::uint64_t x = permute(r, expansion, 32) ^ k;  // 48 bits
        std::uint32_t s = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            const auto six = static_cast<unsigned>((x >> (42 - 6 * i)) & 0x3f);
            const unsigned row = ((six >> 4) & 2u) | (six & 1u);
            const unsigned col = (six >> 1) & 0x0f;
            s = (s << 4) | sbox[i][16 * row + col];
        }
        return static_cast<std::uint32_t>(permute(s, pbox, 32));
    }

    constexpr std::uint64_t run(std::uint64_t block, bool decrypt) const noexcept {
        const std::uint64_t x = permute(block, ip, 64);
        auto l = static_cast<std::uint32_t>(x >> 32);
        auto r = static_cast<std::uint32_t>(x);
        for (std::size_t i = 0; i < 16; ++i) {
            const std::uint32_t next = l ^ feistel(r, subkeys_[decrypt ? 15 - i : i]);
            l = r;
            r = next;
        }
        return permute((std::uint64_t{r} << 32) | l, fp, 64);  // R16 L16, then IP^-1
    }

    std::array<std::uint64_t, 16> subkeys_{};
};

}  // namespace l2sec::crypto::detail
