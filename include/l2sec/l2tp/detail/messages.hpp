// The L2TP engine's canonical messages, each built in one place: the AVPs
// SCCRQ and SCCRP share (RFC 2661 6.1, 6.2), the call requests (ICRQ 6.6,
// OCRQ 6.9), the connects (ICCN 6.8, OCCN 6.11) and the Result Code of
// StopCCN and CDN. Each function appends to a builder that already holds the
// Message Type (and, where the engine adds one, the Assigned Session ID).
#pragma once

#include <l2sec/l2tp/avp_values.hpp>
#include <l2sec/l2tp/engine_types.hpp>
#include <l2sec/l2tp/message.hpp>

#include <cstdint>
#include <string_view>

namespace l2sec::l2tp::detail {

/// SCCRQ and SCCRP: protocol version, our names and capabilities, our tunnel
/// ID and receive window (tie breaker and Challenge are the engine's).
inline void add_tunnel_avps(message_builder& b, const engine_config& cfg, std::uint16_t local_tid,
                            std::uint16_t receive_window) noexcept {
    b.add(avps::protocol_version{});
    b.add(avps::host_name{as_bytes(cfg.host_name)});
    b.add(avps::framing_capabilities{avps::framing::sync | avps::framing::async});
    b.add(avps::bearer_capabilities{avps::bearer::digital | avps::bearer::analog});
    b.add(avps::firmware_revision{0x0100});
    b.add(avps::vendor_name{as_bytes(cfg.vendor_name)});
    b.add(avps::assigned_tunnel_id{local_tid});
    b.add(avps::receive_window_size{receive_window});
}

/// ICRQ (a LAC's incoming call) or OCRQ (an LNS's outgoing call), after the
/// Assigned Session ID.
inline void add_call_request_avps(message_builder& b, const engine_config& cfg, bool outgoing_call,
                                  std::uint32_t serial, std::string_view called_number) noexcept {
    b.add(avps::call_serial_number{serial});
    if (outgoing_call) {
        b.add(avps::minimum_bps{0}).add(avps::maximum_bps{cfg.tx_connect_speed});
        b.add(avps::bearer_type{avps::bearer::digital | avps::bearer::analog})
            .add(avps::framing_type{avps::framing::sync | avps::framing::async});
        b.add(avps::called_number{as_bytes(called_number)});
    } else {
        b.add(avps::bearer_type{avps::bearer::digital | avps::bearer::analog});
        if (!called_number.empty()) b.add(avps::called_number{as_bytes(called_number)});
    }
}

/// ICCN or OCCN: connect speed, framing, and Sequencing Required when we
/// want sequenced data.
inline void add_connected_avps(message_builder& b, const engine_config& cfg) noexcept {
    b.add(avps::tx_connect_speed{cfg.tx_connect_speed});
    b.add(avps::framing_type{avps::framing::sync});
    if (cfg.sequencing_required) b.add(avps::sequencing_required{});
}

/// The Result Code of StopCCN and CDN; the General Error Code only when set.
inline void add_result(message_builder& b, std::uint16_t result,
                       std::uint16_t error_code) noexcept {
    b.add(avps::result_code{result, error_code != 0, error_code, {}});
}

}  // namespace l2sec::l2tp::detail
