// Reading the key specifications of --esp-sa and --ikev2-sa: fields
// separated by ':', keys in hex.
#pragma once

#include <charconv>
#include <cstddef>
#include <string_view>
#include <system_error>
#include <vector>

namespace l2sec::inspect {

/// The ':'-separated fields of `spec` ("a::b" has an empty second field).
inline std::vector<std::string_view> split_spec(std::string_view spec) {
    std::vector<std::string_view> parts;
    for (std::size_t pos = 0;;) {
        auto c = spec.find(':', pos);
        parts.push_back(
            spec.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos));
        if (c == std::string_view::npos) break;
        pos = c + 1;
    }
    return parts;
}

/// Hex digits (two per byte, no prefix) into `out`; false if malformed.
inline bool parse_hex(std::string_view s, std::vector<std::byte>& out) {
    if (s.size() % 2) return false;
    out.clear();
    for (std::size_t i = 0; i < s.size(); i += 2) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
        if (ec != std::errc{} || p != s.data() + i + 2) return false;
        out.push_back(static_cast<std::byte>(v));
    }
    return true;
}

}  // namespace l2sec::inspect
