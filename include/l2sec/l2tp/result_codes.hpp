// RFC 2661 4.4.2 Result Codes (StopCCN, CDN) and General Error Codes, and
// 4.4.5 Proxy Authen Types: one set of names, used by the codecs
// (avps::result_code) and the engine alike, and their descriptions.
#pragma once

#include <l2sec/l2tp/avp.hpp>

#include <cstdint>

namespace l2sec::l2tp {

/// Result Code values (RFC 2661 4.4.2) in StopCCN.
namespace stopccn_result {
inline constexpr std::uint16_t general_request =
    1;                                              ///< general request to clear control connection
inline constexpr std::uint16_t general_error = 2;   ///< general error, Error Code says which
inline constexpr std::uint16_t already_exists = 3;  ///< control channel already exists
inline constexpr std::uint16_t not_authorized = 4;  ///< requester not authorized
inline constexpr std::uint16_t unsupported_version = 5;  ///< protocol version not supported
inline constexpr std::uint16_t bad_protocol_version = unsupported_version;  ///< older name
inline constexpr std::uint16_t shutting_down = 6;  ///< requester is being shut down
inline constexpr std::uint16_t fsm_error = 7;      ///< finite state machine error
}  // namespace stopccn_result
/// Result Code values (RFC 2661 4.4.2) in CDN.
namespace cdn_result {
inline constexpr std::uint16_t lost_carrier = 1;
inline constexpr std::uint16_t general_error = 2;  ///< reason in the Error Code
inline constexpr std::uint16_t administrative = 3;
inline constexpr std::uint16_t admin = administrative;  ///< older name
inline constexpr std::uint16_t no_facilities_temporary = 4;
inline constexpr std::uint16_t no_facilities_permanent = 5;
inline constexpr std::uint16_t temporary_lack_of_resources =
    no_facilities_temporary;  ///< older name
inline constexpr std::uint16_t permanent_lack_of_resources =
    no_facilities_permanent;  ///< older name
inline constexpr std::uint16_t invalid_destination = 6;
inline constexpr std::uint16_t no_carrier = 7;
inline constexpr std::uint16_t busy = 8;
inline constexpr std::uint16_t no_dial_tone = 9;
inline constexpr std::uint16_t timeout = 10;
inline constexpr std::uint16_t no_framing = 11;
}  // namespace cdn_result
/// General Error Codes (RFC 2661 4.4.2), the Result Code's optional Error Code.
namespace general_error {
inline constexpr std::uint16_t none = 0;
inline constexpr std::uint16_t no_control_connection = 1;
inline constexpr std::uint16_t bad_length = 2;
inline constexpr std::uint16_t bad_value = 3;  ///< field out of range or reserved field non-zero
inline constexpr std::uint16_t length_wrong = bad_length;       ///< older name
inline constexpr std::uint16_t value_out_of_range = bad_value;  ///< older name
inline constexpr std::uint16_t insufficient_resources = 4;
inline constexpr std::uint16_t invalid_session_id = 5;
inline constexpr std::uint16_t vendor_specific = 6;
inline constexpr std::uint16_t try_another = 7;
inline constexpr std::uint16_t unknown_mandatory_avp =
    8;  ///< shut down on an unknown AVP with M set
}  // namespace general_error
/// Proxy Authen Type values (RFC 2661 4.4.5).
namespace proxy_authen {
inline constexpr std::uint16_t textual = 1;  ///< textual username/password exchange
inline constexpr std::uint16_t chap = 2;
inline constexpr std::uint16_t pap = 3;
inline constexpr std::uint16_t none = 4;
inline constexpr std::uint16_t mschap_v1 = 5;
}  // namespace proxy_authen

/// Short descriptions of Result Code values for a message type (StopCCN or
/// CDN), of General Error Codes and Proxy Authen Types; "unknown" otherwise.
constexpr const char* result_code_name(l2tp::message_type t, std::uint16_t result) noexcept {
    if (t == l2tp::message_type::stopccn) {
        switch (result) {
            case 1:
                return "General request to clear control connection";
            case 2:
                return "General error";
            case 3:
                return "Control channel already exists";
            case 4:
                return "Requester is not authorized";
            case 5:
                return "Protocol version not supported";
            case 6:
                return "Requester is being shut down";
            case 7:
                return "Finite State Machine error";
            default:
                return "unknown";
        }
    }
    if (t == l2tp::message_type::cdn) {
        switch (result) {
            case 1:
                return "Loss of carrier";
            case 2:
                return "General error";
            case 3:
                return "Administrative reasons";
            case 4:
                return "Lack of facilities (temporary)";
            case 5:
                return "Lack of facilities (permanent)";
            case 6:
                return "Invalid destination";
            case 7:
                return "No carrier detected";
            case 8:
                return "Busy signal";
            case 9:
                return "No dial tone";
            case 10:
                return "Not established in time";
            case 11:
                return "No framing detected";
            default:
                return "unknown";
        }
    }
    return "unknown";
}
constexpr const char* general_error_name(std::uint16_t e) noexcept {
    switch (e) {
        case 0:
            return "No general error";
        case 1:
            return "No control connection exists yet";
        case 2:
            return "Length is wrong";
        case 3:
            return "Field value out of range or reserved field non-zero";
        case 4:
            return "Insufficient resources";
        case 5:
            return "Invalid Session ID";
        case 6:
            return "Vendor-specific error";
        case 7:
            return "Try another";
        case 8:
            return "Unknown mandatory AVP";
        default:
            return "unknown";
    }
}
constexpr const char* proxy_authen_type_name(std::uint16_t t) noexcept {
    switch (t) {
        case 0:
            return "Reserved";
        case 1:
            return "Textual username/password";
        case 2:
            return "PPP CHAP";
        case 3:
            return "PPP PAP";
        case 4:
            return "No Authentication";
        case 5:
            return "Microsoft CHAP Version 1";
        default:
            return "unknown";
    }
}

}  // namespace l2sec::l2tp
