// Test helpers: bytes from hex text ("c8 02 00 14", spaces and newlines ignored), and back.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace l2sec::test {

inline std::vector<std::byte> hex(std::string_view s) {
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::vector<std::byte> out;
    int hi = -1;
    for (char c : s) {
        int v = nib(c);
        if (v < 0) {
            if (c == ' ' || c == '\n' || c == '\t' || c == ':') continue;
            throw std::invalid_argument("bad hex");
        }
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<std::byte>(hi * 16 + v));
            hi = -1;
        }
    }
    if (hi >= 0) throw std::invalid_argument("odd hex length");
    return out;
}

inline std::string to_hex(bytes_view b) {
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        auto v = std::to_integer<unsigned>(x);
        s += d[v >> 4];
        s += d[v & 15];
    }
    return s;
}

}  // namespace l2sec::test
