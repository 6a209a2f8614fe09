// Byte spans and big-endian loads/stores: the vocabulary of every codec (and
// the few little-endian loads that MD5 and little-endian pcap files need).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace l2sec {

using bytes_view = std::span<const std::byte>;  ///< read-only bytes, never owned
using mutable_bytes = std::span<std::byte>;     ///< writable bytes, never owned

// At run time one (possibly unaligned) load or store and a byte swap: GCC
// turned the shift-and-or form into byte-by-byte chains inside larger
// functions (esp::sa::protect: ~40 instructions for its header, IV and AAD).
// The shift form stays for constant evaluation.
namespace detail {
template <class T>
constexpr T to_big_endian(T v) noexcept {
    if constexpr (std::endian::native == std::endian::big) {
        return v;
    } else if constexpr (sizeof(T) == 2) {
        return __builtin_bswap16(v);
    } else if constexpr (sizeof(T) == 4) {
        return __builtin_bswap32(v);
    } else {
        return __builtin_bswap64(v);
    }
}
template <class T>
inline T load_be(const std::byte* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return to_big_endian(v);
}
template <class T>
inline void store_be(std::byte* p, T v) noexcept {
    v = to_big_endian(v);
    std::memcpy(p, &v, sizeof v);
}
}  // namespace detail

constexpr std::uint16_t load_be16(const std::byte* p) noexcept {
    if (!std::is_constant_evaluated()) return detail::load_be<std::uint16_t>(p);
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                      std::to_integer<unsigned>(p[1]));
}
constexpr std::uint32_t load_be32(const std::byte* p) noexcept {
    if (!std::is_constant_evaluated()) return detail::load_be<std::uint32_t>(p);
    return (std::uint32_t{load_be16(p)} << 16) | load_be16(p + 2);
}
constexpr std::uint64_t load_be64(const std::byte* p) noexcept {
    if (!std::is_constant_evaluated()) return detail::load_be<std::uint64_t>(p);
    return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}
constexpr std::uint16_t load_le16(const std::byte* p) noexcept {
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                      (std::to_integer<unsigned>(p[1]) << 8));
}
constexpr std::uint32_t load_le32(const std::byte* p) noexcept {
    return std::uint32_t{load_le16(p)} | (std::uint32_t{load_le16(p + 2)} << 16);
}
constexpr void store_be16(std::byte* p, std::uint16_t v) noexcept {
    if (!std::is_constant_evaluated()) return detail::store_be(p, v);
    p[0] = static_cast<std::byte>(v >> 8);
    p[1] = static_cast<std::byte>(v);
}
constexpr void store_be32(std::byte* p, std::uint32_t v) noexcept {
    if (!std::is_constant_evaluated()) return detail::store_be(p, v);
    store_be16(p, static_cast<std::uint16_t>(v >> 16));
    store_be16(p + 2, static_cast<std::uint16_t>(v));
}
constexpr void store_be64(std::byte* p, std::uint64_t v) noexcept {
    if (!std::is_constant_evaluated()) return detail::store_be(p, v);
    store_be32(p, static_cast<std::uint32_t>(v >> 32));
    store_be32(p + 4, static_cast<std::uint32_t>(v));
}

/// View the characters of a string as bytes (no copy).
inline bytes_view as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
/// View bytes as characters (no copy, no validation).
inline std::string_view as_chars(bytes_view b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Byte-wise equality; not constant time (see crypto for that).
constexpr bool equal(bytes_view a, bytes_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

/// Copy `src` to the start of `dst`; precondition dst.size() >= src.size().
inline void copy_to(mutable_bytes dst, bytes_view src) noexcept {
    if (!src.empty()) std::memmove(dst.data(), src.data(), src.size());
}

}  // namespace l2sec
