// The L2TP engine (RFC 2661): many tunnels and sessions, both roles (LAC and
// LNS), sans-I/O. Datagrams and the time go in; datagrams to send, events and
// the next deadline come out.
//
//   l2tp::engine<crypto::botan> e(cfg, crypto::botan::random{});
//   auto t = e.open_tunnel(peer, now);                 // SCCRQ
//   e.handle_datagram(from, bytes, now);               // anything received
//   while (auto out = e.poll_transmit(now, buf)) sock.send_to(out->to, buf.first(out->size));
//   while (auto ev = e.poll_event()) ...               // tunnel_up, session_up, ...
//   wake up at e.deadline(), then e.on_timer(now)
//
// This header declares and documents the engine; the bodies are in
// l2tp/impl/ (engine.hpp, engine_control.hpp, engine_admission.hpp), the vocabulary (limits,
// config, events, views) in l2tp/engine_types.hpp, the drop reasons in l2tp/engine_error.hpp and
// the canonical messages in l2tp/detail/messages.hpp. The containers are core's: tunnels and
// sessions live in fixed arrays indexed by their local IDs (id_pool hands the IDs out, O(1)
// lookups), each tunnel lists its sessions (intrusive_list), duplicate SCCRQs are found by (peer
// endpoint, peer tunnel ID) in a hash_index, and timers live in a deadline_heap of (deadline,
// tunnel): deadline() reads its head and on_timer() visits only the tunnels
// that are due, so 10,000 quiet tunnels cost nothing per wake-up.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/deadline_heap.hpp>
#include <l2sec/core/hash_index.hpp>
#include <l2sec/core/id_pool.hpp>
#include <l2sec/core/intrusive_list.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/ring_queue.hpp>
#include <l2sec/core/warm.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/l2tp/control_channel.hpp>
#include <l2sec/l2tp/engine_error.hpp>
#include <l2sec/l2tp/engine_types.hpp>
#include <l2sec/l2tp/message.hpp>
#include <l2sec/l2tp/session.hpp>
#include <l2sec/l2tp/tunnel.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace l2sec::l2tp {

/// The timer heap lives in core (kept here under its old name).
using l2sec::deadline_heap;

/// The engine over a crypto backend (MD5 for tunnel authentication and
/// hidden AVPs), fixed capacities and a random source (Challenges, Random
/// Vectors, tie breakers), which is moved in: construct it with
/// `engine<crypto::botan> e(cfg, crypto::botan::random{})`.
///
/// Errors: commands and handle_datagram() return an l2sec::error whose code
/// is an l2tp::engine_errc (a protocol decision: unknown tunnel, wrong peer,
/// stale Ns, refused, ...), an l2tp::errc (the datagram did not decode or
/// validate), or l2sec::errc::buffer_too_small (the caller's buffer).
/// Nothing throws or allocates.
template <class Crypto, class Limits = default_limits, class Random = typename Crypto::random>
class engine {
    static_assert(crypto::digest_backend<Crypto>,
                  "l2tp::engine needs a crypto backend with digests (crypto::digest_backend): "
                  "MD5 for tunnel authentication and hidden AVPs");
    static_assert(crypto::random_source<Random>,
                  "l2tp::engine draws Challenges, Random Vectors and tie breakers from a "
                  "crypto::random_source, moved in");

  public:
    using channel_type = typename Limits::channel;
    /// The engine's internal tunnel record (find_tunnel; prefer tunnel_info).
    using tunnel_type = tunnel<channel_type>;
    static constexpr std::size_t max_tunnels = Limits::tunnels;
    static constexpr std::size_t max_sessions = Limits::sessions;

    engine(const engine_config& cfg, Random&& random) noexcept;
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    const engine_config& config() const noexcept { return cfg_; }
    const engine_stats& stats() const noexcept { return stats_; }
    std::size_t tunnel_count() const noexcept { return tunnel_ids_.in_use(); }
    std::size_t session_count() const noexcept { return session_ids_.in_use(); }
    /// Tunnels waiting for SCCCN after our SCCRP (see engine_config::max_half_open).
    std::size_t half_open_count() const noexcept { return half_open_.size(); }
    /// The total half-open limit in force: config().max_half_open, at most
    /// half the tunnel slots, at least one.
    std::size_t half_open_limit() const noexcept {
        return std::clamp<std::size_t>(cfg_.max_half_open, 1,
                                       std::max<std::size_t>(1, max_tunnels / 2));
    }

    /// What a user may know of tunnel `id`, if it is in use.
    std::optional<tunnel_view> tunnel_info(std::uint16_t id) const noexcept;
    /// What a user may know of session `id`, if it is in use.
    std::optional<session_view> session_info(std::uint16_t id) const noexcept;

