// Segmentation of the packets a TUN device with offloads hands over
// (IFF_VNET_HDR + TUNSETOFFLOAD): each read is a 10-byte virtio_net_hdr and
// one IP packet that may be a TCP (TSO) or UDP (USO) "super-packet" of up to
// 64 KiB, with its transport checksum possibly left to the reader
// (VIRTIO_NET_HDR_F_NEEDS_CSUM). The kernel then runs its TCP and UDP stacks
// once per 64 KiB instead of once per MTU-sized packet; the VPN cuts the
// super-packet into ordinary IP packets, each into its own buffer at the
// headroom the ESP datapath needs, with correct lengths, IDs, sequence
// numbers and checksums. Pure functions: no I/O, no allocation.
//
//   auto g = transport::parse_gso(bytes_read);           // result<gso_packet>
//   for (std::size_t k = 0; k < g->segments; ++k)
//       auto n = transport::write_segment(*g, k, buf_k.subspan(headroom));   // one IP packet
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/checksum.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/transport/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace l2sec::transport {

/// The virtio_net_hdr a TUN with IFF_VNET_HDR puts before each packet
/// (<linux/virtio_net.h>, native byte order on this host).
inline constexpr std::size_t vnet_header_size = 10;
inline constexpr std::uint8_t vnet_needs_csum = 1;  ///< VIRTIO_NET_HDR_F_NEEDS_CSUM
enum class vnet_gso : std::uint8_t {
    none = 0,    ///< VIRTIO_NET_HDR_GSO_NONE
    tcpv4 = 1,   ///< VIRTIO_NET_HDR_GSO_TCPV4
    tcpv6 = 4,   ///< VIRTIO_NET_HDR_GSO_TCPV6
    udp_l4 = 5,  ///< VIRTIO_NET_HDR_GSO_UDP_L4 (USO, IPv4 and IPv6)
};

/// One packet read from an offloading TUN, checked and measured.
struct gso_packet {
    bytes_view packet;  ///< the IP packet after the virtio header
    vnet_gso gso = vnet_gso::none;
    bool ecn = false;         ///< VIRTIO_NET_HDR_GSO_ECN
    bool needs_csum = false;  ///< the transport checksum is the reader's to finish
    std::size_t csum_start = 0, csum_offset = 0;
    std::size_t gso_size = 0;  ///< payload bytes per segment
    bool v6 = false;
    std::uint8_t protocol = 0;                 ///< 6 (TCP) or 17 (UDP) for GSO packets
    std::size_t ip_header = 0, l4_header = 0;  ///< lengths in bytes
    std::size_t payload = 0;                   ///< transport payload bytes of the whole packet
    std::size_t segments = 1;                  ///< how many IP packets it becomes
    /// The size of segment k (headers included).
    constexpr std::size_t segment_size(std::size_t k) const noexcept {
        if (gso == vnet_gso::none) return packet.size();
        const std::size_t off = k * gso_size;
        const std::size_t len = payload - off < gso_size ? payload - off : gso_size;
        return ip_header + l4_header + len;
    }
};

/// Parses the virtio header and the IP and transport headers it refers to.
/// Errors (offset into `in`): truncated_packet (shorter than the header or
/// the headers it names), address_invalid (an unknown GSO type, GSO on a
/// packet that is not TCP/UDP over IPv4/IPv6 without extension headers, a
/// zero segment size, a checksum position outside the packet).
inline result<gso_packet> parse_gso(bytes_view in) noexcept {
    if (in.size() < vnet_header_size) return error(errc::truncated_packet, 0, "virtio_net_hdr");
    std::uint16_t hdr_len, gso_size, csum_start, csum_offset;
    const std::uint8_t flags = std::to_integer<std::uint8_t>(in[0]);
    const std::uint8_t type = std::to_integer<std::uint8_t>(in[1]);
    std::memcpy(&hdr_len, in.data() + 2, 2);
    std::memcpy(&gso_size, in.data() + 4, 2);
    std::memcpy(&csum_start, in.data() + 6, 2);
    std::memcpy(&csum_offset, in.data() + 8, 2);
    (void)hdr_len;  // advisory; the headers themselves say how long they are
    gso_packet g;
    g.packet = in.subspan(vnet_header_size);
    g.ecn = (type & 0x80) != 0;
    g.needs_csum = (flags & vnet_needs_csum) != 0;
    g.csum_start = csum_start;
    g.csum_offset = csum_offset;
    const std::uint8_t t = type & 0x7f;
    if (t != 0 && t != 1 && t != 4 && t != 5) return error(errc::address_invalid, 1, "GSO type");
    g.gso = static_cast<vnet_gso>(t);
    const bytes_view p = g.packet;
    if (g.needs_csum && (g.csum_start + g.csum_offset + 2 > p.size()))
        return error(errc::address_invalid, 6, "checksum position");
    if (g.gso == vnet_gso::none) {
        g.payload = p.size();
        return g;
    }
    if (gso_size == 0) return error(errc::address_invalid, 4, "GSO size");
    g.gso_size = gso_size;
    constexpr std::size_t at = vnet_header_size;
    if (p.empty()) return error(errc::truncated_packet, at, "IP header");
    const unsigned version = std::to_integer<unsigned>(p[0]) >> 4;
    if (version == 4) {
        if (p.size() < 20) return error(errc::truncated_packet, at, "IPv4 header");
        g.ip_header = (std::to_integer<std::size_t>(p[0]) & 0xf) * 4;
        if (g.ip_header < 20 || p.size() < g.ip_header)
            return error(errc::truncated_packet, at, "IPv4 header");
        g.protocol = std::to_integer<std::uint8_t>(p[9]);
    } else if (version == 6) {
        if (p.size() < 40) return error(errc::truncated_packet, at, "IPv6 header");
        g.v6 = true;
        g.ip_header = 40;
        g.protocol = std::to_integer<std::uint8_t>(p[6]);
    } else {
        return error(errc::address_invalid, at, "IP version");
    }
    const bool tcp = g.gso == vnet_gso::tcpv4 || g.gso == vnet_gso::tcpv6;
    if ((tcp && g.protocol != 6) || (!tcp && g.protocol != 17) ||
        (g.gso == vnet_gso::tcpv4 && g.v6) || (g.gso == vnet_gso::tcpv6 && !g.v6))
        return error(errc::address_invalid, at, "GSO type for this packet");
    if (tcp) {
        if (p.size() < g.ip_header + 20) return error(errc::truncated_packet, at, "TCP header");
        g.l4_header = (std::to_integer<std::size_t>(p[g.ip_header + 12]) >> 4) * 4;
        if (g.l4_header < 20 || p.size() < g.ip_header + g.l4_header)
            return error(errc::truncated_packet, at, "TCP header");
    } else {
        g.l4_header = 8;
        if (p.size() < g.ip_header + 8) return error(errc::truncated_packet, at, "UDP header");
    }
    g.payload = p.size() - g.ip_header - g.l4_header;
    g.segments = g.payload == 0 ? 1 : (g.payload + g.gso_size - 1) / g.gso_size;
    return g;
}

/// Writes segment k of `g` as one IP packet at the start of `out` and returns
/// its size. Errors: buffer_too_small (l2sec::errc; `out` shorter than
/// segment_size(k)), address_invalid (k out of range).
inline result<std::size_t> write_segment(const gso_packet& g, std::size_t k,
                                         mutable_bytes out) noexcept {
    if (k >= g.segments) return error(errc::address_invalid, 0, "segment index");
    const std::size_t size = g.segment_size(k);
    if (out.size() < size) return error(l2sec::errc::buffer_too_small, 0, "segment buffer");
    std::byte* d = out.data();
    const bytes_view p = g.packet;
    if (g.gso == vnet_gso::none) {
        copy_to(out, p);
        if (g.needs_csum) {  // the field holds the pseudo-header sum: finish it
            store_be16(d + g.csum_start + g.csum_offset, 0);
            std::uint32_t pseudo = load_be16(p.data() + g.csum_start + g.csum_offset);
            std::uint16_t c = checksum_fold(
                checksum_add(pseudo, bytes_view(d + g.csum_start, size - g.csum_start)));
            if (c == 0 && g.csum_offset == 6) c = 0xffff;  // UDP's field: 0 means "none"
            store_be16(d + g.csum_start + g.csum_offset, c);
        }
        return size;
    }
    const std::size_t hdrs = g.ip_header + g.l4_header;
    const std::size_t off = k * g.gso_size;
    const std::size_t len = size - hdrs;
    std::memcpy(d, p.data(), hdrs);
    if (len) std::memcpy(d + hdrs, p.data() + hdrs + off, len);
    const std::size_t l4_len = g.l4_header + len;
    // IP header: lengths, IPv4 ID and checksum.
    std::uint32_t pseudo = 0;
    if (!g.v6) {
        store_be16(d + 2, static_cast<std::uint16_t>(size));
        store_be16(d + 4, static_cast<std::uint16_t>(load_be16(p.data() + 4) + k));
        store_be16(d + 10, 0);
        store_be16(d + 10, internet_checksum(bytes_view(d, g.ip_header)));
        pseudo = checksum_add(0, bytes_view(d + 12, 8));
    } else {
        store_be16(d + 4, static_cast<std::uint16_t>(l4_len));
        pseudo = checksum_add(0, bytes_view(d + 8, 32));
    }
    pseudo += g.protocol;
    pseudo += static_cast<std::uint32_t>(l4_len);
    std::byte* l4 = d + g.ip_header;
    std::size_t csum_at;
    if (g.protocol == 6) {
        store_be32(l4 + 4, static_cast<std::uint32_t>(load_be32(p.data() + g.ip_header + 4) + off));
        unsigned fl = std::to_integer<unsigned>(l4[13]);
        if (k + 1 < g.segments) fl &= ~0x09u;  // FIN and PSH only on the last segment
        if (k > 0) fl &= ~0x80u;               // CWR only on the first
        l4[13] = static_cast<std::byte>(fl);
        csum_at = 16;
    } else {
        store_be16(l4 + 4, static_cast<std::uint16_t>(l4_len));
        csum_at = 6;
    }
    store_be16(l4 + csum_at, 0);
    std::uint16_t c = checksum_fold(checksum_add(pseudo, bytes_view(l4, l4_len)));
    if (c == 0 && g.protocol == 17) c = 0xffff;
    store_be16(l4 + csum_at, c);
    return size;
}

// --- the other direction: coalescing TCP segments for an offloading TUN ---

namespace detail {
struct l4_segment_info {
    bool ok = false, v6 = false;
    std::uint8_t protocol = 0;  // 6 or 17
    std::size_t ip_header = 0, l4_header = 0, payload = 0;
    std::uint32_t seq = 0;  // TCP
    unsigned flags = 0;     // TCP
};
// A TCP or UDP packet that may join a super-packet: IPv4 without options or
// fragmentation, or IPv6 with TCP/UDP as next header; lengths consistent.
inline l4_segment_info l4_segment(bytes_view p) noexcept {
    l4_segment_info t;
    if (p.size() < 28) return t;
    const unsigned version = std::to_integer<unsigned>(p[0]) >> 4;
    if (version == 4) {
        if (std::to_integer<unsigned>(p[0]) != 0x45) return t;
        if ((load_be16(p.data() + 6) & 0x3fff) != 0) return t;  // MF or an offset
        if (load_be16(p.data() + 2) != p.size()) return t;
        t.ip_header = 20;
        t.protocol = std::to_integer<std::uint8_t>(p[9]);
    } else if (version == 6) {
        if (p.size() < 48) return t;
        if (std::size_t{load_be16(p.data() + 4)} + 40 != p.size()) return t;
        t.v6 = true;
        t.ip_header = 40;
        t.protocol = std::to_integer<std::uint8_t>(p[6]);
    } else {
        return t;
    }
    const std::size_t ih = t.ip_header;
    if (t.protocol == 6) {
        if (p.size() < ih + 20) return t;
        t.l4_header = (std::to_integer<std::size_t>(p[ih + 12]) >> 4) * 4;
        if (t.l4_header < 20 || ih + t.l4_header > p.size()) return t;
        t.seq = load_be32(p.data() + ih + 4);
        t.flags = std::to_integer<unsigned>(p[ih + 13]);
    } else if (t.protocol == 17) {
        t.l4_header = 8;
        if (load_be16(p.data() + ih + 4) != p.size() - ih) return t;
    } else {
        return t;
    }
    t.payload = p.size() - ih - t.l4_header;
    t.ok = true;
    return t;
}
inline bool same_bytes(bytes_view a, bytes_view b, std::size_t from, std::size_t to) noexcept {
    return std::memcmp(a.data() + from, b.data() + from, to - from) == 0;
}
}  // namespace detail

/// How many packets from the start of `pkts` can reach the kernel as one
/// super-packet through an offloading TUN (the reverse of write_segment):
/// consecutive packets of one flow with the same IP header fields, all of the
/// first one's payload size but the last, which may be shorter; at most 64
/// and 64 KiB. TCP (`tcp`): ACK only (PSH allowed on the last), contiguous
/// sequence numbers, the same TCP header fields and options. UDP (`udp`):
/// the same ports. 1 when the first packet cannot be coalesced (or nothing
/// follows it), 0 for an empty span.
inline std::size_t coalescible_run(std::span<const bytes_view> pkts, bool tcp = true,
                                   bool udp = true) noexcept {
    if (pkts.empty()) return 0;
    const bytes_view first = pkts[0];
    const auto a = detail::l4_segment(first);
    if (!a.ok || a.payload == 0) return 1;
    const bool is_tcp = a.protocol == 6;
    if ((is_tcp && !tcp) || (!is_tcp && !udp)) return 1;
    if (is_tcp && ((a.flags & ~0x18u) != 0 || !(a.flags & 0x10u) || (a.flags & 0x08u))) return 1;
    const std::size_t hdrs = a.ip_header + a.l4_header;
    std::size_t n = 1, total = first.size();
    std::uint32_t next_seq = a.seq + static_cast<std::uint32_t>(a.payload);
    while (n < pkts.size() && n < 64) {
        const bytes_view q = pkts[n];
        const auto b = detail::l4_segment(q);
        if (!b.ok || b.v6 != a.v6 || b.protocol != a.protocol || b.l4_header != a.l4_header ||
            b.payload == 0 || b.payload > a.payload || total + b.payload > 65535)
            break;
        if (is_tcp && (b.seq != next_seq || (b.flags & ~0x08u) != 0x10u)) break;
        if (!a.v6) {  // version..TOS, flags/fragment..protocol, addresses
            if (!detail::same_bytes(first, q, 0, 2) || !detail::same_bytes(first, q, 6, 10) ||
                !detail::same_bytes(first, q, 12, 20))
                break;
        } else if (!detail::same_bytes(first, q, 0, 4) || !detail::same_bytes(first, q, 6, 40)) {
            break;
        }
        const std::size_t t = a.ip_header;
        if (!detail::same_bytes(first, q, t, t + 4)) break;  // ports
        if (is_tcp &&                                        // ack, offset, window, urgent, options
            (!detail::same_bytes(first, q, t + 8, t + 13) ||
             !detail::same_bytes(first, q, t + 14, t + 16) ||
             !detail::same_bytes(first, q, t + 18, hdrs)))
            break;
        ++n;
        total += b.payload;
        next_seq += static_cast<std::uint32_t>(b.payload);
        if (b.payload < a.payload || (is_tcp && (b.flags & 0x08u))) break;  // short/PSH ends it
    }
    return n;
}

/// Writes the virtio header and the super-packet of `run` (a coalescible_run)
/// into `out` and returns its size: the first packet's headers (for TCP with
/// PSH from the last), the payloads in order, IP (and UDP) lengths and the
/// IPv4 checksum redone, and the transport checksum left partial
/// (VIRTIO_NET_HDR_F_NEEDS_CSUM) as the kernel expects of a GSO packet.
/// Errors: buffer_too_small (l2sec::errc), address_invalid (an empty run, or
/// a first packet that is not TCP/UDP as coalescible_run wants it).
inline result<std::size_t> build_super_packet(std::span<const bytes_view> run,
                                              mutable_bytes out) noexcept {
    if (run.empty()) return error(errc::address_invalid, 0, "empty run");
    const auto a = detail::l4_segment(run[0]);
    if (!a.ok) return error(errc::address_invalid, 0, "not a TCP/UDP packet to coalesce");
    const bool is_tcp = a.protocol == 6;
    const std::size_t hdrs = a.ip_header + a.l4_header;
    std::size_t total = run[0].size();
    for (std::size_t i = 1; i < run.size(); ++i) {
        if (run[i].size() < hdrs) return error(errc::address_invalid, 0, "run");
        total += run[i].size() - hdrs;
    }
    if (out.size() < vnet_header_size + total)
        return error(l2sec::errc::buffer_too_small, 0, "super-packet buffer");
    std::byte* v = out.data();
    const vnet_gso kind = !is_tcp ? vnet_gso::udp_l4 : a.v6 ? vnet_gso::tcpv6 : vnet_gso::tcpv4;
    const auto hl = static_cast<std::uint16_t>(hdrs), gs = static_cast<std::uint16_t>(a.payload),
               cs = static_cast<std::uint16_t>(a.ip_header),
               co = static_cast<std::uint16_t>(is_tcp ? 16 : 6);
    v[0] = std::byte{vnet_needs_csum};
    v[1] = static_cast<std::byte>(kind);
    std::memcpy(v + 2, &hl, 2);
    std::memcpy(v + 4, &gs, 2);
    std::memcpy(v + 6, &cs, 2);
    std::memcpy(v + 8, &co, 2);
    std::byte* d = v + vnet_header_size;
    std::memcpy(d, run[0].data(), run[0].size());
    std::size_t at = run[0].size();
    for (std::size_t i = 1; i < run.size(); ++i) {
        std::memcpy(d + at, run[i].data() + hdrs, run[i].size() - hdrs);
        at += run[i].size() - hdrs;
    }
    const std::size_t l4_len = total - a.ip_header;
    if (is_tcp)
        d[a.ip_header + 13] |= run.back()[a.ip_header + 13] & std::byte{0x08};  // PSH
    else
        store_be16(d + a.ip_header + 4, static_cast<std::uint16_t>(l4_len));
    std::uint32_t pseudo;
    if (!a.v6) {
        store_be16(d + 2, static_cast<std::uint16_t>(total));
        store_be16(d + 10, 0);
        store_be16(d + 10, internet_checksum(bytes_view(d, 20)));
        pseudo = checksum_add(0, bytes_view(d + 12, 8));
    } else {
        store_be16(d + 4, static_cast<std::uint16_t>(l4_len));
        pseudo = checksum_add(0, bytes_view(d + 8, 32));
    }
    pseudo += std::uint32_t{a.protocol} + static_cast<std::uint32_t>(l4_len);
    store_be16(d + a.ip_header + co, static_cast<std::uint16_t>(~checksum_fold(pseudo)));
    return vnet_header_size + total;
}

}  // namespace l2sec::transport
