// The ISAKMP/IKE header (RFC 2408 §3.1, RFC 7296 §3.1), common to both versions,
// and the UDP 4500 non-ESP marker (RFC 3948 §2.2).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/registry.hpp>

#include <cstdint>

namespace l2sec::ike {

/// Header flag bits. IKEv1 uses E/C/A, IKEv2 uses I/V/R.
namespace flag {
inline constexpr std::uint8_t encrypted = 0x01;  ///< v1: payloads after the header are encrypted
inline constexpr std::uint8_t commit = 0x02;     ///< v1
inline constexpr std::uint8_t auth_only = 0x04;  ///< v1
inline constexpr std::uint8_t initiator = 0x08;  ///< v2: sent by the original initiator
inline constexpr std::uint8_t version = 0x10;    ///< v2: a higher version could be spoken
inline constexpr std::uint8_t response = 0x20;   ///< v2: this is a response
}  // namespace flag

struct header {
    static constexpr std::size_t size = 28;

    std::uint64_t spi_i = 0;  ///< initiator SPI (v1: initiator cookie)
    std::uint64_t spi_r = 0;  ///< responder SPI (v1: responder cookie)
    std::uint8_t next_payload = 0;
    std::uint8_t major = 2;
    std::uint8_t minor = 0;
    exchange exchange_type = exchange::none;
    std::uint8_t flags = 0;
    std::uint32_t message_id = 0;
    std::uint32_t length = 0;  ///< whole message, header included

    constexpr payload_type first_payload() const noexcept { return payload_type{next_payload}; }
    constexpr bool is_v2() const noexcept { return major == 2; }
    constexpr bool initiator() const noexcept { return flags & flag::initiator; }
    constexpr bool response() const noexcept { return flags & flag::response; }
    constexpr bool encrypted() const noexcept { return major == 1 && (flags & flag::encrypted); }
};

/// Decodes the 28-byte header. Checks the major version (1 or 2) and that the
/// length field is at least 28; not that it matches the datagram (parse() does).
inline result<header> decode_header(bytes_view in, std::size_t base = 0) noexcept {
    reader r(in, base);
    header h;
    h.spi_i = r.u64();
    h.spi_r = r.u64();
    h.next_payload = r.u8();
    std::uint8_t v = r.u8();
    h.major = static_cast<std::uint8_t>(v >> 4);
    h.minor = static_cast<std::uint8_t>(v & 0x0f);
    h.exchange_type = exchange{r.u8()};
    h.flags = r.u8();
    h.message_id = r.u32();
    h.length = r.u32();
    if (r.failed()) return r.fail(errc::truncated, "IKE header");
    if (h.major != 1 && h.major != 2)
        return error(errc::unsupported_version, base + 17, "IKE header version");
    if (h.length < header::size)
        return error(errc::header_length_mismatch, base + 24, "IKE header length");
    return h;
}

/// Writes the header as given (length included; message_builder patches it).
constexpr void encode(writer& w, const header& h) noexcept {
    w.u64(h.spi_i);
    w.u64(h.spi_r);
    w.u8(h.next_payload);
    w.u8(static_cast<std::uint8_t>((h.major << 4) | (h.minor & 0x0f)));
    w.u8(static_cast<std::uint8_t>(h.exchange_type));
    w.u8(h.flags);
    w.u32(h.message_id);
    w.u32(h.length);
}

/// A UDP 4500 datagram carries IKE after four zero bytes (the non-ESP marker);
/// anything else is ESP. Returns the IKE message after the marker.
inline result<bytes_view> strip_non_esp_marker(bytes_view udp_payload) noexcept {
    if (udp_payload.size() < 4) return error(errc::truncated, 0, "non-ESP marker");
    for (std::size_t i = 0; i < 4; ++i)
        if (udp_payload[i] != std::byte{0})
            return error(errc::non_esp_marker_missing, 0, "non-ESP marker");
    return udp_payload.subspan(4);
}

}  // namespace l2sec::ike
