// The L2TP engine's vocabulary: its capacities (limits), configuration,
// events, the datagrams and payloads it hands back, its counters, and the
// read-only views of a tunnel and a session that users get instead of the
// engine's internal records.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/error.hpp>
#include <l2sec/l2tp/control_channel.hpp>
#include <l2sec/l2tp/session.hpp>
#include <l2sec/l2tp/tunnel.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace l2sec::l2tp {

/// Capacities, fixed at compile time: tunnels, sessions, and the control
/// channel's send slots, receive window and largest message.
template <std::size_t Tunnels, std::size_t Sessions, std::size_t SendSlots = 8,
          std::size_t RecvWindow = 8, std::size_t MaxMessage = 512>
struct limits {
    static_assert(Tunnels > 0 && Tunnels < 65535 && Sessions > 0 && Sessions < 65535,
                  "l2tp::limits: tunnel and session IDs are 16 bits (1..65534)");
    static constexpr std::size_t tunnels = Tunnels;
    static constexpr std::size_t sessions = Sessions;
    using channel = control_channel<SendSlots, RecvWindow, MaxMessage>;
};
using default_limits = limits<64, 512>;
/// A carrier-sized engine: 10,000 tunnels and 60,000 sessions (heap-allocate it).
using carrier_limits = limits<10000, 60000, 4, 4, 384>;

struct engine_config {
    std::string_view host_name = "l2sec";
    std::string_view vendor_name = "l2sec";
    bytes_view secret{};               ///< tunnel secret: Challenge/Response and hidden AVPs
    bool hide_avps = false;            ///< hide Assigned Session ID when a secret is set
    bool accept_tunnels = true;        ///< answer SCCRQs (LNS, or a LAC accepting OCRQs)
    bool send_tie_breaker = true;      ///< include a Tie Breaker AVP in SCCRQ
    bool sequencing_required = false;  ///< ask for sequenced data (ICCN/OCCN AVP)
    std::uint32_t tx_connect_speed = 100000000;
    duration hello_interval = std::chrono::seconds(60);
    duration hold_time =
        std::chrono::seconds(31);  ///< keep a peer-closed tunnel to ACK retransmissions
    control_channel_config channel{};

    // Flood limits (RFC 2661 has none). A half-open tunnel is one we answered
    // an SCCRQ for and whose SCCCN has not come: state kept for an
    // unauthenticated datagram, the target of an SCCRQ flood.
    /// Half-open tunnels in total; at most half the tunnel slots whatever
    /// this says. Beyond it the oldest half-open tunnel is dropped silently,
    /// so a flood from many addresses delays new tunnels without stopping them.
    std::size_t max_half_open = 32;
    /// Half-open tunnels from one peer address (any port); beyond it the
    /// SCCRQ is refused (engine_errc::half_open_limit). 0: no limit.
    std::size_t max_half_open_per_peer = 4;
    /// A half-open tunnel is dropped silently this long after its SCCRQ (our
    /// SCCRP went out at 0, 1, 3, 7 and 15 s by then).
    duration half_open_timeout = std::chrono::seconds(16);
};

enum class event_kind : std::uint8_t {
    tunnel_up,
    tunnel_down,
    session_up,
    session_down,
    incoming_call,   ///< LNS: an ICRQ created a session (it comes up with ICCN)
    outgoing_call,   ///< LAC: an OCRQ created a session (answered at once)
    wan_error,       ///< WEN received
    set_link_info,   ///< SLI received
    protocol_error,  ///< a message was refused (code and offset in `error`)
};

constexpr const char* to_string(event_kind k) noexcept {
    switch (k) {
        case event_kind::tunnel_up:
            return "tunnel-up";
        case event_kind::tunnel_down:
            return "tunnel-down";
        case event_kind::session_up:
            return "session-up";
        case event_kind::session_down:
            return "session-down";
        case event_kind::incoming_call:
            return "incoming-call";
        case event_kind::outgoing_call:
            return "outgoing-call";
        case event_kind::wan_error:
            return "wan-error";
        case event_kind::set_link_info:
            return "set-link-info";
        case event_kind::protocol_error:
            return "protocol-error";
    }
    return "?";
}

struct engine_event {
    event_kind kind{};
    std::uint16_t tunnel = 0;   ///< local tunnel ID
    std::uint16_t session = 0;  ///< local session ID
    std::uint16_t result_code = 0;
    std::uint16_t error_code = 0;
    l2sec::error error{};
};

/// A datagram poll_transmit() or encode_data() wrote: its destination and size.
struct outgoing {
    transport::endpoint to{};
    std::size_t size = 0;
};

/// What handle_datagram found: a control message (processed) or a data
/// message's PPP payload (a view into the datagram) for `session`.
struct input {
    bool data = false;
    std::uint16_t tunnel = 0;
    std::uint16_t session = 0;
    bytes_view payload{};
};

struct engine_stats {
    std::uint64_t control_in = 0, data_in = 0, data_out = 0, dropped = 0, events_lost = 0;
    std::uint64_t timer_visits = 0;  ///< tunnels on_timer() looked at (their deadline had come)
    std::uint64_t half_open_refused = 0;  ///< SCCRQs over max_half_open_per_peer
    std::uint64_t half_open_evicted = 0;  ///< oldest half-open tunnels dropped for a new SCCRQ
    std::uint64_t half_open_expired = 0;  ///< half-open tunnels dropped after half_open_timeout
};

/// A read-only copy of what a user may know about a tunnel (engine::tunnel_info).
struct tunnel_view {
    tunnel_state state = tunnel_state::idle;
    bool initiator = false;  ///< we sent the SCCRQ
    std::uint16_t local_id = 0;
    std::uint16_t peer_id = 0;  ///< the peer's Assigned Tunnel ID (0 until known)
    transport::endpoint peer{};
    std::string_view peer_host{};  ///< the peer's Host Name, truncated to 31 octets; valid
                                   ///< while the tunnel lives
    std::size_t sessions = 0;
    control_channel_stats control{};
};

}  // namespace l2sec::l2tp
