// From a captured frame to the UDP payload: link layer (Ethernet with VLAN
// tags, Linux cooked v1/v2, raw IP, BSD loopback), IPv4 (options skipped,
// fragments flagged), IPv6 (extension headers skipped), UDP. Views only: no
// copies, no allocation; every error carries the offset within the frame.
//
//   auto ip = l2sec::pcap::decode_ip_frame(f.linktype(), rec.data);
//   if (!ip) ...;                              // pcap/ip layer error
//   auto udp = l2sec::pcap::decode_udp(*ip);   // not_udp, fragmented, ...
//   if (udp && udp->dst_port == 1701) l2tp::parse(udp->payload);
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/checksum.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/pcap/error.hpp>
#include <l2sec/pcap/file.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2sec::pcap {

inline constexpr std::uint16_t ethertype_ipv4 = 0x0800;
inline constexpr std::uint16_t ethertype_ipv6 = 0x86DD;
inline constexpr std::uint8_t ip_proto_udp = 17;
inline constexpr std::uint8_t ip_proto_esp = 50;

/// An IPv4 or IPv6 packet inside a frame. Addresses are stored in 16 bytes
/// (IPv4 uses the first 4). `payload` is the upper-layer data after options /
/// extension headers, cut to the length the IP header declares.
struct ip_packet {
    std::uint8_t version = 0;  ///< 4 or 6
    std::array<std::byte, 16> src{};
    std::array<std::byte, 16> dst{};
    std::uint8_t protocol = 0;       ///< IPv4 protocol / IPv6 final next header
    std::uint8_t ttl = 0;            ///< TTL / hop limit
    bool fragment = false;           ///< MF set or offset non-zero: payload is partial
    std::size_t header_offset = 0;   ///< offset of the IP header in the frame
    std::size_t payload_offset = 0;  ///< offset of `payload` in the frame
    bytes_view header{};             ///< the IP header (IPv4 incl. options; IPv6 fixed 40 bytes)
    bytes_view payload{};
    std::size_t address_size() const noexcept { return version == 4 ? 4 : 16; }
    bytes_view src_address() const noexcept { return bytes_view(src).first(address_size()); }
    bytes_view dst_address() const noexcept { return bytes_view(dst).first(address_size()); }
};

struct udp_datagram {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint16_t length = 0;        ///< the UDP length field (header + payload)
    std::uint16_t checksum = 0;      ///< as received (0 = none over IPv4)
    std::size_t payload_offset = 0;  ///< offset of `payload` in the frame
    bytes_view payload{};
};

/// Where the network layer starts in a frame: the ethertype-like protocol and its offset.
struct link_payload {
    std::uint16_t ethertype = 0;  ///< 0x0800 / 0x86DD for IP (raw IP: derived from the version)
    std::size_t offset = 0;
    bytes_view data{};
};

/// Strips the link-layer header. not_ip when the frame carries something else.
inline result<link_payload> decode_link(std::uint32_t link, bytes_view frame) noexcept {
    link_payload out;
    switch (static_cast<link_type>(link)) {
        case link_type::ethernet: {
            if (frame.size() < 14) return error(errc::truncated_link_header, 0, "ethernet header");
            std::size_t off = 12;
            std::uint16_t type = load_be16(frame.data() + off);
            // 802.1Q / 802.1ad tags, possibly stacked
            while (type == 0x8100 || type == 0x88A8 || type == 0x9100) {
                off += 4;
                if (frame.size() < off + 2)
                    return error(errc::truncated_link_header,
                                 off > frame.size() ? frame.size() : off, "vlan tag");
                type = load_be16(frame.data() + off);
            }
            out.ethertype = type;
            out.offset = off + 2;
            break;
        }
        case link_type::linux_sll:
            if (frame.size() < 16) return error(errc::truncated_link_header, 0, "sll header");
            out.ethertype = load_be16(frame.data() + 14);
            out.offset = 16;
            break;
        case link_type::linux_sll2:
            if (frame.size() < 20) return error(errc::truncated_link_header, 0, "sll2 header");
            out.ethertype = load_be16(frame.data());
            out.offset = 20;
            break;
        case link_type::null: {
            if (frame.size() < 4) return error(errc::truncated_link_header, 0, "loopback family");
            // host byte order of the capturing machine: accept either
            std::uint32_t fam = detail::load32(frame.data(), false);
            if (fam > 0xFFFF) fam = load_be32(frame.data());
            if (fam == 2)
                out.ethertype = ethertype_ipv4;
            else if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
                out.ethertype = ethertype_ipv6;
            else
                return error(errc::not_ip, 0, "loopback family");
            out.offset = 4;
            break;
        }
        case link_type::raw:
            if (frame.empty()) return error(errc::truncated_ip_header, 0, "ip version");
            switch (std::to_integer<unsigned>(frame[0]) >> 4) {
                case 4:
                    out.ethertype = ethertype_ipv4;
                    break;
                case 6:
                    out.ethertype = ethertype_ipv6;
                    break;
                default:
                    return error(errc::bad_ip_version, 0, "ip version");
            }
            break;
        case link_type::ipv4:
            out.ethertype = ethertype_ipv4;
            break;
        case link_type::ipv6:
            out.ethertype = ethertype_ipv6;
            break;
        default:
            return error(errc::unsupported_linktype, 0, "link type");
    }
    if (out.ethertype != ethertype_ipv4 && out.ethertype != ethertype_ipv6)
        return error(errc::not_ip, out.offset >= 2 ? out.offset - 2 : 0, "ethertype");
    out.data = frame.subspan(out.offset);
    return out;
}

