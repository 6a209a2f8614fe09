// The Internet checksum (RFC 1071): the one implementation behind IPv4
// headers, UDP/TCP pseudo-header checksums (pcap, ESP transport mode, the
// examples' ICMP). Accumulate with checksum_add, finish with checksum_fold.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <cstddef>
#include <cstdint>

namespace l2sec {

/// Adds `data` to a running sum of 16-bit big-endian words (an odd last byte
/// is padded with zero, RFC 1071 4.1). Sums of several pieces chain; each
/// piece but the last must have an even size.
constexpr std::uint32_t checksum_add(std::uint32_t sum, bytes_view data) noexcept {
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2)
        sum += load_be16(data.data() + i);
    if (i < data.size()) sum += std::to_integer<std::uint32_t>(data[i]) << 8;
    return sum;
}

/// The checksum of a running sum: its end-around-carry fold, complemented.
/// Over data that holds a correct checksum field it is 0.
constexpr std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffffu);
}

/// checksum_fold(checksum_add(0, data)).
constexpr std::uint16_t internet_checksum(bytes_view data) noexcept {
    return checksum_fold(checksum_add(0, data));
}

}  // namespace l2sec
