// CHAP (RFC 1994 section 4): Challenge/Response (Value + Name) and
// Success/Failure (Message). MS-CHAPv2 (RFC 2759) uses the same packets with
// a 49-byte Response value and a structured Success message; helpers below
// split them (the MS-CHAPv2 crypto lives with the authentication engine).
//
//   auto p = chap::decode(frame.information, off);
//   if (p && p->code == chap::code::challenge) answer(p->identifier, p->value, p->name);
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ppp/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace l2sec::ppp::chap {

enum class code : std::uint8_t {
    challenge = 1,
    response = 2,
    success = 3,
    failure = 4,
};

/// "challenge", "response", "success", "failure" or nullptr.
constexpr const char* code_name(code c) noexcept {
    switch (c) {
        case code::challenge:
            return "challenge";
        case code::response:
            return "response";
        case code::success:
            return "success";
        case code::failure:
            return "failure";
    }
    return nullptr;
}

/// A decoded CHAP packet; the views point into the caller's buffer.
struct packet_view {
    chap::code code{};
    std::uint8_t identifier = 0;
    std::uint16_t length = 0;
    bytes_view value;    ///< Challenge/Response
    bytes_view name;     ///< Challenge/Response: the rest of the packet
    bytes_view message;  ///< Success/Failure: the rest of the packet
    std::size_t offset = 0;
};

/// Decode a CHAP packet. Errors: truncated (< 4 bytes), length_too_short
/// (Length < 4, or a Challenge/Response without Value-Size; at the Length
/// field), length_exceeds_buffer, field_overrun (Value-Size past the end; at
/// the Value-Size byte), unknown_code (at the Code byte).
inline result<packet_view> decode(bytes_view data, std::size_t base = 0) noexcept {
    reader hr(data, base);
    packet_view p;
    p.offset = base;
    p.code = chap::code{hr.u8()};
    p.identifier = hr.u8();
    p.length = hr.u16();
    if (!hr) return hr.fail(errc::truncated, "CHAP header");
    if (p.length < 4) return error(errc::length_too_short, base + 2, "CHAP length");
    if (p.length > data.size()) return error(errc::length_exceeds_buffer, base + 2, "CHAP length");
    reader r(data.subspan(4, p.length - 4u), base + 4);
    switch (p.code) {
        case code::challenge:
        case code::response: {
            if (r.empty()) return error(errc::length_too_short, base + 2, "CHAP Value-Size");
            const std::size_t at = r.offset();
            const std::size_t n = r.u8();
            if (r.remaining() < n) return error(errc::field_overrun, at, "CHAP Value-Size");
            p.value = r.bytes(n);
            p.name = r.rest();
            break;
        }
        case code::success:
        case code::failure:
            p.message = r.rest();
            break;
        default:
            return error(errc::unknown_code, base, "CHAP code");
    }
    return p;
}

/// Challenge or Response. invalid_argument when value exceeds 255 bytes or
/// the packet 65535.
inline result<std::size_t> encode_value(mutable_bytes out, code c, std::uint8_t id,
                                        bytes_view value, bytes_view name) noexcept {
    if (value.size() > 255 || 5 + value.size() + name.size() > 0xffff)
        return error(l2sec::errc::invalid_argument, 0, "CHAP Value-Size");
    writer w(out);
    w.u8(static_cast<std::uint8_t>(c));
    w.u8(id);
    w.u16(static_cast<std::uint16_t>(5 + value.size() + name.size()));
    w.u8(static_cast<std::uint8_t>(value.size()));
    w.bytes(value);
    w.bytes(name);
    return w.finish("CHAP Challenge/Response");
}

/// Success or Failure with a message.
inline result<std::size_t> encode_result(mutable_bytes out, code c, std::uint8_t id,
                                         bytes_view message = {}) noexcept {
    if (4 + message.size() > 0xffff) return error(l2sec::errc::invalid_argument, 0, "CHAP Message");
    writer w(out);
    w.u8(static_cast<std::uint8_t>(c));
    w.u8(id);
    w.u16(static_cast<std::uint16_t>(4 + message.size()));
    w.bytes(message);
    return w.finish("CHAP Success/Failure");
}

// ------------------------------------------------------------ MS-CHAPv2 shapes

/// The 49-byte MS-CHAPv2 Response value (RFC 2759 section 4).
struct ms_chap_v2_response {
    bytes_view peer_challenge;  ///< 16 bytes
    bytes_view reserved;        ///< 8 bytes, zero
    bytes_view nt_response;     ///< 24 bytes
    std::uint8_t flags = 0;     ///< zero
};
/// Split a Response value: l2sec::errc::length_mismatch at `value_offset`
/// when it is not 49 bytes.
inline result<ms_chap_v2_response> parse_ms_chap_v2_response(
    bytes_view value, std::size_t value_offset = 0) noexcept {
    if (value.size() != 49)
        return error(l2sec::errc::length_mismatch, value_offset, "MS-CHAPv2 Response");
    return ms_chap_v2_response{value.subspan(0, 16), value.subspan(16, 8), value.subspan(24, 24),
                               std::to_integer<std::uint8_t>(value[48])};
}

/// The MS-CHAPv2 Success message "S=<40 hex digits>" optionally followed by " M=<text>".
/// Errors (core errc): length_mismatch when there is no "S=" + 40 characters,
/// invalid_argument at the first non-hex digit.
struct ms_chap_v2_success {
    std::string_view authenticator_response;  ///< the 40 hex digits after "S="
    std::string_view message;                 ///< text after " M=" (may be empty)
};
inline result<ms_chap_v2_success> parse_ms_chap_v2_success(bytes_view message,
                                                           std::size_t offset = 0) noexcept {
    const std::string_view s = as_chars(message);
    auto is_hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    if (s.size() < 42 || s[0] != 'S' || s[1] != '=')
        return error(l2sec::errc::length_mismatch, offset, "MS-CHAPv2 Success S=");
    for (std::size_t i = 2; i < 42; ++i)
        if (!is_hex(s[i]))
            return error(l2sec::errc::invalid_argument, offset + i, "MS-CHAPv2 Success S=");
    ms_chap_v2_success out{s.substr(2, 40), {}};
    std::string_view rest = s.substr(42);
    if (rest.size() >= 3 && rest.substr(0, 3) == " M=")
        out.message = rest.substr(3);
    else if (rest.size() >= 2 && rest.substr(0, 2) == "M=")
        out.message = rest.substr(2);
    return out;
}

/// The MS-CHAPv2 Failure message (RFC 2759 section 6):
/// "E=eeeeeeeeee R=r C=cccccccccccccccccccccccccccccccc V=vvvvvvvvvv M=<msg>".
/// C= (32 hex digits: the next challenge) and V= are optional in practice;
/// M= takes the rest of the message.
struct ms_chap_v2_failure {
    std::uint32_t error = 0;     ///< E=: 646 restricted hours, 647 disabled, 648 expired,
                                 ///< 649 no dial-in permission, 691 failure, 709 change password
    bool retry = false;          ///< R=1: the peer may retry
    std::string_view challenge;  ///< C=: 32 hex digits, or empty
    std::uint32_t version = 0;   ///< V=
    std::string_view message;    ///< M=: the rest, or empty
};
/// Errors (core errc): invalid_argument at the offending token (offset is
/// `offset` plus its position), length_mismatch when E= is missing.
inline result<ms_chap_v2_failure> parse_ms_chap_v2_failure(bytes_view message,
                                                           std::size_t offset = 0) noexcept {
    const std::string_view s = as_chars(message);
    ms_chap_v2_failure f;
    bool have_error = false;
    std::size_t i = 0;
    auto number = [](std::string_view v, std::uint32_t& out) {
        if (v.empty() || v.size() > 9) return false;
        std::uint32_t n = 0;
        for (char c : v) {
            if (c < '0' || c > '9') return false;
            n = n * 10 + static_cast<std::uint32_t>(c - '0');
        }
        out = n;
        return true;
    };
    while (i < s.size()) {
        if (s[i] == ' ') {
            ++i;
            continue;
        }
        if (s.size() - i < 2 || s[i + 1] != '=')
            return error(l2sec::errc::invalid_argument, offset + i, "MS-CHAPv2 Failure");
        const char key = s[i];
        if (key == 'M') {
            f.message = s.substr(i + 2);
            break;
        }
        std::size_t end = s.find(' ', i);
        if (end == std::string_view::npos) end = s.size();
        const std::string_view v = s.substr(i + 2, end - i - 2);
        bool ok = true;
        std::uint32_t r = 0;
        switch (key) {
            case 'E':
                ok = number(v, f.error);
                have_error = ok;
                break;
            case 'R':
                ok = number(v, r) && r <= 1;
                f.retry = r == 1;
                break;
            case 'V':
                ok = number(v, f.version);
                break;
            case 'C':
                ok = v.size() == 32;
                for (char c : v)
                    ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                                (c >= 'A' && c <= 'F'));
                f.challenge = v;
                break;
            default:
                break;  // unknown keys are skipped
        }
        if (!ok) return error(l2sec::errc::invalid_argument, offset + i, "MS-CHAPv2 Failure");
        i = end;
    }
    if (!have_error) return error(l2sec::errc::length_mismatch, offset, "MS-CHAPv2 Failure E=");
    return f;
}

}  // namespace l2sec::ppp::chap
