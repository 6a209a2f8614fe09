// The one ICMP thing the server does itself: answer an echo request sent to
// its own PPP address (the --no-tun mode, and a liveness check for clients),
// in place, so the reply leaves through the same buffer.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/checksum.hpp>

#include <cstdint>

namespace l2sec::vpn {

/// If `ip` is an IPv4 ICMP echo request to `self` (header checksum valid),
/// turn it into the echo reply in place (addresses swapped, type 0, both
/// checksums updated) and return true; otherwise leave it alone.
inline bool answer_echo(mutable_bytes ip, std::uint32_t self) noexcept {
    if (ip.size() < 28 || std::to_integer<unsigned>(ip[0]) >> 4 != 4) return false;
    std::size_t ihl = (std::to_integer<std::size_t>(ip[0]) & 15) * 4;
    std::size_t total = load_be16(ip.data() + 2);
    if (ihl < 20 || total > ip.size() || total < ihl + 8) return false;
    if (std::to_integer<unsigned>(ip[9]) != 1 || load_be32(ip.data() + 16) != self) return false;
    if (internet_checksum(ip.first(ihl)) != 0) return false;
    std::byte* icmp = ip.data() + ihl;
    if (std::to_integer<unsigned>(icmp[0]) != 8 || std::to_integer<unsigned>(icmp[1]) != 0)
        return false;
    std::uint32_t src = load_be32(ip.data() + 12);
    store_be32(ip.data() + 12, self);
    store_be32(ip.data() + 16, src);
    ip[8] = std::byte{64};  // TTL
    store_be16(ip.data() + 10, 0);
    store_be16(ip.data() + 10, internet_checksum(ip.first(ihl)));
    icmp[0] = std::byte{0};
    store_be16(icmp + 2, 0);
    store_be16(icmp + 2, internet_checksum(ip.subspan(ihl, total - ihl)));
    return true;
}

/// Build an IPv4 ICMP echo request (checksums set) of `size` bytes in `out`;
/// returns the size, or 0 when it does not fit (size below 28 or above out).
inline std::size_t make_echo_request(mutable_bytes out, std::uint32_t src, std::uint32_t dst,
                                     std::uint16_t id, std::uint16_t seq,
                                     std::size_t size = 84) noexcept {
    if (size < 28 || size > out.size() || size > 0xffff) return 0;
    std::byte* p = out.data();
    for (std::size_t i = 0; i < size; ++i)
        p[i] = std::byte(i >= 28 ? i & 0xff : 0);
    p[0] = std::byte{0x45};
    store_be16(p + 2, static_cast<std::uint16_t>(size));
    p[8] = std::byte{64};
    p[9] = std::byte{1};
    store_be32(p + 12, src);
    store_be32(p + 16, dst);
    store_be16(p + 10, internet_checksum(out.first(20)));
    p[20] = std::byte{8};
    store_be16(p + 24, id);
    store_be16(p + 26, seq);
    store_be16(p + 22, internet_checksum(out.subspan(20, size - 20)));
    return size;
}

/// The echo reply's (id, seq) if `ip` is an IPv4 ICMP echo reply from `from`.
inline bool is_echo_reply(bytes_view ip, std::uint32_t from, std::uint16_t& id,
                          std::uint16_t& seq) noexcept {
    if (ip.size() < 28 || std::to_integer<unsigned>(ip[0]) >> 4 != 4) return false;
    std::size_t ihl = (std::to_integer<std::size_t>(ip[0]) & 15) * 4;
    if (ip.size() < ihl + 8 || std::to_integer<unsigned>(ip[9]) != 1) return false;
    if (load_be32(ip.data() + 12) != from || std::to_integer<unsigned>(ip[ihl]) != 0) return false;
    id = load_be16(ip.data() + ihl + 4);
    seq = load_be16(ip.data() + ihl + 6);
    return true;
}

}  // namespace l2sec::vpn
