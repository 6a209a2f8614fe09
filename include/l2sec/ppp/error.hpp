// Errors of the PPP codecs (frames, HDLC framing, LCP/IPCP/IPV6CP, PAP, CHAP).
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::ppp {

enum class errc : int {
    truncated = 1,            ///< input ended before a field that must be there
    bad_address_control,      ///< 0xFF address not followed by the 0x03 control byte
    invalid_protocol,         ///< protocol field not odd in its low byte / even in its high byte
    length_too_short,         ///< packet Length field below the 4-byte header (or code minimum)
    length_exceeds_buffer,    ///< packet Length field larger than the bytes available
    option_length_too_short,  ///< option Length below 2
    option_overrun,           ///< option Length runs past the end of the packet
    option_bad_length,        ///< option Length not allowed for that option type
    field_overrun,            ///< an inner length (PAP peer-id, CHAP value...) runs past the packet
    unknown_code,             ///< a code the protocol does not define (where it must be known)
    bad_fcs,                  ///< HDLC frame check sequence does not verify
    frame_too_long,           ///< HDLC frame larger than the caller's buffer
    frame_aborted,            ///< HDLC abort sequence (0x7D 0x7E)
    runt_frame,               ///< HDLC frame shorter than the minimum (RFC 1662 4.3)
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::truncated:
            return "input truncated";
        case errc::bad_address_control:
            return "address 0xFF not followed by control 0x03";
        case errc::invalid_protocol:
            return "invalid PPP protocol number";
        case errc::length_too_short:
            return "packet length below the minimum";
        case errc::length_exceeds_buffer:
            return "packet length exceeds the data";
        case errc::option_length_too_short:
            return "option length below 2";
        case errc::option_overrun:
            return "option runs past the end of the packet";
        case errc::option_bad_length:
            return "option length invalid for its type";
        case errc::field_overrun:
            return "field length runs past the end of the packet";
        case errc::unknown_code:
            return "unknown packet code";
        case errc::bad_fcs:
            return "bad frame check sequence";
        case errc::frame_too_long:
            return "frame longer than the buffer";
        case errc::frame_aborted:
            return "frame aborted";
        case errc::runt_frame:
            return "frame too short";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec.ppp";
}

inline const std::error_category& ppp_category() noexcept {
    return l2sec::detail::category_of<errc>();
}
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), ppp_category()};
}

}  // namespace l2sec::ppp

template <>
struct std::is_error_code_enum<l2sec::ppp::errc> : std::true_type {};
