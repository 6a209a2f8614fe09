// Tunnel and transport mode around an esp::sa (RFC 4303 section 3.1):
//
//  tunnel:    [outer IP][ESP][inner IP packet ...][trailer][ICV]
//  transport: [IP header, protocol 50][ESP][upper-layer payload][trailer][ICV]
//
// IPv4 (with options) and IPv6 are handled; IPv6 in transport mode only
// without extension headers. All in place in the caller's buffer.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/checksum.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/esp/error.hpp>
#include <l2sec/esp/packet.hpp>
#include <l2sec/esp/udp_encap.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace l2sec::esp {

inline constexpr std::size_t ipv4_header_size = 20;
inline constexpr std::size_t ipv6_header_size = 40;

/// IPv4 header checksum over `hdr` (its checksum field set to 0 first).
constexpr void set_ipv4_checksum(mutable_bytes hdr) noexcept {
    store_be16(hdr.data() + 10, 0);
    store_be16(hdr.data() + 10, internet_checksum(hdr));
}

/// Header length and upper protocol of an IPv4/IPv6 packet (transport mode).
struct ip_info {
    unsigned version = 0;
    std::size_t header_len = 0;
    std::uint8_t protocol = 0;
};

inline result<ip_info> inspect_ip(bytes_view pkt) noexcept {
    if (pkt.empty()) return error(errc::bad_inner_packet, 0, "IP version");
    unsigned v = std::to_integer<unsigned>(pkt[0]) >> 4;
    ip_info i;
    i.version = v;
    if (v == 4) {
        if (pkt.size() < ipv4_header_size)
            return error(errc::bad_inner_packet, pkt.size(), "IPv4 header");
        i.header_len = (std::to_integer<std::size_t>(pkt[0]) & 0x0f) * 4;
        if (i.header_len < ipv4_header_size || i.header_len > pkt.size())
            return error(errc::bad_inner_packet, 0, "IPv4 IHL");
        if (load_be16(pkt.data() + 2) != pkt.size())
            return error(errc::bad_inner_packet, 2, "IPv4 total length");
        i.protocol = std::to_integer<std::uint8_t>(pkt[9]);
        return i;
    }
    if (v == 6) {
        if (pkt.size() < ipv6_header_size)
            return error(errc::bad_inner_packet, pkt.size(), "IPv6 header");
        if (std::size_t{load_be16(pkt.data() + 4)} + ipv6_header_size != pkt.size())
            return error(errc::bad_inner_packet, 4, "IPv6 payload length");
        i.header_len = ipv6_header_size;
        i.protocol = std::to_integer<std::uint8_t>(pkt[6]);
        return i;
    }
    return error(errc::bad_inner_packet, 0, "IP version");
}

/// Write an outer IPv4 (4-byte addresses) or IPv6 (16-byte) header carrying
/// `payload_len` bytes of `protocol` at `out`; returns the header size.
inline result<std::size_t> write_ip_header(mutable_bytes out, bytes_view src, bytes_view dst,
                                           std::uint8_t protocol, std::size_t payload_len,
                                           std::uint8_t ttl = 64) noexcept {
    if (src.size() == 4 && dst.size() == 4) {
        if (out.size() < ipv4_header_size) return error(errc::no_headroom, 0, "IPv4 header");
        if (payload_len + ipv4_header_size > 0xffff)
            return error(errc::invalid_config, 2, "IPv4 total length");
        auto h = out.first(ipv4_header_size);
        h[0] = std::byte{0x45};
        h[1] = std::byte{0};
        store_be16(h.data() + 2, static_cast<std::uint16_t>(payload_len + ipv4_header_size));
        store_be32(h.data() + 4, 0x00004000u);  // id 0, DF
        h[8] = static_cast<std::byte>(ttl);
        h[9] = static_cast<std::byte>(protocol);
        copy_to(h.subspan(12), src);
        copy_to(h.subspan(16), dst);
        set_ipv4_checksum(h);
        return ipv4_header_size;
    }
    if (src.size() == 16 && dst.size() == 16) {
        if (out.size() < ipv6_header_size) return error(errc::no_headroom, 0, "IPv6 header");
        if (payload_len > 0xffff) return error(errc::invalid_config, 4, "IPv6 payload length");
        auto h = out.first(ipv6_header_size);
        store_be32(h.data(), 0x60000000u);
        store_be16(h.data() + 4, static_cast<std::uint16_t>(payload_len));
        h[6] = static_cast<std::byte>(protocol);
        h[7] = static_cast<std::byte>(ttl);
        copy_to(h.subspan(8), src);
        copy_to(h.subspan(24), dst);
        return ipv6_header_size;
    }
    return error(errc::invalid_config, 0, "tunnel addresses");
}

