// Lower-case hex for the text l2sec writes (key logs for Wireshark): one
// encoder, appended to a std::string. Control plane only: it allocates.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <cstdint>
#include <string>

namespace l2sec {

/// Append `b` as two hex digits a byte.
inline void append_hex(std::string& s, bytes_view b) {
    static constexpr char d[] = "0123456789abcdef";
    for (auto c : b) {
        s += d[std::to_integer<unsigned>(c) >> 4];
        s += d[std::to_integer<unsigned>(c) & 15u];
    }
}

/// Append `v` as 16 hex digits (big-endian, as SPIs and cookies are on the wire).
inline void append_hex(std::string& s, std::uint64_t v) {
    static constexpr char d[] = "0123456789abcdef";
    for (int n = 15; n >= 0; --n)
        s += d[(v >> (4 * n)) & 15u];
}

}  // namespace l2sec
