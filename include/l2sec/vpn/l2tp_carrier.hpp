// L2TP inside ESP transport mode (RFC 3193): the ESP payload is a UDP header
// (port 1701 at the LNS) followed by the L2TP message. These two functions
// write and read that UDP header in place, so one buffer carries a packet
// from the TUN device to the wire and back without a copy.
//
//   auto udp = vpn::wrap_udp(buf, l2tp_off, l2tp_len, 1701, peer_port);   // header at l2tp_off - 8
//   auto esp = sa.protect(buf, *udp, l2tp_len + 8, esp::proto::udp);
//   ...
//   auto in = vpn::unwrap_udp(packet.payload);     // ports and the L2TP bytes
//
// The UDP checksum is sent as zero, which RFC 768 allows over IPv4 and which
// RFC 3948 section 3.1.2 anticipates for transport mode behind NAT (the
// original checksum covers addresses the NAT rewrote); ESP's integrity check
// protects the payload. A received checksum is not verified, for the same
// reason (RFC 3948 3.1.2 lets a receiver skip it when ESP protects the packet).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/vpn/error.hpp>

#include <cstddef>
#include <cstdint>

namespace l2sec::vpn {

inline constexpr std::uint16_t l2tp_port = 1701;
inline constexpr std::size_t udp_header_size = 8;

/// Write a UDP header (ports, length, zero checksum) in the 8 bytes before
/// buf[offset, offset + len). Returns the header's offset (offset - 8).
/// Errors: buffer_too_small (no headroom, or the payload exceeds the buffer),
/// length_mismatch (more than 65527 bytes).
inline result<std::size_t> wrap_udp(mutable_bytes buf, std::size_t offset, std::size_t len,
                                    std::uint16_t src_port, std::uint16_t dst_port) noexcept {
    if (offset < udp_header_size) return error(l2sec::errc::buffer_too_small, 0, "UDP headroom");
    if (offset > buf.size() || len > buf.size() - offset)
        return error(l2sec::errc::buffer_too_small, offset, "UDP payload");
    if (len > 0xffff - udp_header_size)
        return error(l2sec::errc::length_mismatch, offset, "UDP length");
    std::byte* h = buf.data() + offset - udp_header_size;
    store_be16(h, src_port);
    store_be16(h + 2, dst_port);
    store_be16(h + 4, static_cast<std::uint16_t>(len + udp_header_size));
    store_be16(h + 6, 0);
    return offset - udp_header_size;
}

/// A UDP datagram found inside an ESP payload.
struct udp_payload {
    std::uint16_t src_port = 0, dst_port = 0;
    mutable_bytes data;  ///< the L2TP message, inside the caller's buffer
};

/// Read the UDP header at the start of `payload` (an ESP transport-mode
/// payload whose next header was UDP). Errors: truncated (under 8 bytes),
/// length_mismatch (the UDP length disagrees with the ESP payload).
inline result<udp_payload> unwrap_udp(mutable_bytes payload) noexcept {
    if (payload.size() < udp_header_size) return error(l2sec::errc::truncated, 0, "UDP header");
    std::uint16_t len = load_be16(payload.data() + 4);
    if (len < udp_header_size || len > payload.size())
        return error(l2sec::errc::length_mismatch, 4, "UDP length");
    udp_payload u;
    u.src_port = load_be16(payload.data());
    u.dst_port = load_be16(payload.data() + 2);
    u.data = payload.subspan(udp_header_size, len - udp_header_size);
    return u;
}

}  // namespace l2sec::vpn
