// PAP (RFC 1334 section 2): Authenticate-Request (Peer-ID + Password) and
// Authenticate-Ack/Nak (Message).
//
//   auto p = pap::decode(frame.information, off);
//   if (p && p->code == pap::code::authenticate_request) check(p->peer_id, p->password);
//   auto n = pap::encode_reply(out, pap::code::authenticate_ack, p->identifier,
//   as_bytes("welcome"));
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ppp/error.hpp>

#include <cstddef>
#include <cstdint>

namespace l2sec::ppp::pap {

enum class code : std::uint8_t {
    authenticate_request = 1,
    authenticate_ack = 2,
    authenticate_nak = 3,
};

/// "authenticate_request", "authenticate_ack", "authenticate_nak" or nullptr.
constexpr const char* code_name(code c) noexcept {
    switch (c) {
        case code::authenticate_request:
            return "authenticate_request";
        case code::authenticate_ack:
            return "authenticate_ack";
        case code::authenticate_nak:
            return "authenticate_nak";
    }
    return nullptr;
}

/// A decoded PAP packet; the views point into the caller's buffer.
struct packet_view {
    pap::code code{};
    std::uint8_t identifier = 0;
    std::uint16_t length = 0;
    bytes_view peer_id;   ///< Authenticate-Request
    bytes_view password;  ///< Authenticate-Request
    bytes_view message;   ///< Authenticate-Ack/Nak
    std::size_t offset = 0;
};

/// Decode a PAP packet. Errors: truncated (< 4 bytes), length_too_short
/// (Length < 4, or no room for a Peer-ID/Passwd length byte; at the Length
/// field), length_exceeds_buffer, field_overrun (at the inner length byte),
/// unknown_code (at the Code byte). Tolerates an Ack/Nak without Msg-Length
/// (empty message) and bytes after the fields within Length.
inline result<packet_view> decode(bytes_view data, std::size_t base = 0) noexcept {
    reader hr(data, base);
    packet_view p;
    p.offset = base;
    p.code = pap::code{hr.u8()};
    p.identifier = hr.u8();
    p.length = hr.u16();
    if (!hr) return hr.fail(errc::truncated, "PAP header");
    if (p.length < 4) return error(errc::length_too_short, base + 2, "PAP length");
    if (p.length > data.size()) return error(errc::length_exceeds_buffer, base + 2, "PAP length");
    reader r(data.subspan(4, p.length - 4u), base + 4);
    auto counted = [&](bytes_view& out, const char* field) -> result<void> {
        if (r.empty()) return error(errc::length_too_short, base + 2, field);
        const std::size_t at = r.offset();
        const std::size_t n = r.u8();
        if (r.remaining() < n) return error(errc::field_overrun, at, field);
        out = r.bytes(n);
        return {};
    };
    switch (p.code) {
        case code::authenticate_request:
            if (auto v = counted(p.peer_id, "PAP Peer-ID"); !v) return v.error();
            if (auto v = counted(p.password, "PAP Password"); !v) return v.error();
            break;
        case code::authenticate_ack:
        case code::authenticate_nak:
            if (!r.empty())
                if (auto v = counted(p.message, "PAP Message"); !v) return v.error();
            break;
        default:
            return error(errc::unknown_code, base, "PAP code");
    }
    return p;
}

/// Authenticate-Request. invalid_argument when peer_id or password exceed 255 bytes.
inline result<std::size_t> encode_request(mutable_bytes out, std::uint8_t id, bytes_view peer_id,
                                          bytes_view password) noexcept {
    if (peer_id.size() > 255 || password.size() > 255)
        return error(l2sec::errc::invalid_argument, 0, "PAP Peer-ID/Password length");
    writer w(out);
    w.u8(static_cast<std::uint8_t>(code::authenticate_request));
    w.u8(id);
    w.u16(static_cast<std::uint16_t>(6 + peer_id.size() + password.size()));
    w.u8(static_cast<std::uint8_t>(peer_id.size()));
    w.bytes(peer_id);
    w.u8(static_cast<std::uint8_t>(password.size()));
    w.bytes(password);
    return w.finish("PAP Authenticate-Request");
}

/// Authenticate-Ack or -Nak with a message (<= 255 bytes).
inline result<std::size_t> encode_reply(mutable_bytes out, code c, std::uint8_t id,
                                        bytes_view message = {}) noexcept {
    if (message.size() > 255) return error(l2sec::errc::invalid_argument, 0, "PAP Message length");
    writer w(out);
    w.u8(static_cast<std::uint8_t>(c));
    w.u8(id);
    w.u16(static_cast<std::uint16_t>(5 + message.size()));
    w.u8(static_cast<std::uint8_t>(message.size()));
    w.bytes(message);
    return w.finish("PAP Authenticate-Ack/Nak");
}

}  // namespace l2sec::ppp::pap