/// Tunnel mode, outbound: the inner IP packet buf[offset, offset + len) is
/// protected (next header 4 or 41 from its version) and an outer header from
/// `src` to `dst` (4 or 16 bytes each) is put in front. Returns the outer packet.
template <class SA>
result<mutable_bytes> protect_tunnel(SA& sa, mutable_bytes buf, std::size_t offset, std::size_t len,
                                     bytes_view src, bytes_view dst,
                                     std::uint8_t ttl = 64) noexcept {
    if (offset > buf.size() || len > buf.size() - offset || len == 0)
        return error(errc::bad_inner_packet, offset, "inner packet");
    unsigned v = std::to_integer<unsigned>(buf[offset]) >> 4;
    if (v != 4 && v != 6) return error(errc::bad_inner_packet, offset, "IP version");
    std::size_t outer = src.size() == 4 ? ipv4_header_size : ipv6_header_size;
    if (offset < sa.headroom() + outer) return error(errc::no_headroom, offset, "outer IP header");
    auto esp = sa.protect(buf, offset, len, v == 4 ? proto::ipv4 : proto::ipv6);
    if (!esp) return esp.error();
    std::size_t start = offset - sa.headroom() - outer;
    auto h = write_ip_header(buf.subspan(start, outer), src, dst, proto::esp, esp->size(), ttl);
    if (!h) return h.error();
    return buf.subspan(start, outer + esp->size());
}

/// Tunnel mode, inbound: unprotect the ESP packet and return the inner IP packet.
template <class SA>
result<mutable_bytes> unprotect_tunnel(SA& sa, mutable_bytes esp_packet) noexcept {
    auto in = sa.unprotect(esp_packet);
    if (!in) return in.error();
    if (in->next_header != proto::ipv4 && in->next_header != proto::ipv6)
        return error(errc::bad_inner_packet, esp_packet.size() - sa.icv_size() - 1, "Next Header");
    auto i = inspect_ip(in->payload);
    if (!i || i->version != (in->next_header == proto::ipv4 ? 4u : 6u))
        return error(errc::bad_inner_packet, sa.headroom(), "inner packet");
    return in->payload;
}

/// Transport mode, outbound: the IP packet buf[offset, offset + len) gets
/// its upper-layer payload protected; the IP header moves down into the
/// headroom and now says protocol 50. Returns the new packet.
template <class SA>
result<mutable_bytes> protect_transport(SA& sa, mutable_bytes buf, std::size_t offset,
                                        std::size_t len) noexcept {
    if (offset > buf.size() || len > buf.size() - offset)
        return error(errc::bad_inner_packet, offset, "packet");
    auto info = inspect_ip(buf.subspan(offset, len));
    if (!info) return error(info.error().code, offset + info.error().offset, info.error().field);
    if (offset < sa.headroom()) return error(errc::no_headroom, offset, "ESP header");
    std::size_t hl = info->header_len;
    std::size_t start = offset - sa.headroom();
    // Move the IP header out of the way first: the ESP header goes where it ends.
    std::memmove(buf.data() + start, buf.data() + offset, hl);
    auto esp = sa.protect(buf, offset + hl, len - hl, info->protocol);
    if (!esp) {
        std::memmove(buf.data() + offset, buf.data() + start, hl);
        return esp.error();
    }
    auto pkt = buf.subspan(start, hl + esp->size());
    if (info->version == 4) {
        store_be16(pkt.data() + 2, static_cast<std::uint16_t>(pkt.size()));
        pkt[9] = static_cast<std::byte>(proto::esp);
        set_ipv4_checksum(pkt.first(hl));
    } else {
        store_be16(pkt.data() + 4, static_cast<std::uint16_t>(pkt.size() - ipv6_header_size));
        pkt[6] = static_cast<std::byte>(proto::esp);
    }
    return pkt;
}

/// Transport mode, inbound: `ip_packet` carries ESP; after unprotect the IP
/// header moves up against the payload and gets the original protocol back.
/// Returns the plain packet (a span of the same buffer, starting later).
template <class SA>
result<mutable_bytes> unprotect_transport(SA& sa, mutable_bytes ip_packet) noexcept {
    auto info = inspect_ip(ip_packet);
    if (!info) return info.error();
    if (info->protocol != proto::esp)
        return error(errc::bad_inner_packet, info->version == 4 ? 9u : 6u, "protocol");
    std::size_t hl = info->header_len;
    auto in = sa.unprotect(ip_packet.subspan(hl));
    if (!in) return error(in.error().code, in.error().offset + hl, in.error().field);
    std::size_t start = static_cast<std::size_t>(in->payload.data() - ip_packet.data()) - hl;
    std::memmove(ip_packet.data() + start, ip_packet.data(), hl);
    auto pkt = ip_packet.subspan(start, hl + in->payload.size());
    if (info->version == 4) {
        store_be16(pkt.data() + 2, static_cast<std::uint16_t>(pkt.size()));
        pkt[9] = static_cast<std::byte>(in->next_header);
        set_ipv4_checksum(pkt.first(hl));
    } else {
        store_be16(pkt.data() + 4, static_cast<std::uint16_t>(pkt.size() - ipv6_header_size));
        pkt[6] = static_cast<std::byte>(in->next_header);
    }
    return pkt;
}

}  // namespace l2sec::esp
