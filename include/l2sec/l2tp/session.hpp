// Session (call) state of the L2TP engine, RFC 2661 section 7.4. Small on
// purpose: an engine holds tens of thousands.
#pragma once

#include <l2sec/core/intrusive_list.hpp>

#include <cstdint>

namespace l2sec::l2tp {

enum class session_state : std::uint8_t {
    idle,          ///< slot free
    wait_reply,    ///< ICRQ or OCRQ sent
    wait_connect,  ///< ICRP or OCRP sent (LNS: waiting for ICCN/OCCN)
    established,
};

constexpr const char* to_string(session_state s) noexcept {
    switch (s) {
        case session_state::idle:
            return "idle";
        case session_state::wait_reply:
            return "wait-reply";
        case session_state::wait_connect:
            return "wait-connect";
        case session_state::established:
            return "established";
    }
    return "?";
}

/// What a user may know about a session (engine::session_info returns a copy).
struct session_view {
    session_state state = session_state::idle;
    bool outgoing = false;     ///< an outgoing call (OCRQ) rather than incoming (ICRQ)
    bool sequencing = false;   ///< data messages carry Ns/Nr
    std::uint16_t tunnel = 0;  ///< local tunnel ID
    std::uint16_t local_id = 0;
    std::uint16_t peer_id = 0;
    std::uint32_t serial = 0;  ///< Call Serial Number
};

/// One call: the engine's internal record, the view plus the data sequence
/// numbers and the link on its tunnel's list of sessions.
struct session : session_view {
    std::uint16_t data_ns = 0;
    std::uint16_t data_nr = 0;
    list_hook hook{};  ///< on its tunnel's list of sessions
};

}  // namespace l2sec::l2tp
