// Which AVPs each control message must carry (RFC 2661 section 6), and a
// validate() that checks a parsed message against it.
#pragma once

#include <l2sec/core/result.hpp>
#include <l2sec/l2tp/avp.hpp>
#include <l2sec/l2tp/error.hpp>
#include <l2sec/l2tp/message.hpp>

#include <array>
#include <cstddef>
#include <span>

namespace l2sec::l2tp {

/// The AVPs RFC 2661 section 6 lists as required for message type t (besides
/// Message Type itself, which parse() already requires first). Empty for
/// unknown types.
namespace detail::required {
inline constexpr avp_type sccrq[] = {avp_type::protocol_version, avp_type::host_name,
                                     avp_type::framing_capabilities, avp_type::assigned_tunnel_id};
inline constexpr avp_type sccrp[] = {avp_type::protocol_version, avp_type::framing_capabilities,
                                     avp_type::host_name, avp_type::assigned_tunnel_id};
inline constexpr avp_type stopccn[] = {avp_type::assigned_tunnel_id, avp_type::result_code};
inline constexpr avp_type icrq[] = {avp_type::assigned_session_id, avp_type::call_serial_number};
inline constexpr avp_type icrp[] = {avp_type::assigned_session_id};
inline constexpr avp_type iccn[] = {avp_type::tx_connect_speed, avp_type::framing_type};
inline constexpr avp_type ocrq[] = {avp_type::assigned_session_id, avp_type::call_serial_number,
                                    avp_type::minimum_bps,         avp_type::maximum_bps,
                                    avp_type::bearer_type,         avp_type::framing_type,
                                    avp_type::called_number};
inline constexpr avp_type ocrp[] = {avp_type::assigned_session_id};
inline constexpr avp_type occn[] = {avp_type::tx_connect_speed, avp_type::framing_type};
inline constexpr avp_type cdn[] = {avp_type::result_code, avp_type::assigned_session_id};
inline constexpr avp_type wen[] = {avp_type::call_errors};
inline constexpr avp_type sli[] = {avp_type::accm};
}  // namespace detail::required

constexpr std::span<const avp_type> required_avps(message_type t) noexcept {
    switch (t) {
        case message_type::sccrq:
            return detail::required::sccrq;
        case message_type::sccrp:
            return detail::required::sccrp;
        case message_type::scccn:
            return {};
        case message_type::stopccn:
            return detail::required::stopccn;
        case message_type::hello:
            return {};
        case message_type::ocrq:
            return detail::required::ocrq;
        case message_type::ocrp:
            return detail::required::ocrp;
        case message_type::occn:
            return detail::required::occn;
        case message_type::icrq:
            return detail::required::icrq;
        case message_type::icrp:
            return detail::required::icrp;
        case message_type::iccn:
            return detail::required::iccn;
        case message_type::cdn:
            return detail::required::cdn;
        case message_type::wen:
            return detail::required::wen;
        case message_type::sli:
            return detail::required::sli;
    }
    return {};
}

/// Check a parsed control message against RFC 2661 section 6. Errors:
/// not_control (offset 0) for data messages; unknown_message_type (at the
/// Message Type AVP); missing_avp with the missing AVP's name as field and the
/// message end as offset; bad_avp_size / avp_is_hidden... are not checked here
/// (decode each AVP for that). A ZLB is valid.
inline result<void> validate(const message_view& m) noexcept {
    if (!m.is_control()) return error(errc::not_control, 0, "T bit");
    if (m.is_zlb()) return {};
    const avp_view first = *m.avps().begin();
    if (!is_known(m.type()))
        return error(errc::unknown_message_type, first.offset(), "Message Type");
    for (avp_type t : required_avps(m.type()))
        if (!m.find(t)) return error(errc::missing_avp, m.bytes().size(), to_string(t));
    return {};
}

}  // namespace l2sec::l2tp
