// Tunnel (control connection) state of the L2TP engine, RFC 2661 section 7.2.
#pragma once

#include <l2sec/core/clock.hpp>
#include <l2sec/core/intrusive_list.hpp>
#include <l2sec/l2tp/result_codes.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2sec::l2tp {

enum class tunnel_state : std::uint8_t {
    idle,            ///< slot free
    wait_ctl_reply,  ///< initiator: SCCRQ sent
    wait_ctl_conn,   ///< responder: SCCRP sent
    established,
    closing,      ///< we sent StopCCN; waiting for its acknowledgement
    closed_wait,  ///< peer sent StopCCN; kept a while to acknowledge retransmissions
};

constexpr const char* to_string(tunnel_state s) noexcept {
    switch (s) {
        case tunnel_state::idle:
            return "idle";
        case tunnel_state::wait_ctl_reply:
            return "wait-ctl-reply";
        case tunnel_state::wait_ctl_conn:
            return "wait-ctl-conn";
        case tunnel_state::established:
            return "established";
        case tunnel_state::closing:
            return "closing";
        case tunnel_state::closed_wait:
            return "closed-wait";
    }
    return "?";
}

/// One control connection: the engine's internal record (users read a
/// tunnel_view, engine::tunnel_info). `Channel` is the reliable control channel type.
///
/// 64-aligned, with what a data message reads (peer) and writes (last_rx) in
/// the first cache line: with thousands of tunnels each data message finds its
/// tunnel cold, and a second line is a second miss.
template <class Channel>
struct alignas(64) tunnel {
    tunnel_state state = tunnel_state::idle;
    bool initiator = false;
    bool challenged = false;    ///< we sent a Challenge and expect a response
    bool answer_ready = false;  ///< responder: the SCCRQ was answered (SCCRP queued)
    std::uint16_t local_id = 0;
    std::uint16_t peer_id = 0;
    std::uint16_t result_code = 0;  ///< of the StopCCN we sent (closing)
    std::uint64_t tie_breaker = 0;
    transport::endpoint peer{};
    time_point last_rx{};
    std::array<std::byte, 16> challenge{};  ///< the Challenge we sent
    std::array<char, 32> peer_host{};       ///< the peer's Host Name (truncated)
    intrusive_list calls{};                 ///< this tunnel's sessions (by local session ID)
    list_hook half_open{};                  ///< on the engine's list of half-open tunnels
    time_point hold_until{};                ///< closed_wait: freed then
    time_point half_open_until{};           ///< wait_ctl_conn: dropped then, unless SCCCN came
    Channel channel{};
};

}  // namespace l2sec::l2tp