    /// Before handle_datagram() of a data message for local tunnel `tunnel`
    /// and session `session`: load the two records it reads (core/warm.hpp).
    /// IDs out of range are ignored.
    void warm_data(std::uint16_t tunnel, std::uint16_t session) const noexcept {
        if (tunnel != 0 && tunnel <= max_tunnels) l2sec::warm(&tunnels_[tunnel - 1]);
        if (session != 0 && session <= max_sessions) l2sec::warm(&sessions_[session - 1]);
    }

    /// The internal record of tunnel `id`, if it is in use. Kept for source
    /// compatibility and white-box tests; its fields are not an API (use
    /// tunnel_info).
    const tunnel_type* find_tunnel(std::uint16_t id) const noexcept;
    /// The internal record of session `id` (use session_info).
    const session* find_session(std::uint16_t id) const noexcept;

    // ---- commands -------------------------------------------------------

    /// Start a control connection to `peer` (SCCRQ). Returns the local
    /// tunnel ID. Errors: out_of_tunnels, random_failed, buffer_too_small
    /// (a host or vendor name too long for a control message).
    result<std::uint16_t> open_tunnel(const transport::endpoint& peer, time_point now) noexcept;

    /// Place a call on an established tunnel: ICRQ (a LAC's incoming call) or
    /// OCRQ (an LNS's outgoing call). Returns the local session ID. Errors:
    /// tunnel_not_established, out_of_sessions, the control channel's (window full).
    result<std::uint16_t> open_session(std::uint16_t tunnel_id, time_point now,
                                       bool outgoing_call = false,
                                       std::string_view called_number = {}) noexcept;

    /// Clear a call (CDN with a Result Code). Errors: no_such_session.
    result<void> close_session(std::uint16_t session_id, time_point now,
                               std::uint16_t result = cdn_result::administrative,
                               std::uint16_t error_code = general_error::none) noexcept;

    /// Tear a tunnel down (StopCCN); its sessions go down with it. Errors:
    /// no_such_tunnel.
    result<void> close_tunnel(std::uint16_t tunnel_id, time_point now,
                              std::uint16_t result = stopccn_result::general_request,
                              std::uint16_t error_code = general_error::none) noexcept;

    /// WAN-Error-Notify (LAC to LNS) with the six Call Errors counters.
    /// Errors: no_such_session.
    result<void> send_wen(std::uint16_t session_id, time_point now,
                          const avps::call_errors& errors) noexcept;

    /// Set-Link-Info (LNS to LAC) with the ACCMs. Errors: no_such_session.
    result<void> send_sli(std::uint16_t session_id, time_point now, std::uint32_t send_accm,
                          std::uint32_t receive_accm) noexcept;

    /// Encode a data message carrying `ppp` (a PPP frame: address/control
    /// and protocol fields included) for `session_id` into `out`. Errors:
    /// session_not_established, buffer_too_small. O(1), allocation-free.
    result<outgoing> encode_data(std::uint16_t session_id, bytes_view ppp,
                                 mutable_bytes out) noexcept;

    // ---- input ----------------------------------------------------------

    /// Feed one received datagram. Control messages are processed (their
    /// answers queued); a data message's payload is returned for its session.
    /// Errors (the datagram is dropped and counted, nothing changes): the
    /// header's l2tp::errc; unknown_tunnel, unknown_session, wrong_peer,
    /// stale_ns, tunnel_id_zero, refused, half_open_limit, out_of_tunnels; the control
    /// channel's (out of window). A message that decodes but is refused by
    /// a tunnel is reported as a protocol_error event instead.
    result<input> handle_datagram(const transport::endpoint& from, bytes_view dgram,
                                  time_point now) noexcept;

    // ---- output ---------------------------------------------------------

    /// The next datagram to send, written into `out`.
    std::optional<outgoing> poll_transmit(time_point now, mutable_bytes out) noexcept;

    /// The next event (at most 256 wait; beyond that stats().events_lost counts).
    std::optional<engine_event> poll_event() noexcept { return events_.pop(); }
    /// Whether poll_event() has something (O(1)).
    bool has_events() const noexcept { return !events_.empty(); }

    /// Fire what is due: retransmissions, delayed ACKs, Hellos, expiries.
    /// O(due tunnels * log tunnels): quiet tunnels are not looked at.
    void on_timer(time_point now) noexcept;

    /// The earliest time on_timer/poll_transmit has work: the heap's head,
    /// O(1). A received datagram moves its tunnel's Hello time later without
    /// touching the heap when nothing else changes (data messages, control
    /// datagrams the channel refuses: the data path stays O(1)), so a head
    /// found early is re-keyed first: O(log tunnels) once per tunnel heard
    /// from since it was last keyed, and only when it reaches the head.
    std::optional<time_point> deadline() const noexcept;

