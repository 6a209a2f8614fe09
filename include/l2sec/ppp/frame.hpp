// PPP frames as carried in L2TP (RFC 2661) or inside HDLC-like framing
// (RFC 1662, without flags/FCS): optional FF 03 address/control field
// (ACFC, RFC 1661 6.6) and a 1- or 2-byte protocol field (PFC, RFC 1661 6.5).
//
//   auto f = l2sec::ppp::decode_frame(payload);       // result<frame_view>
//   if (f && f->protocol == l2sec::ppp::protocol::lcp) ... f->information ...
//
//   auto n = l2sec::ppp::encode_frame(out, ppp::protocol::ip, datagram,
//                                     {.address_control = false, .compress_protocol = true});
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ppp/error.hpp>

#include <cstddef>
#include <cstdint>

namespace l2sec::ppp {

/// PPP protocol numbers (IANA "PPP DLL Protocol Numbers"). Any 16-bit value
/// may be held (unknown protocols pass through): `ppp::protocol{0x8281}`.
enum class protocol : std::uint16_t {
    ip = 0x0021,  ///< IPv4
    vj_compressed = 0x002d,
    vj_uncompressed = 0x002f,
    mp = 0x003d,  ///< Multilink (RFC 1990)
    ipv6 = 0x0057,
    compressed = 0x00fd,  ///< CCP-compressed datagram
    ipcp = 0x8021,
    ecp = 0x8053,
    ipv6cp = 0x8057,
    ccp = 0x80fd,
    lcp = 0xc021,
    pap = 0xc023,
    lqr = 0xc025,
    bacp = 0xc02b,
    bap = 0xc02d,
    chap = 0xc223,
    eap = 0xc227,
};

constexpr std::uint16_t to_underlying(protocol p) noexcept {
    return static_cast<std::uint16_t>(p);
}

/// Short lower-case name ("lcp", "ipcp", "ip", ...) or nullptr when unknown
/// (callers then print the number, e.g. "0x8281").
constexpr const char* protocol_name(protocol p) noexcept {
    switch (p) {
        case protocol::ip:
            return "ip";
        case protocol::vj_compressed:
            return "vj_compressed";
        case protocol::vj_uncompressed:
            return "vj_uncompressed";
        case protocol::mp:
            return "mp";
        case protocol::ipv6:
            return "ipv6";
        case protocol::compressed:
            return "compressed";
        case protocol::ipcp:
            return "ipcp";
        case protocol::ecp:
            return "ecp";
        case protocol::ipv6cp:
            return "ipv6cp";
        case protocol::ccp:
            return "ccp";
        case protocol::lcp:
            return "lcp";
        case protocol::pap:
            return "pap";
        case protocol::lqr:
            return "lqr";
        case protocol::bacp:
            return "bacp";
        case protocol::bap:
            return "bap";
        case protocol::chap:
            return "chap";
        case protocol::eap:
            return "eap";
        default:
            return nullptr;
    }
}

/// RFC 1661 section 2: the low byte is odd and the high byte even.
constexpr bool is_valid_protocol(protocol p) noexcept {
    return (to_underlying(p) & 0x0001u) != 0 && (to_underlying(p) & 0x0100u) == 0;
}
/// Network-layer protocols (0x0xxx-0x3xxx) as opposed to control protocols.
constexpr bool is_network_protocol(protocol p) noexcept {
    return to_underlying(p) < 0x4000;
}
/// Network control protocols (0x8xxx-0xbxxx) and link-layer control (0xcxxx-0xfxxx).
constexpr bool is_control_protocol(protocol p) noexcept {
    return to_underlying(p) >= 0x8000;
}

/// A decoded PPP frame; `information` views the caller's buffer.
struct frame_view {
    ppp::protocol protocol{};
    bytes_view information;            ///< the packet after the protocol field
    bool has_address_control = false;  ///< FF 03 was present
    bool protocol_compressed = false;  ///< the protocol field was one byte
    std::size_t header_size = 0;       ///< bytes before `information` (0-4)
};

/// Decode a frame; `base` is the absolute offset of `data[0]` for errors.
/// Accepts both forms of address/control and protocol field (the receiver
/// MUST accept them once negotiated; being tolerant costs nothing).
/// Errors: truncated, bad_address_control (offset of the control byte),
/// invalid_protocol (offset of the protocol field).
inline result<frame_view> decode_frame(bytes_view data, std::size_t base = 0) noexcept {
    reader r(data, base);
    frame_view f;
    if (r.has(1) && std::to_integer<std::uint8_t>(data[0]) == 0xff) {
        r.skip(1);
        if (!r.has(1)) return r.error_here(errc::truncated, "PPP control");
        if (std::to_integer<std::uint8_t>(data[1]) != 0x03)
            return r.error_here(errc::bad_address_control, "PPP control");
        r.skip(1);
        f.has_address_control = true;
    }
    const std::size_t proto_at = r.offset();
    if (!r.has(1)) return r.error_here(errc::truncated, "PPP protocol");
    const std::uint8_t first = r.u8();
    if (first & 1u) {
        f.protocol = ppp::protocol{first};
        f.protocol_compressed = true;
    } else {
        if (!r.has(1)) return error(errc::truncated, proto_at, "PPP protocol");
        f.protocol = ppp::protocol{static_cast<std::uint16_t>((first << 8) | r.u8())};
        if (!is_valid_protocol(f.protocol))
            return error(errc::invalid_protocol, proto_at, "PPP protocol");
    }
    f.header_size = r.position();
    f.information = r.rest();
    return f;
}

/// How to write the frame header.
struct frame_options {
    bool address_control = true;     ///< write FF 03 (false = ACFC negotiated)
    bool compress_protocol = false;  ///< 1-byte protocol when < 0x100 (PFC negotiated)
};

/// Size of the header encode_frame_header() writes for this protocol.
/// LCP always gets the full form (RFC 1661 6.5/6.6: never compressed).
constexpr std::size_t frame_header_size(protocol proto, frame_options o = {}) noexcept {
    const bool lcp = proto == protocol::lcp;
    return ((o.address_control || lcp) ? 2u : 0u) +
           ((o.compress_protocol && !lcp && to_underlying(proto) < 0x100) ? 1u : 2u);
}

/// Write address/control (if asked, always for LCP) and the protocol field.
/// invalid_argument for a protocol number that is not valid.
inline result<std::size_t> encode_frame_header(writer& w, protocol proto,
                                               frame_options o = {}) noexcept {
    if (!is_valid_protocol(proto)) return error(errc::invalid_protocol, w.size(), "PPP protocol");
    const bool lcp = proto == protocol::lcp;
    const std::size_t start = w.size();
    if (o.address_control || lcp) {
        w.u8(0xff);
        w.u8(0x03);
    }
    if (o.compress_protocol && !lcp && to_underlying(proto) < 0x100)
        w.u8(static_cast<std::uint8_t>(to_underlying(proto)));
    else
        w.u16(to_underlying(proto));
    if (!w) return w.finish("PPP header");
    return w.size() - start;
}

/// Write a whole frame (header + information) into `out`; returns its size.
inline result<std::size_t> encode_frame(mutable_bytes out, protocol proto, bytes_view information,
                                        frame_options o = {}) noexcept {
    writer w(out);
    auto h = encode_frame_header(w, proto, o);
    if (!h) return h.error();
    w.bytes(information);
    return w.finish("PPP information");
}

}  // namespace l2sec::ppp
