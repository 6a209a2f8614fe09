// Synthetic frames for captures: a UDP payload wrapped into IPv4/UDP (both
// checksums computed) and optionally an Ethernet header, written into a
// caller's buffer.
//
//   std::array<std::byte, 2048> frame;
//   l2sec::pcap::udp_endpoints ep{{127,0,0,1}, {127,0,0,2}, 1701, 1701};
//   auto n = l2sec::pcap::build_udp_ipv4(frame, ep, l2tp_bytes);   // Ethernet by default
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/pcap/ip.hpp>

#include <array>
#include <cstdint>

namespace l2sec::pcap {

struct udp_endpoints {
    std::array<std::uint8_t, 4> src_ip{127, 0, 0, 1};
    std::array<std::uint8_t, 4> dst_ip{127, 0, 0, 1};
    std::uint16_t src_port = 1701;
    std::uint16_t dst_port = 1701;
};

struct frame_options {
    bool ethernet = true;  ///< prepend a 14-byte Ethernet II header (link type 1); else raw IPv4
    std::array<std::uint8_t, 6> src_mac{0x02, 0, 0, 0, 0, 1};
    std::array<std::uint8_t, 6> dst_mac{0x02, 0, 0, 0, 0, 2};
    std::uint16_t ip_id = 0;
    std::uint8_t ttl = 64;
};

/// Writes [Ethernet] + IPv4 (no options, DF) + UDP + payload into `out`.
/// Returns the frame size, buffer_too_small, or invalid_argument when the
/// payload does not fit one IPv4 packet.
inline result<std::size_t> build_udp_ipv4(mutable_bytes out, const udp_endpoints& ep,
                                          bytes_view payload,
                                          const frame_options& o = {}) noexcept {
    if (payload.size() > 65535 - 28) return error(l2sec::errc::invalid_argument, 0, "udp payload");
    auto udp_len = static_cast<std::uint16_t>(payload.size() + 8);
    auto total = static_cast<std::uint16_t>(udp_len + 20);
    writer w(out);
    if (o.ethernet) {
        for (auto b : o.dst_mac)
            w.u8(b);
        for (auto b : o.src_mac)
            w.u8(b);
        w.u16(ethertype_ipv4);
    }
    std::size_t ip_at = w.size();
    w.u8(0x45);
    w.u8(0);
    w.u16(total);
    w.u16(o.ip_id);
    w.u16(0x4000);  // DF
    w.u8(o.ttl);
    w.u8(ip_proto_udp);
    std::size_t csum_at = w.reserve(2);
    for (auto b : ep.src_ip)
        w.u8(b);
    for (auto b : ep.dst_ip)
        w.u8(b);
    std::size_t udp_at = w.size();
    w.u16(ep.src_port);
    w.u16(ep.dst_port);
    w.u16(udp_len);
    std::size_t ucsum_at = w.reserve(2);
    w.bytes(payload);
    auto n = w.finish("frame");
    if (!n) return n.error();
    auto bytes = w.written();
    w.patch_u16(csum_at, checksum_fold(checksum_add(0, bytes.subspan(ip_at, 20))));
    std::uint32_t s = checksum_add(0, bytes.subspan(ip_at + 12, 8));  // pseudo header addresses
    s += ip_proto_udp;
    s += udp_len;
    s = checksum_add(s, bytes.subspan(udp_at, udp_len));
    std::uint16_t c = checksum_fold(s);
    w.patch_u16(ucsum_at, c == 0 ? std::uint16_t{0xFFFF} : c);
    return *n;
}

}  // namespace l2sec::pcap
