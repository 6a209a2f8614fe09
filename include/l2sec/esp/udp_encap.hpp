// UDP encapsulation of ESP for NAT traversal (RFC 3948): ESP in UDP port
// 4500, the non-ESP marker that tells IKE from ESP on that port, NAT
// keepalives, and the transport-mode checksum fix-up of section 3.1.2.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/checksum.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/esp/error.hpp>
#include <l2sec/esp/packet.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2sec::esp::udp_encap {

inline constexpr std::uint16_t port = 4500;
inline constexpr std::size_t udp_header_size = 8;
inline constexpr std::size_t non_esp_marker_size = 4;

/// What a datagram received on port 4500 carries (RFC 3948 section 2).
enum class kind : unsigned char {
    esp,        ///< first four bytes (the SPI) non-zero
    ike,        ///< non-ESP marker (four zero bytes) followed by an IKE message
    keepalive,  ///< a single 0xFF byte (section 2.3)
};

/// Classify a UDP payload received on port 4500.
inline result<kind> classify(bytes_view udp_payload) noexcept {
    if (udp_payload.size() == 1 && udp_payload[0] == std::byte{0xff}) return kind::keepalive;
    if (udp_payload.size() < non_esp_marker_size)
        return error(errc::truncated, udp_payload.size(), "SPI");
    if (load_be32(udp_payload.data()) == 0) return kind::ike;
    if (udp_payload.size() < header_size)
        return error(errc::truncated, udp_payload.size(), "ESP header");
    return kind::esp;
}

/// The IKE message after the non-ESP marker; not_esp when the datagram is
/// ESP or a keepalive.
inline result<bytes_view> ike_message(bytes_view udp_payload) noexcept {
    auto k = classify(udp_payload);
    if (!k) return k.error();
    if (*k != kind::ike) return error(errc::not_esp, 0, "non-ESP marker");
    return udp_payload.subspan(non_esp_marker_size);
}

/// The NAT keepalive payload (one byte, 0xFF).
inline constexpr std::array<std::byte, 1> keepalive{std::byte{0xff}};

/// Write the UDP header in front of the ESP packet buf[esp_offset, esp_offset + esp_len)
/// (checksum 0, as RFC 3948 section 3.1.1 says) and return the UDP datagram.
inline result<mutable_bytes> encapsulate(mutable_bytes buf, std::size_t esp_offset,
                                         std::size_t esp_len, std::uint16_t src_port = port,
                                         std::uint16_t dst_port = port) noexcept {
    if (esp_offset < udp_header_size) return error(errc::no_headroom, esp_offset, "UDP header");
    if (esp_offset > buf.size() || esp_len > buf.size() - esp_offset ||
        esp_len + udp_header_size > 0xffff)
        return error(errc::truncated, buf.size(), "ESP packet");
    auto d = buf.subspan(esp_offset - udp_header_size, esp_len + udp_header_size);
    store_be16(d.data(), src_port);
    store_be16(d.data() + 2, dst_port);
    store_be16(d.data() + 4, static_cast<std::uint16_t>(d.size()));
    store_be16(d.data() + 6, 0);
    return d;
}

/// The ESP packet inside a UDP datagram (header included) received on port 4500.
inline result<mutable_bytes> decapsulate(mutable_bytes udp_datagram) noexcept {
    if (udp_datagram.size() < udp_header_size)
        return error(errc::truncated, udp_datagram.size(), "UDP header");
    auto payload = udp_datagram.subspan(udp_header_size);
    auto k = classify(payload);
    if (!k) return error(k.error().code, k.error().offset + udp_header_size, k.error().field);
    if (*k != kind::esp) return error(errc::not_esp, udp_header_size, "non-ESP marker");
    return payload;
}

// ---- checksums (RFC 1071, RFC 1624) -------------------------------------

/// TCP/UDP checksum over the pseudo-header (addresses of 4 or 16 bytes each),
/// with the segment's checksum field taken as zero.
constexpr std::uint16_t l4_checksum(bytes_view src, bytes_view dst, std::uint8_t protocol,
                                    bytes_view segment, std::size_t csum_offset) noexcept {
    std::uint32_t acc = checksum_add(checksum_add(0, src), dst) + protocol;
    acc += static_cast<std::uint32_t>(segment.size() & 0xffff) +
           static_cast<std::uint32_t>(segment.size() >> 16);
    acc = checksum_add(acc, segment);
    if (csum_offset + 2 <= segment.size()) {
        // remove the checksum field's own contribution (one's complement subtraction)
        acc += static_cast<std::uint16_t>(~load_be16(segment.data() + csum_offset));
    }
    return checksum_fold(acc);
}

/// RFC 3948 section 3.1.2: after transport-mode decapsulation behind a NAT,
/// the TCP/UDP checksum was computed over the peer's original addresses
/// (NAT-OA from IKE), not the ones the packet arrived with. This recomputes
/// it for the addresses actually used (`src`, `dst`, the outer header's).
/// A zero UDP checksum over IPv4 stays zero (checksum disabled). Returns
/// false for protocols other than TCP and UDP or a too-short segment.
constexpr bool fix_transport_checksum(std::uint8_t protocol, mutable_bytes segment, bytes_view src,
                                      bytes_view dst) noexcept {
    std::size_t off = 0;
    if (protocol == proto::udp)
        off = 6;
    else if (protocol == proto::tcp)
        off = 16;
    else
        return false;
    if (segment.size() < off + 2) return false;
    if (protocol == proto::udp && src.size() == 4 && load_be16(segment.data() + off) == 0)
        return true;
    std::uint16_t c = l4_checksum(src, dst, protocol, segment, off);
    if (protocol == proto::udp && c == 0) c = 0xffff;
    store_be16(segment.data() + off, c);
    return true;
}

/// Incremental form (RFC 1624 eqn. 3): adjust the checksum field for a change
/// of pseudo-header addresses from (old_src, old_dst) to (new_src, new_dst),
/// without touching the rest of the segment.
constexpr bool adjust_transport_checksum(std::uint8_t protocol, mutable_bytes segment,
                                         bytes_view old_src, bytes_view old_dst, bytes_view new_src,
                                         bytes_view new_dst) noexcept {
    std::size_t off = protocol == proto::udp ? 6 : protocol == proto::tcp ? 16 : 0;
    if (off == 0 || segment.size() < off + 2) return false;
    std::uint16_t hc = load_be16(segment.data() + off);
    if (protocol == proto::udp && hc == 0) return true;
    std::uint32_t acc = static_cast<std::uint16_t>(~hc);
    auto sub = [&acc](bytes_view b) {
        for (std::size_t i = 0; i + 1 < b.size(); i += 2)
            acc += static_cast<std::uint16_t>(~load_be16(b.data() + i));
    };
    sub(old_src);
    sub(old_dst);
    acc = checksum_add(checksum_add(acc, new_src), new_dst);
    auto c = checksum_fold(acc);
    if (protocol == proto::udp && c == 0) c = 0xffff;
    store_be16(segment.data() + off, c);
    return true;
}

}  // namespace l2sec::esp::udp_encap