/// Decodes an IPv4 header at frame[offset...]. Trailing bytes beyond the total
/// length (Ethernet padding) are ignored; a fragment decodes with fragment=true.
inline result<ip_packet> decode_ipv4(bytes_view frame, std::size_t offset) noexcept {
    bytes_view d = frame.subspan(offset);
    if (d.size() < 20) return error(errc::truncated_ip_header, offset, "ipv4 header");
    ip_packet p;
    p.version = static_cast<std::uint8_t>(std::to_integer<unsigned>(d[0]) >> 4);
    if (p.version != 4) return error(errc::bad_ip_version, offset, "ipv4 version");
    std::size_t ihl = (std::to_integer<std::size_t>(d[0]) & 0x0F) * 4;
    if (ihl < 20 || ihl > d.size()) return error(errc::bad_ihl, offset, "ipv4 ihl");
    std::uint16_t total = load_be16(d.data() + 2);
    if (total < ihl || total > d.size())
        return error(errc::bad_total_length, offset + 2, "ipv4 total length");
    std::uint16_t frag = load_be16(d.data() + 6);
    p.fragment = (frag & 0x2000) != 0 || (frag & 0x1FFF) != 0;
    p.ttl = std::to_integer<std::uint8_t>(d[8]);
    p.protocol = std::to_integer<std::uint8_t>(d[9]);
    std::copy(d.begin() + 12, d.begin() + 16, p.src.begin());
    std::copy(d.begin() + 16, d.begin() + 20, p.dst.begin());
    p.header_offset = offset;
    p.payload_offset = offset + ihl;
    p.header = d.first(ihl);
    p.payload = d.subspan(ihl, total - ihl);
    return p;
}

/// Decodes an IPv6 header and skips extension headers (hop-by-hop, routing,
/// fragment, destination options, AH, mobility, HIP, shim6). A non-first
/// fragment or one with more to come decodes with fragment=true.
inline result<ip_packet> decode_ipv6(bytes_view frame, std::size_t offset) noexcept {
    bytes_view d = frame.subspan(offset);
    if (d.size() < 40) return error(errc::truncated_ip_header, offset, "ipv6 header");
    ip_packet p;
    p.version = static_cast<std::uint8_t>(std::to_integer<unsigned>(d[0]) >> 4);
    if (p.version != 6) return error(errc::bad_ip_version, offset, "ipv6 version");
    std::uint16_t plen = load_be16(d.data() + 4);
    if (plen == 0) return error(errc::jumbogram, offset + 4, "ipv6 payload length");
    if (std::size_t{plen} + 40 > d.size())
        return error(errc::bad_total_length, offset + 4, "ipv6 payload length");
    std::uint8_t next = std::to_integer<std::uint8_t>(d[6]);
    p.ttl = std::to_integer<std::uint8_t>(d[7]);
    std::copy(d.begin() + 8, d.begin() + 24, p.src.begin());
    std::copy(d.begin() + 24, d.begin() + 40, p.dst.begin());
    p.header_offset = offset;
    p.header = d.first(40);
    std::size_t pos = 40, end = 40 + std::size_t{plen};
    for (;;) {
        std::size_t len = 0;
        switch (next) {
            case 0:
            case 43:
            case 60:
            case 135:
            case 139:
            case 140:
                if (end - pos < 2)
                    return error(errc::bad_extension_header, offset + pos, "ipv6 extension header");
                len = (std::to_integer<std::size_t>(d[pos + 1]) + 1) * 8;
                break;
            case 51:  // AH: length in 4-byte units minus 2
                if (end - pos < 2)
                    return error(errc::bad_extension_header, offset + pos, "ipv6 ah header");
                len = (std::to_integer<std::size_t>(d[pos + 1]) + 2) * 4;
                break;
            case 44: {  // fragment
                if (end - pos < 8)
                    return error(errc::bad_extension_header, offset + pos, "ipv6 fragment header");
                std::uint16_t fo = load_be16(d.data() + pos + 2);
                if ((fo & 0xFFF8) != 0 || (fo & 1) != 0) p.fragment = true;
                len = 8;
                break;
            }
            default:
                len = 0;
                break;
        }
        if (len == 0) break;
        if (end - pos < len)
            return error(errc::bad_extension_header, offset + pos, "ipv6 extension header");
        next = std::to_integer<std::uint8_t>(d[pos]);
        pos += len;
        if (p.fragment) break;  // what follows a non-first fragment header is not a header
    }
    p.protocol = next;
    p.payload_offset = offset + pos;
    p.payload = d.subspan(pos, end - pos);
    return p;
}

