// Constant-time comparison and secure wiping.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <cstddef>

namespace l2sec::crypto {

/// True when a and b have the same size and contents; the time taken depends
/// only on the sizes, never on where the first difference is.
inline bool constant_time_equal(bytes_view a, bytes_view b) noexcept {
    if (a.size() != b.size()) return false;
    volatile unsigned diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff = diff | std::to_integer<unsigned>(a[i] ^ b[i]);
    return diff == 0;
}

/// Overwrite secrets in a way the optimiser does not remove.
inline void secure_zero(mutable_bytes b) noexcept {
    volatile std::byte* p = b.data();
    for (std::size_t i = 0; i < b.size(); ++i)
        p[i] = std::byte{0};
}

}  // namespace l2sec::crypto
