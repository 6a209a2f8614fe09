// L2TPv2 (RFC 2661) error codes: category "l2sec.l2tp".
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::l2tp {

/// Everything the L2TP codecs can report. Encoders report a full caller buffer
/// with the core l2sec::errc::buffer_too_small, and values they cannot encode
/// (an AVP over 1023 octets) with l2sec::errc::invalid_argument.
enum class errc : int {
    truncated = 1,               ///< the input ends inside the header or an AVP field
    bad_version,                 ///< Ver is not 2 (1 is L2F; see l2tpv3 for 3)
    l2tpv3,                      ///< Ver is 3: an L2TPv3 (RFC 3931) packet, not L2TPv2
    reserved_bits_set,           ///< a reserved header or AVP bit is 1
    control_without_length,      ///< T=1 but L=0 (RFC 2661 3.1: L MUST be 1)
    control_without_sequence,    ///< T=1 but S=0 (S MUST be 1)
    control_with_offset,         ///< T=1 and O=1 (O MUST be 0)
    control_with_priority,       ///< T=1 and P=1 (P MUST be 0)
    length_exceeds_buffer,       ///< header Length is larger than the datagram
    length_below_header,         ///< header Length is shorter than the header itself
    offset_exceeds_length,       ///< Offset Size points past the end of the message
    not_control,                 ///< a control message was expected, this is data
    not_data,                    ///< a data message was expected, this is control
    avp_too_short,               ///< AVP Length below 6 (the AVP header)
    avp_overrun,                 ///< AVP Length runs past the end of the message
    first_avp_not_message_type,  ///< RFC 2661 4.1: Message Type MUST be the first AVP
    bad_avp_size,                ///< value size wrong for this attribute ("AVP is incorrect size")
    avp_is_hidden,               ///< typed decode of a hidden AVP: unhide it first
    must_not_be_hidden,  ///< H set on an AVP that may not be hidden (Message Type, Random Vector)
    hidden_without_random_vector,  ///< H set but no Random Vector AVP precedes it
    hidden_too_short,              ///< hidden value shorter than its 2-octet original length
    hidden_bad_length,             ///< decrypted original length exceeds the value (wrong secret?)
    unknown_mandatory_avp,         ///< unrecognised AVP with M set (RFC 2661 4.1)
    unknown_message_type,          ///< Message Type value not defined by RFC 2661
    missing_avp,   ///< an AVP RFC 2661 section 6 requires is absent (field names it)
    hash_not_md5,  ///< hiding or tunnel authentication given a digest that is not 16 octets
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::truncated:
            return "message truncated";
        case errc::bad_version:
            return "unsupported L2TP version (not 2)";
        case errc::l2tpv3:
            return "L2TPv3 packet (version 3)";
        case errc::reserved_bits_set:
            return "reserved bits set";
        case errc::control_without_length:
            return "control message without L bit";
        case errc::control_without_sequence:
            return "control message without S bit";
        case errc::control_with_offset:
            return "control message with O bit";
        case errc::control_with_priority:
            return "control message with P bit";
        case errc::length_exceeds_buffer:
            return "header length exceeds the datagram";
        case errc::length_below_header:
            return "header length shorter than the header";
        case errc::offset_exceeds_length:
            return "offset size exceeds the message";
        case errc::not_control:
            return "not a control message";
        case errc::not_data:
            return "not a data message";
        case errc::avp_too_short:
            return "AVP length below 6 (AVP header)";
        case errc::avp_overrun:
            return "AVP length overruns the message";
        case errc::first_avp_not_message_type:
            return "first AVP is not Message Type";
        case errc::bad_avp_size:
            return "AVP is incorrect size";
        case errc::avp_is_hidden:
            return "AVP is hidden";
        case errc::must_not_be_hidden:
            return "AVP must not be hidden";
        case errc::hidden_without_random_vector:
            return "hidden AVP without preceding Random Vector";
        case errc::hidden_too_short:
            return "hidden AVP value too short";
        case errc::hidden_bad_length:
            return "hidden AVP original length exceeds value (wrong secret?)";
        case errc::unknown_mandatory_avp:
            return "unknown mandatory AVP";
        case errc::unknown_message_type:
            return "unknown message type";
        case errc::missing_avp:
            return "required AVP missing";
        case errc::hash_not_md5:
            return "hash context is not MD5 (16-octet digest)";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec.l2tp";
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<errc>()};
}

}  // namespace l2sec::l2tp

template <>
struct std::is_error_code_enum<l2sec::l2tp::errc> : std::true_type {};