  private:
    // Control message processing (impl/engine.hpp).
    result<tunnel_type*> accept_sccrq(const transport::endpoint& from, bytes_view dgram,
                                      time_point now) noexcept;
    void process(tunnel_type& t, bytes_view msg, time_point now) noexcept;
    template <class V>
    result<V> get(const message_view& m) noexcept;  // a typed AVP that may be hidden
    void on_sccrq(tunnel_type& t, const message_view& m, time_point now) noexcept;
    void on_sccrp(tunnel_type& t, const message_view& m, time_point now) noexcept;
    void on_scccn(tunnel_type& t, const message_view& m, time_point now) noexcept;
    void on_stopccn(tunnel_type& t, const message_view& m, time_point now) noexcept;
    void on_call_request(tunnel_type& t, const message_view& m, time_point now) noexcept;
    void on_call_reply(tunnel_type& t, const message_view& m, time_point now) noexcept;
    void on_call_connected(tunnel_type& t, const message_view& m) noexcept;
    void on_cdn(tunnel_type& t, const message_view& m) noexcept;
    session* session_of(tunnel_type& t, const message_view& m) noexcept;
    bool check_response(tunnel_type& t, const message_view& m, message_type type) noexcept;
    bool add_response(tunnel_type& t, message_builder& b, const message_view& m, time_point now,
                      message_type type) noexcept;
    bool add_challenge(tunnel_type& t, message_builder& b) noexcept;

    // Data, timers.
    result<input> handle_data(const data_message& d, const transport::endpoint& from,
                              time_point now) noexcept;
    void fire(tunnel_type& t, time_point now) noexcept;
    std::optional<time_point> tunnel_deadline(const tunnel_type& t) const noexcept;
    void reschedule(const tunnel_type& t) noexcept;

    // Sending.
    message_builder builder(const tunnel_type& t, std::uint16_t peer_session = 0) noexcept;
    template <class Add>
    result<void> send_on_call(std::uint16_t session_id, time_point now, message_type type,
                              Add&& add) noexcept;
    void add_session_id(message_builder& b, std::uint16_t sid) noexcept;
    result<void> queue(tunnel_type& t, message_builder& b, time_point now) noexcept;
    result<void> stop(tunnel_type& t, time_point now, std::uint16_t rc, std::uint16_t ec) noexcept;
    void mark(tunnel_type& t) noexcept;

    // Bookkeeping.
    void lost(tunnel_type& t) noexcept;
    void drop_sessions(tunnel_type& t, std::uint16_t rc) noexcept;
    void report(tunnel_type& t, const l2sec::error& e) noexcept;
    result<input> drop(const l2sec::error& e) noexcept;
    void push_event(const engine_event& e) noexcept;
    void init_tunnel(tunnel_type& t, std::uint16_t id, const transport::endpoint& peer,
                     bool initiator, time_point now) noexcept;
    tunnel_type* live_tunnel(std::uint16_t id) noexcept;
    session* live_session(std::uint16_t id) noexcept;
    tunnel_type* pending_to(const transport::endpoint& peer) noexcept;
    void free_tunnel(tunnel_type& t) noexcept;
    session& new_session(tunnel_type& t, std::uint16_t sid) noexcept;
    void release_session(session& s, tunnel_type& t) noexcept;
    list_hook& session_hook(std::uint16_t id) noexcept { return sessions_[id - 1].hook; }
    list_hook& half_open_hook(std::uint16_t id) noexcept { return tunnels_[id - 1].half_open; }
    result<void> admit_half_open(const transport::endpoint& from) noexcept;
    void leave_half_open(tunnel_type& t) noexcept;

    // (peer endpoint, peer tunnel ID) -> local tunnel ID, for duplicate SCCRQs.
    static std::uint64_t key_hash(const transport::endpoint& peer, std::uint16_t peer_tid) noexcept;
    std::optional<std::uint16_t> index_find(const transport::endpoint& peer,
                                            std::uint16_t peer_tid) const noexcept;
    void index_insert(const tunnel_type& t) noexcept;
    void index_erase(const tunnel_type& t) noexcept;

    engine_config cfg_;
    Random rng_;
    std::optional<typename Crypto::hash> md5_;
    std::array<tunnel_type, max_tunnels> tunnels_{};
    std::array<session, max_sessions> sessions_{};
    id_pool<max_tunnels> tunnel_ids_{};
    id_pool<max_sessions> session_ids_{};
    hash_index<max_tunnels> index_{};
    ring_queue<std::uint16_t, max_tunnels> touched_{};  // tunnels with something to send
    std::array<bool, max_tunnels> in_touched_{};
    mutable deadline_heap<max_tunnels> timers_{};   // deadline() re-keys early heads
    std::array<std::uint16_t, max_tunnels> due_{};  // on_timer's scratch
    ring_queue<engine_event, 256> events_{};
    intrusive_list half_open_{};  // tunnels in wait_ctl_conn, oldest first
    std::array<std::byte, Limits::channel::header_size + 1024> scratch_{};
    std::array<std::byte, 1024> unhide_buf_{};
    std::uint32_t serial_ = 0;
    engine_stats stats_{};
};

}  // namespace l2sec::l2tp

#include <l2sec/l2tp/impl/engine.hpp>