/// Decodes the IP packet at `offset` of `frame`, picking the version from the first nibble.
inline result<ip_packet> decode_ip(bytes_view frame, std::size_t offset = 0) noexcept {
    if (offset >= frame.size()) return error(errc::truncated_ip_header, offset, "ip version");
    switch (std::to_integer<unsigned>(frame[offset]) >> 4) {
        case 4:
            return decode_ipv4(frame, offset);
        case 6:
            return decode_ipv6(frame, offset);
        default:
            return error(errc::bad_ip_version, offset, "ip version");
    }
}

/// Link layer + IP: the IP packet carried by one captured frame.
inline result<ip_packet> decode_ip_frame(std::uint32_t link, bytes_view frame) noexcept {
    auto l = decode_link(link, frame);
    if (!l) return l.error();
    auto ip = decode_ip(frame, l->offset);
    if (!ip) return ip.error();
    bool want4 = l->ethertype == ethertype_ipv4;
    if ((ip->version == 4) != want4) return error(errc::bad_ip_version, l->offset, "ip version");
    return ip;
}
inline result<ip_packet> decode_ip_frame(link_type link, bytes_view frame) noexcept {
    return decode_ip_frame(static_cast<std::uint32_t>(link), frame);
}

/// The UDP datagram inside an IP packet (offsets stay relative to the frame).
inline result<udp_datagram> decode_udp(const ip_packet& ip) noexcept {
    if (ip.protocol != ip_proto_udp)
        return error(errc::not_udp, ip.header_offset + (ip.version == 4 ? 9 : 6), "ip protocol");
    if (ip.fragment)
        return error(errc::fragmented, ip.header_offset + (ip.version == 4 ? 6 : 40), "fragment");
    reader r(ip.payload, ip.payload_offset);
    udp_datagram u;
    u.src_port = r.u16();
    u.dst_port = r.u16();
    u.length = r.u16();
    u.checksum = r.u16();
    if (!r) return error(errc::truncated_udp_header, ip.payload_offset, "udp header");
    if (u.length < 8 || u.length > ip.payload.size())
        return error(errc::bad_udp_length, ip.payload_offset + 4, "udp length");
    u.payload_offset = ip.payload_offset + 8;
    u.payload = ip.payload.subspan(8, u.length - 8u);
    return u;
}

/// True when the IPv4 header checksum verifies (always true for IPv6).
constexpr bool ip_header_checksum_ok(const ip_packet& ip) noexcept {
    return ip.version != 4 || checksum_fold(checksum_add(0, ip.header)) == 0;
}

/// True when the UDP checksum verifies (or is 0 = absent over IPv4). Captures
/// taken on the sending host with checksum offload may fail this legitimately.
constexpr bool udp_checksum_ok(const ip_packet& ip, const udp_datagram& u) noexcept {
    if (u.checksum == 0 && ip.version == 4) return true;
    std::uint32_t s = checksum_add(0, ip.src_address());
    s = checksum_add(s, ip.dst_address());
    s += ip_proto_udp;
    s += u.length;
    s = checksum_add(s, ip.payload.first(u.length));
    return checksum_fold(s) == 0;
}

}  // namespace l2sec::pcap
