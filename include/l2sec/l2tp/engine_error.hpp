// Why the L2TP engine dropped a datagram or refused a command: category
// "l2sec.l2tp.engine". Decoding errors keep their own codes (l2tp::errc,
// category "l2sec.l2tp"); these are the engine's protocol decisions.
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::l2tp {

/// What l2tp::engine reports in a result's error (and counts in
/// engine_stats::dropped when it drops a datagram). The error's `offset`
/// points at the header field involved where there is one.
enum class engine_errc : int {
    unknown_tunnel = 1,  ///< the Tunnel ID names no tunnel of ours (offset 4)
    unknown_session,     ///< the Session ID names no established session of that tunnel
    wrong_peer,          ///< the datagram comes from another address than the tunnel's peer
    stale_ns,         ///< a sequenced data message older than the last one received (offset of Ns)
    tunnel_id_zero,   ///< Tunnel ID 0 on something other than an SCCRQ
    refused,          ///< an SCCRQ while accept_tunnels is off
    half_open_limit,  ///< an SCCRQ over the half-open limit for its peer address
    tunnel_not_established,   ///< a command that needs an established tunnel (open_session)
    session_not_established,  ///< encode_data on a session that is not up
    no_such_tunnel,           ///< a command named a tunnel ID that is not in use
    no_such_session,          ///< a command named a session ID that is not in use
    out_of_tunnels,           ///< every tunnel slot is in use (limits::tunnels)
    out_of_sessions,          ///< every session slot is in use (limits::sessions)
    random_failed,            ///< the random source could not fill a Challenge or tie breaker
};

constexpr const char* to_string(engine_errc e) noexcept {
    switch (e) {
        case engine_errc::unknown_tunnel:
            return "unknown tunnel ID";
        case engine_errc::unknown_session:
            return "unknown or unestablished session ID";
        case engine_errc::wrong_peer:
            return "datagram from another address than the tunnel's peer";
        case engine_errc::stale_ns:
            return "stale Ns in a sequenced data message";
        case engine_errc::tunnel_id_zero:
            return "tunnel ID 0 without SCCRQ";
        case engine_errc::refused:
            return "SCCRQ refused (not accepting tunnels)";
        case engine_errc::half_open_limit:
            return "SCCRQ over the half-open tunnel limit for its peer";
        case engine_errc::tunnel_not_established:
            return "tunnel not established";
        case engine_errc::session_not_established:
            return "session not established";
        case engine_errc::no_such_tunnel:
            return "no such tunnel";
        case engine_errc::no_such_session:
            return "no such session";
        case engine_errc::out_of_tunnels:
            return "no free tunnel slot";
        case engine_errc::out_of_sessions:
            return "no free session slot";
        case engine_errc::random_failed:
            return "random source failed";
    }
    return "unknown error";
}
constexpr const char* category_name(engine_errc) noexcept {
    return "l2sec.l2tp.engine";
}

inline std::error_code make_error_code(engine_errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<engine_errc>()};
}

}  // namespace l2sec::l2tp

template <>
struct std::is_error_code_enum<l2sec::l2tp::engine_errc> : std::true_type {};
