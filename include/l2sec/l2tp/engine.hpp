// The L2TP engine (RFC 2661): many tunnels and sessions, both roles (LAC and
// LNS), sans-I/O. Datagrams and the time go in; datagrams to send, events and
// the next deadline come out. Tunnels and sessions live in fixed arrays
// indexed by their local IDs (O(1) lookups); duplicate SCCRQs are found in an
// open-addressing table keyed on (peer endpoint, peer tunnel ID). Timers
// live in an indexed min-heap of (deadline, tunnel): deadline() reads its
// head and on_timer() visits only the tunnels that are due, so 10,000 quiet
// tunnels cost nothing per wake-up.
//
//   l2tp::engine<crypto::botan> e(cfg, crypto::botan::random{});
//   auto t = e.open_tunnel(peer, now);                 // SCCRQ
//   e.handle_datagram(from, bytes, now);               // anything received
//   while (auto out = e.poll_transmit(now, buf)) sock.send_to(out->to, buf.first(out->size));
//   while (auto ev = e.poll_event()) ...               // tunnel_up, session_up, ...
//   wake up at e.deadline(), then e.on_timer(now)
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/deadline_heap.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/l2tp/control_channel.hpp>
#include <l2sec/l2tp/message.hpp>
#include <l2sec/l2tp/session.hpp>
#include <l2sec/l2tp/tunnel.hpp>
#include <l2sec/l2tp/validate.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace l2sec::l2tp {

/// Capacities, fixed at compile time.
template <std::size_t Tunnels, std::size_t Sessions, std::size_t SendSlots = 8,
          std::size_t RecvWindow = 8, std::size_t MaxMessage = 512>
struct limits {
    static_assert(Tunnels > 0 && Tunnels < 65535 && Sessions > 0 && Sessions < 65535);
    static constexpr std::size_t tunnels = Tunnels;
    static constexpr std::size_t sessions = Sessions;
    using channel = control_channel<SendSlots, RecvWindow, MaxMessage>;
};
using default_limits = limits<64, 512>;
/// The size the issue asks for: 10,000 tunnels and 60,000 sessions (heap-allocate it).
using carrier_limits = limits<10000, 60000, 4, 4, 384>;

/// The timer heap now lives in core (kept here under its old name).
using l2sec::deadline_heap;

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
};

/// The engine over a crypto backend (MD5 for tunnel authentication and
/// hidden AVPs), fixed capacities and a random source (Challenges, Random
/// Vectors, tie breakers), which is moved in: construct it with
/// `engine<crypto::botan> e(cfg, crypto::botan::random{})`.
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
    using tunnel_type = tunnel<channel_type>;
    static constexpr std::size_t max_tunnels = Limits::tunnels;
    static constexpr std::size_t max_sessions = Limits::sessions;

    engine(const engine_config& cfg, Random&& random) noexcept
        : cfg_(cfg), rng_(std::move(random)) {
        if (auto h = Crypto::make_hash(crypto::hash_id::md5); h && h->output_size() == 16)
            md5_.emplace(std::move(*h));
        for (std::size_t i = 0; i < max_tunnels; ++i)
            free_tunnels_[i] = static_cast<std::uint16_t>(max_tunnels - i);
        n_free_tunnels_ = max_tunnels;
        for (std::size_t i = 0; i < max_sessions; ++i)
            free_sessions_[i] = static_cast<std::uint16_t>(max_sessions - i);
        n_free_sessions_ = max_sessions;
    }
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    const engine_config& config() const noexcept { return cfg_; }
    const engine_stats& stats() const noexcept { return stats_; }
    std::size_t tunnel_count() const noexcept { return max_tunnels - n_free_tunnels_; }
    std::size_t session_count() const noexcept { return max_sessions - n_free_sessions_; }

    /// The tunnel with local ID `id`, if it is in use.
    const tunnel_type* find_tunnel(std::uint16_t id) const noexcept {
        if (id == 0 || id > max_tunnels) return nullptr;
        const auto& t = tunnels_[id - 1];
        return t.state == tunnel_state::idle ? nullptr : &t;
    }
    const session* find_session(std::uint16_t id) const noexcept {
        if (id == 0 || id > max_sessions) return nullptr;
        const auto& s = sessions_[id - 1];
        return s.state == session_state::idle ? nullptr : &s;
    }

    // ---- commands -------------------------------------------------------

    /// Start a control connection to `peer` (SCCRQ). Returns the local tunnel ID.
    result<std::uint16_t> open_tunnel(const transport::endpoint& peer, time_point now) noexcept {
        auto id = alloc_tunnel();
        if (!id) return error(l2sec::errc::capacity_exceeded, 0, "tunnels");
        auto& t = tunnels_[*id - 1];
        init_tunnel(t, *id, peer, true, now);
        t.state = tunnel_state::wait_ctl_reply;
        index_insert(*id);
        std::array<std::byte, 8> tb{};
        if (!rng_.fill(tb)) {
            free_tunnel(t);
            return error(l2sec::errc::invalid_argument, 0, "random source failed");
        }
        t.tie_breaker = load_be64(tb.data());
        auto r = send_sccrq(t, now);
        if (!r) {
            free_tunnel(t);
            return r.error();
        }
        reschedule(t);
        return *id;
    }

    /// Place a call on an established tunnel: ICRQ (a LAC's incoming call) or
    /// OCRQ (an LNS's outgoing call). Returns the local session ID.
    result<std::uint16_t> open_session(std::uint16_t tunnel_id, time_point now,
                                       bool outgoing_call = false,
                                       std::string_view called_number = {}) noexcept {
        auto* t = live_tunnel(tunnel_id);
        if (!t || t->state != tunnel_state::established)
            return error(l2sec::errc::invalid_argument, 0, "tunnel not established");
        auto sid = alloc_session();
        if (!sid) return error(l2sec::errc::capacity_exceeded, 0, "sessions");
        auto& s = sessions_[*sid - 1];
        s = session{};
        s.state = session_state::wait_reply;
        s.tunnel = tunnel_id;
        s.local_id = *sid;
        s.outgoing = outgoing_call;
        s.serial = ++serial_;
        link_session(*t, s);
        message_builder b(scratch_, t->peer_id, 0, 0, 0);
        b.add(avps::message_type{outgoing_call ? message_type::ocrq : message_type::icrq});
        add_session_id(b, *t, *sid);
        b.add(avps::call_serial_number{s.serial});
        if (outgoing_call) {
            b.add(avps::minimum_bps{0}).add(avps::maximum_bps{cfg_.tx_connect_speed});
            b.add(avps::bearer_type{3}).add(avps::framing_type{3});
            b.add(avps::called_number{as_bytes(called_number)});
        } else {
            b.add(avps::bearer_type{3});
            if (!called_number.empty()) b.add(avps::called_number{as_bytes(called_number)});
        }
        auto r = queue(*t, b, now);
        reschedule(*t);
        if (!r) {
            release_session(s, *t);
            return r.error();
        }
        return *sid;
    }

    /// Clear a call (CDN with a Result Code).
    result<void> close_session(std::uint16_t session_id, time_point now,
                               std::uint16_t result = cdn_result::admin,
                               std::uint16_t error_code = general_error::none) noexcept {
        auto* s = live_session(session_id);
        if (!s) return error(l2sec::errc::invalid_argument, 0, "session");
        auto& t = tunnels_[s->tunnel - 1];
        message_builder b(scratch_, t.peer_id, s->peer_id, 0, 0);
        b.add(avps::message_type{message_type::cdn});
        b.add(avps::result_code{result, error_code != 0, error_code, {}});
        add_session_id(b, t, s->local_id);
        auto r = queue(t, b, now);
        reschedule(t);
        push_event({event_kind::session_down, t.local_id, s->local_id, result, error_code, {}});
        release_session(*s, t);
        return r;
    }

    /// Tear a tunnel down (StopCCN); its sessions go down with it.
    result<void> close_tunnel(std::uint16_t tunnel_id, time_point now,
                              std::uint16_t result = stopccn_result::general_request,
                              std::uint16_t error_code = general_error::none) noexcept {
        auto* t = live_tunnel(tunnel_id);
        if (!t) return error(l2sec::errc::invalid_argument, 0, "tunnel");
        if (t->state == tunnel_state::closing || t->state == tunnel_state::closed_wait) return {};
        auto r = stop(*t, now, result, error_code);
        reschedule(*t);
        return r;
    }

    /// WAN-Error-Notify (LAC to LNS) with the six Call Errors counters.
    result<void> send_wen(std::uint16_t session_id, time_point now,
                          const avps::call_errors& errors) noexcept {
        auto* s = live_session(session_id);
        if (!s) return error(l2sec::errc::invalid_argument, 0, "session");
        auto& t = tunnels_[s->tunnel - 1];
        message_builder b(scratch_, t.peer_id, s->peer_id, 0, 0);
        b.add(avps::message_type{message_type::wen}).add(errors);
        auto r = queue(t, b, now);
        reschedule(t);
        return r;
    }

    /// Set-Link-Info (LNS to LAC) with the ACCMs.
    result<void> send_sli(std::uint16_t session_id, time_point now, std::uint32_t send_accm,
                          std::uint32_t receive_accm) noexcept {
        auto* s = live_session(session_id);
        if (!s) return error(l2sec::errc::invalid_argument, 0, "session");
        auto& t = tunnels_[s->tunnel - 1];
        message_builder b(scratch_, t.peer_id, s->peer_id, 0, 0);
        b.add(avps::message_type{message_type::sli}).add(avps::accm{send_accm, receive_accm});
        auto r = queue(t, b, now);
        reschedule(t);
        return r;
    }

    /// Encode a data message carrying `ppp` (a PPP frame: address/control
    /// and protocol fields included) for `session_id` into `out`.
    result<outgoing> encode_data(std::uint16_t session_id, bytes_view ppp,
                                 mutable_bytes out) noexcept {
        auto* s = live_session(session_id);
        if (!s || s->state != session_state::established)
            return error(l2sec::errc::invalid_argument, 0, "session not established");
        const auto& t = tunnels_[s->tunnel - 1];
        header h = data_header(t.peer_id, s->peer_id);
        if (s->sequencing) {
            h.has_sequence = true;
            h.ns = s->data_ns++;
            h.nr = 0;
        }
        auto n = write_data_header(out, h, ppp.size());
        if (!n) return n.error();
        if (out.size() < *n + ppp.size())
            return error(l2sec::errc::buffer_too_small, *n, "payload");
        copy_to(out.subspan(*n), ppp);
        ++stats_.data_out;
        return outgoing{t.peer, *n + ppp.size()};
    }

    // ---- input ----------------------------------------------------------

    /// Feed one received datagram. Control messages are processed (their
    /// answers queued); a data message's payload is returned for its session.
    result<input> handle_datagram(const transport::endpoint& from, bytes_view dgram,
                                  time_point now) noexcept {
        auto h = decode_header(dgram);
        if (!h) {
            ++stats_.dropped;
            return h.error();
        }
        if (!h->control) return handle_data(*h, dgram, from, now);
        ++stats_.control_in;
        tunnel_type* t = nullptr;
        if (h->tunnel_id == 0) {
            // Only an SCCRQ may come with tunnel ID 0.
            auto m = parse_control(dgram);
            if (!m) return drop(m.error());
            if (m->is_zlb() || m->type() != message_type::sccrq)
                return drop(error(l2sec::errc::invalid_argument, 4, "tunnel ID 0 without SCCRQ"));
            auto peer_tid = m->template get<avps::assigned_tunnel_id>();
            if (!peer_tid) return drop(peer_tid.error());
            if (auto existing = index_find(from, peer_tid->value)) {
                t = &tunnels_[*existing - 1];  // a retransmitted SCCRQ
            } else {
                if (!cfg_.accept_tunnels)
                    return drop(error(l2sec::errc::invalid_argument, 0, "SCCRQ refused"));
                // Tie breaker: we have an SCCRQ outstanding to the same peer.
                if (auto* mine = pending_to(from); mine && mine->tie_breaker != 0) {
                    auto theirs = m->template get<avps::tie_breaker>();
                    if (theirs) {
                        if (mine->tie_breaker < theirs->value)
                            return input{};  // we win: the peer discards its tunnel
                        // they win: discard ours silently
                        push_event({event_kind::tunnel_down,
                                    mine->local_id,
                                    0,
                                    stopccn_result::already_exists,
                                    0,
                                    {}});
                        free_tunnel(*mine);
                    }
                }
                auto id = alloc_tunnel();
                if (!id) return drop(error(l2sec::errc::capacity_exceeded, 0, "tunnels"));
                t = &tunnels_[*id - 1];
                init_tunnel(*t, *id, from, false, now);
                t->peer_id = peer_tid->value;
                t->channel.set_peer_tunnel_id(t->peer_id);
                t->state =
                    tunnel_state::wait_ctl_conn;  // SCCRP goes out when the SCCRQ is processed
                index_insert(*id);
            }
        } else {
            t = live_tunnel(h->tunnel_id);
            if (!t) return drop(error(l2sec::errc::invalid_argument, 4, "tunnel ID"));
            if (t->peer.addr != from.addr)
                return drop(error(l2sec::errc::invalid_argument, 0, "peer address"));
            if (t->state == tunnel_state::wait_ctl_reply)
                t->peer.port = from.port;  // reply may come from another port
        }
        t->last_rx = now;
        auto k = t->channel.receive(dgram, now);
        if (!k) return drop(k.error());
        mark(*t);
        while (auto msg = t->channel.next_message()) {
            process(*t, *msg, now);
            if (t->state == tunnel_state::idle) break;
        }
        reschedule(*t);
        return input{false, t->local_id, 0, {}};
    }

    // ---- output ---------------------------------------------------------

    /// The next datagram to send, written into `out`.
    std::optional<outgoing> poll_transmit(time_point now, mutable_bytes out) noexcept {
        while (n_touched_ > 0) {
            std::uint16_t id = touched_[touched_head_];
            auto& t = tunnels_[id - 1];
            if (t.state != tunnel_state::idle) {
                auto n = t.channel.poll_transmit(now, out);
                reschedule(t);
                if (n) return outgoing{t.peer, *n};
                if (t.channel.failed()) {
                    lost(t);
                } else if (t.state == tunnel_state::closing && t.channel.idle()) {
                    push_event({event_kind::tunnel_down, t.local_id, 0, t.result_code, 0, {}});
                    free_tunnel(t);
                }
            }
            in_touched_[id - 1] = false;
            touched_head_ = (touched_head_ + 1) % max_tunnels;
            --n_touched_;
        }
        return std::nullopt;
    }

    std::optional<engine_event> poll_event() noexcept {
        if (n_events_ == 0) return std::nullopt;
        auto e = events_[ev_head_];
        ev_head_ = (ev_head_ + 1) % events_.size();
        --n_events_;
        return e;
    }

    /// Fire what is due: retransmissions, delayed ACKs, Hellos, expiries.
    /// O(due tunnels * log tunnels): quiet tunnels are not looked at.
    void on_timer(time_point now) noexcept {
        // Take the due tunnels off the heap, then handle them in ID order
        // (the order of the free list and of poll_transmit's output).
        std::size_t n = 0;
        while (!timers_.empty() && timers_.top_deadline() <= now) {
            due_[n++] = timers_.top();
            timers_.erase(timers_.top());
        }
        std::sort(due_.begin(), due_.begin() + static_cast<std::ptrdiff_t>(n));
        stats_.timer_visits += n;
        for (std::size_t i = 0; i < n; ++i) {
            auto& t = tunnels_[due_[i] - 1];
            fire(t, now);
            reschedule(t);
        }
    }

    /// The earliest time on_timer/poll_transmit has work: the heap's head,
    /// O(1). A received datagram moves its tunnel's Hello time later without
    /// touching the heap when nothing else changes (data messages, control
    /// datagrams the channel refuses: the data path stays O(1)), so a head
    /// found early is re-keyed first: O(log tunnels) once per tunnel heard
    /// from since it was last keyed, and only when it reaches the head.
    std::optional<time_point> deadline() const noexcept {
        while (!timers_.empty()) {
            const auto id = timers_.top();
            const auto d = tunnel_deadline(tunnels_[id - 1]);
            if (d && *d == timers_.top_deadline()) return d;
            if (d)
                timers_.set(id, *d);
            else
                timers_.erase(id);
        }
        return std::nullopt;
    }

  private:
    // ---- control message processing -----------------------------------

    void process(tunnel_type& t, bytes_view msg, time_point now) noexcept {
        auto m = parse_control(msg);
        if (!m) return report(t, m.error());
        if (m->is_zlb()) return;
        if (auto v = validate(*m); !v) {
            report(t, v.error());
            if (is_tunnel_message(m->type()))
                (void)stop(t, now, stopccn_result::general_error, general_error::length_wrong);
            return;
        }
        if (auto c = check_mandatory(m->avps()); !c) {
            report(t, c.error());
            // RFC 2661 4.1: an unknown mandatory AVP ends the tunnel or the session.
            if (auto* s = live_session(m->hdr().session_id); s && s->tunnel == t.local_id)
                (void)close_session(s->local_id, now, cdn_result::general_error,
                                    general_error::unknown_mandatory_avp);
            else
                (void)stop(t, now, stopccn_result::general_error,
                           general_error::unknown_mandatory_avp);
            return;
        }
        if (t.state == tunnel_state::closing || t.state == tunnel_state::closed_wait) return;
        switch (m->type()) {
            case message_type::sccrq:
                return on_sccrq(t, *m, now);
            case message_type::sccrp:
                return on_sccrp(t, *m, now);
            case message_type::scccn:
                return on_scccn(t, *m, now);
            case message_type::stopccn:
                return on_stopccn(t, *m, now);
            case message_type::hello:
                return;
            case message_type::icrq:
            case message_type::ocrq:
                return on_call_request(t, *m, now);
            case message_type::icrp:
            case message_type::ocrp:
                return on_call_reply(t, *m, now);
            case message_type::iccn:
            case message_type::occn:
                return on_call_connected(t, *m);
            case message_type::cdn:
                return on_cdn(t, *m);
            case message_type::wen:
            case message_type::sli: {
                auto* s = session_of(t, *m);
                if (!s) return;
                push_event({m->type() == message_type::wen ? event_kind::wan_error
                                                           : event_kind::set_link_info,
                            t.local_id,
                            s->local_id,
                            0,
                            0,
                            {}});
                return;
            }
            default:
                return;
        }
    }

    static constexpr bool is_tunnel_message(message_type m) noexcept {
        return m == message_type::sccrq || m == message_type::sccrp || m == message_type::scccn ||
               m == message_type::stopccn || m == message_type::hello;
    }

    // A typed AVP that may be hidden.
    template <class V>
    result<V> get(const message_view& m) noexcept {
        auto a = m.find(V::type);
        if (!a) return error(errc::missing_avp, m.bytes().size(), to_string(V::type));
        if (!a->hidden()) return decode<V>(*a);
        if (!md5_) return error(errc::hash_not_md5, a->offset(), "MD5 context");
        auto plain = unhide(*md5_, *a, cfg_.secret, unhide_buf_);
        if (!plain) return plain.error();
        return V::decode(*plain, a->offset());
    }

    void on_sccrq(tunnel_type& t, const message_view& m, time_point now) noexcept {
        if (t.state != tunnel_state::wait_ctl_conn || t.answer_ready) return;
        t.answer_ready = true;
        if (auto rws = m.template get<avps::receive_window_size>())
            t.channel.set_peer_window(rws->value);
        if (auto hn = m.template get<avps::host_name>()) copy_host(t, hn->text());
        message_builder b(scratch_, t.peer_id, 0, 0, 0);
        b.add(avps::message_type{message_type::sccrp});
        b.add(avps::protocol_version{});
        b.add(avps::framing_capabilities{3});
        b.add(avps::bearer_capabilities{3});
        b.add(avps::firmware_revision{0x0100});
        b.add(avps::host_name{as_bytes(cfg_.host_name)});
        b.add(avps::vendor_name{as_bytes(cfg_.vendor_name)});
        b.add(avps::assigned_tunnel_id{t.local_id});
        b.add(avps::receive_window_size{channel_type::receive_window_size});
        if (auto ch = m.template get<avps::challenge>()) {
            if (cfg_.secret.empty()) {
                (void)stop(t, now, stopccn_result::not_authorized, general_error::none);
                return;
            }
            auto r = md5_ ? sccrp_response(*md5_, cfg_.secret, ch->value)
                          : result<md5_digest>(error(errc::hash_not_md5, 0, "MD5 context"));
            if (!r) {
                report(t, r.error());
                (void)stop(t, now, stopccn_result::general_error, general_error::none);
                return;
            }
            b.add(avps::challenge_response{bytes_view(*r)});
        }
        if (!cfg_.secret.empty()) {
            if (!rng_.fill(t.challenge)) {
                (void)stop(t, now, stopccn_result::general_error, general_error::none);
                return;
            }
            t.challenged = true;
            b.add(avps::challenge{bytes_view(t.challenge)});
        }
        (void)queue(t, b, now);
    }

    void on_sccrp(tunnel_type& t, const message_view& m, time_point now) noexcept {
        if (t.state != tunnel_state::wait_ctl_reply) return;
        auto tid = m.template get<avps::assigned_tunnel_id>();
        if (!tid) return report(t, tid.error());
        index_erase(t.local_id);
        t.peer_id = tid->value;
        index_insert(t.local_id);
        t.channel.set_peer_tunnel_id(t.peer_id);
        if (auto rws = m.template get<avps::receive_window_size>())
            t.channel.set_peer_window(rws->value);
        if (auto hn = m.template get<avps::host_name>()) copy_host(t, hn->text());
        if (t.challenged) {
            auto resp = m.template get<avps::challenge_response>();
            if (!resp || !md5_ ||
                !verify_challenge_response(*md5_, static_cast<std::uint8_t>(message_type::sccrp),
                                           cfg_.secret, t.challenge, resp->value)) {
                (void)stop(t, now, stopccn_result::not_authorized, general_error::none);
                return;
            }
        }
        message_builder b(scratch_, t.peer_id, 0, 0, 0);
        b.add(avps::message_type{message_type::scccn});
        if (auto ch = m.template get<avps::challenge>()) {
            if (cfg_.secret.empty()) {
                (void)stop(t, now, stopccn_result::not_authorized, general_error::none);
                return;
            }
            auto r = md5_ ? scccn_response(*md5_, cfg_.secret, ch->value)
                          : result<md5_digest>(error(errc::hash_not_md5, 0, "MD5 context"));
            if (!r) {
                report(t, r.error());
                (void)stop(t, now, stopccn_result::general_error, general_error::none);
                return;
            }
            b.add(avps::challenge_response{bytes_view(*r)});
        }
        (void)queue(t, b, now);
        t.state = tunnel_state::established;
        push_event({event_kind::tunnel_up, t.local_id, 0, 0, 0, {}});
    }

    void on_scccn(tunnel_type& t, const message_view& m, time_point now) noexcept {
        if (t.state != tunnel_state::wait_ctl_conn) return;
        if (t.challenged) {
            auto resp = m.template get<avps::challenge_response>();
            if (!resp || !md5_ ||
                !verify_challenge_response(*md5_, static_cast<std::uint8_t>(message_type::scccn),
                                           cfg_.secret, t.challenge, resp->value)) {
                (void)stop(t, now, stopccn_result::not_authorized, general_error::none);
                return;
            }
        }
        t.state = tunnel_state::established;
        push_event({event_kind::tunnel_up, t.local_id, 0, 0, 0, {}});
    }

    void on_stopccn(tunnel_type& t, const message_view& m, time_point now) noexcept {
        std::uint16_t rc = 0, ec = 0;
        if (auto r = m.template get<avps::result_code>()) {
            rc = r->result;
            ec = r->error_code;
        }
        drop_sessions(t, cdn_result::lost_carrier);
        index_erase(t.local_id);
        t.state = tunnel_state::closed_wait;
        t.hold_until = now + cfg_.hold_time;
        push_event({event_kind::tunnel_down, t.local_id, 0, rc, ec, {}});
    }

    void on_call_request(tunnel_type& t, const message_view& m, time_point now) noexcept {
        if (t.state != tunnel_state::established) return;
        const bool outgoing_call = m.type() == message_type::ocrq;
        auto psid = get<avps::assigned_session_id>(m);
        if (!psid) return report(t, psid.error());
        // A retransmitted request for a call we already have: the channel
        // dropped true duplicates, so this is a peer reusing its ID; refuse.
        auto sid = alloc_session();
        message_builder b(scratch_, t.peer_id, psid->value, 0, 0);
        if (!sid) {
            b.add(avps::message_type{message_type::cdn});
            b.add(avps::result_code{cdn_result::temporary_lack_of_resources,
                                    true,
                                    general_error::insufficient_resources,
                                    {}});
            b.add(avps::assigned_session_id{0});
            (void)queue(t, b, now);
            return;
        }
        auto& s = sessions_[*sid - 1];
        s = session{};
        s.state = session_state::wait_connect;
        s.tunnel = t.local_id;
        s.local_id = *sid;
        s.peer_id = psid->value;
        s.outgoing = outgoing_call;
        if (auto sn = m.template get<avps::call_serial_number>()) s.serial = sn->value;
        link_session(t, s);
        b.add(avps::message_type{outgoing_call ? message_type::ocrp : message_type::icrp});
        add_session_id(b, t, s.local_id);
        (void)queue(t, b, now);
        if (outgoing_call) {
            // The LAC places the call at once: OCCN follows OCRP.
            message_builder c(scratch_, t.peer_id, s.peer_id, 0, 0);
            c.add(avps::message_type{message_type::occn});
            c.add(avps::tx_connect_speed{cfg_.tx_connect_speed});
            c.add(avps::framing_type{avps::framing::sync});
            if (cfg_.sequencing_required) c.add(avps::sequencing_required{});
            (void)queue(t, c, now);
            s.state = session_state::established;
            s.sequencing = cfg_.sequencing_required;
            push_event({event_kind::outgoing_call, t.local_id, s.local_id, 0, 0, {}});
            push_event({event_kind::session_up, t.local_id, s.local_id, 0, 0, {}});
        } else {
            s.state = session_state::wait_connect;
            push_event({event_kind::incoming_call, t.local_id, s.local_id, 0, 0, {}});
        }
    }

    void on_call_reply(tunnel_type& t, const message_view& m, time_point now) noexcept {
        auto* s = session_of(t, m);
        if (!s || s->state != session_state::wait_reply) return;
        auto psid = get<avps::assigned_session_id>(m);
        if (!psid) return report(t, psid.error());
        s->peer_id = psid->value;
        if (m.type() == message_type::ocrp) {
            s->state = session_state::wait_connect;
            return;
        }
        message_builder b(scratch_, t.peer_id, s->peer_id, 0, 0);
        b.add(avps::message_type{message_type::iccn});
        b.add(avps::tx_connect_speed{cfg_.tx_connect_speed});
        b.add(avps::framing_type{avps::framing::sync});
        if (cfg_.sequencing_required) b.add(avps::sequencing_required{});
        (void)queue(t, b, now);
        s->state = session_state::established;
        s->sequencing = cfg_.sequencing_required;
        push_event({event_kind::session_up, t.local_id, s->local_id, 0, 0, {}});
    }

    void on_call_connected(tunnel_type& t, const message_view& m) noexcept {
        auto* s = session_of(t, m);
        if (!s || s->state != session_state::wait_connect) return;
        s->state = session_state::established;
        s->sequencing = m.find(avp_type::sequencing_required).has_value();
        push_event({event_kind::session_up, t.local_id, s->local_id, 0, 0, {}});
    }

    void on_cdn(tunnel_type& t, const message_view& m) noexcept {
        session* s = session_of(t, m);
        if (!s) {
            // A CDN with session ID 0 (the call was refused before we learnt
            // the peer's ID): match our ID in Assigned Session ID.
            auto a = get<avps::assigned_session_id>(m);
            if (!a) return;
            for (std::uint16_t id = t.first_session; id != 0 && !s; id = sessions_[id - 1].next)
                if (sessions_[id - 1].peer_id == a->value) s = &sessions_[id - 1];
            if (!s) return;
        }
        std::uint16_t rc = 0, ec = 0;
        if (auto r = m.template get<avps::result_code>()) {
            rc = r->result;
            ec = r->error_code;
        }
        push_event({event_kind::session_down, t.local_id, s->local_id, rc, ec, {}});
        release_session(*s, t);
    }

    session* session_of(tunnel_type& t, const message_view& m) noexcept {
        auto* s = live_session(m.hdr().session_id);
        return s && s->tunnel == t.local_id ? s : nullptr;
    }

    // ---- data -----------------------------------------------------------

    result<input> handle_data(const header& h, bytes_view dgram, const transport::endpoint& from,
                              time_point now) noexcept {
        auto* s = live_session(h.session_id);
        if (!s || s->tunnel != h.tunnel_id || s->state != session_state::established)
            return drop(error(l2sec::errc::invalid_argument, 4, "session ID"));
        auto& t = tunnels_[s->tunnel - 1];
        if (!(t.peer.addr == from.addr))
            return drop(error(l2sec::errc::invalid_argument, 0, "peer address"));
        // Data counts as life: Hello goes out only on a silent tunnel (some
        // peers, Android's among them, do not acknowledge Hello at all). The
        // Hello time moves later; its heap key stays early (see deadline()).
        t.last_rx = now;
        if (h.has_sequence) {
            if (seq_before(h.ns, s->data_nr))
                return drop(error(l2sec::errc::invalid_argument, 8, "stale Ns"));
            s->data_nr = static_cast<std::uint16_t>(h.ns + 1);
        }
        const std::size_t end = h.has_length ? h.length : dgram.size();
        ++stats_.data_in;
        return input{true, h.tunnel_id, h.session_id, dgram.subspan(h.size, end - h.size)};
    }

    // ---- timers ---------------------------------------------------------

    // One tunnel's timers, when its deadline has come.
    void fire(tunnel_type& t, time_point now) noexcept {
        // Free a peer-closed tunnel after the hold time, once its last ACK is out.
        if (t.state == tunnel_state::closed_wait && t.hold_until <= now &&
            !t.channel.ack_pending()) {
            free_tunnel(t);
            return;
        }
        if (t.state == tunnel_state::established && t.channel.idle() &&
            t.last_rx + cfg_.hello_interval <= now) {
            message_builder b(scratch_, t.peer_id, 0, 0, 0);
            b.add(avps::message_type{message_type::hello});
            (void)queue(t, b, now);
            t.last_rx = now;
        }
        if (auto d = t.channel.deadline(); d && *d <= now) mark(t);
    }

    // The earliest of a tunnel's timers: its control channel's, the hold
    // time of a peer-closed tunnel, the Hello of an established one.
    std::optional<time_point> tunnel_deadline(const tunnel_type& t) const noexcept {
        std::optional<time_point> best = t.channel.deadline();
        auto take = [&](time_point x) {
            if (!best || x < *best) best = x;
        };
        if (t.state == tunnel_state::closed_wait) take(t.hold_until);
        if (t.state == tunnel_state::established) take(t.last_rx + cfg_.hello_interval);
        return best;
    }

    // Every entry point that changes a tunnel's timers calls this before it
    // returns, so no heap key is ever later than the tunnel's deadline (only
    // last_rx moving later leaves keys early: see deadline()).
    void reschedule(const tunnel_type& t) noexcept {
        const auto d = t.state == tunnel_state::idle ? std::nullopt : tunnel_deadline(t);
        if (d)
            timers_.set(t.local_id, *d);
        else
            timers_.erase(t.local_id);
    }

    // ---- helpers --------------------------------------------------------

    result<void> send_sccrq(tunnel_type& t, time_point now) noexcept {
        message_builder b(scratch_, 0, 0, 0, 0);
        b.add(avps::message_type{message_type::sccrq});
        b.add(avps::protocol_version{});
        b.add(avps::host_name{as_bytes(cfg_.host_name)});
        b.add(avps::framing_capabilities{3});
        b.add(avps::bearer_capabilities{3});
        b.add(avps::firmware_revision{0x0100});
        b.add(avps::vendor_name{as_bytes(cfg_.vendor_name)});
        b.add(avps::assigned_tunnel_id{t.local_id});
        b.add(avps::receive_window_size{channel_type::receive_window_size});
        if (cfg_.send_tie_breaker) b.add(avps::tie_breaker{t.tie_breaker});
        if (!cfg_.secret.empty()) {
            if (!rng_.fill(t.challenge))
                return error(l2sec::errc::invalid_argument, 0, "random source failed");
            t.challenged = true;
            b.add(avps::challenge{bytes_view(t.challenge)});
        }
        return queue(t, b, now);
    }

    void add_session_id(message_builder& b, const tunnel_type&, std::uint16_t sid) noexcept {
        if (cfg_.hide_avps && !cfg_.secret.empty() && md5_) {
            std::array<std::byte, 16> rv{};
            if (rng_.fill(rv)) {
                b.add(avps::random_vector{bytes_view(rv)});
                b.add_hidden(*md5_, avps::assigned_session_id{sid}, cfg_.secret);
                return;
            }
            b.add(avps::assigned_session_id{sid});  // no randomness: do not hide with a fixed RV
        } else {
            b.add(avps::assigned_session_id{sid});
        }
    }

    result<void> queue(tunnel_type& t, message_builder& b, time_point now) noexcept {
        auto m = b.finish();
        if (!m) return m.error();
        auto r = t.channel.send(*m, now);
        mark(t);
        return r;
    }

    result<void> stop(tunnel_type& t, time_point now, std::uint16_t rc, std::uint16_t ec) noexcept {
        message_builder b(scratch_, t.peer_id, 0, 0, 0);
        b.add(avps::message_type{message_type::stopccn});
        b.add(avps::assigned_tunnel_id{t.local_id});
        b.add(avps::result_code{rc, ec != 0, ec, {}});
        auto r = queue(t, b, now);
        drop_sessions(t, cdn_result::admin);
        index_erase(t.local_id);
        t.state = tunnel_state::closing;
        t.result_code = rc;
        return r;
    }

    void lost(tunnel_type& t) noexcept {
        drop_sessions(t, cdn_result::lost_carrier);
        push_event(
            {event_kind::tunnel_down,
             t.local_id,
             0,
             t.state == tunnel_state::closing ? t.result_code : stopccn_result::general_error,
             general_error::no_control_connection,
             {}});
        free_tunnel(t);
    }

    // O(sessions of this tunnel): each tunnel threads a list through its sessions.
    void drop_sessions(tunnel_type& t, std::uint16_t rc) noexcept {
        while (t.first_session != 0) {
            auto& s = sessions_[t.first_session - 1];
            push_event({event_kind::session_down, t.local_id, s.local_id, rc, 0, {}});
            release_session(s, t);
        }
    }

    void report(tunnel_type& t, const l2sec::error& e) noexcept {
        push_event({event_kind::protocol_error, t.local_id, 0, 0, 0, e});
    }

    result<input> drop(const l2sec::error& e) noexcept {
        ++stats_.dropped;
        return e;
    }

    void copy_host(tunnel_type& t, std::string_view h) noexcept {
        t.peer_host.fill('\0');
        for (std::size_t i = 0; i < h.size() && i + 1 < t.peer_host.size(); ++i)
            t.peer_host[i] = h[i];
    }

    void init_tunnel(tunnel_type& t, std::uint16_t id, const transport::endpoint& peer,
                     bool initiator, time_point now) noexcept {
        t.state = tunnel_state::idle;
        t.initiator = initiator;
        t.challenged = false;
        t.answer_ready = false;
        t.local_id = id;
        t.peer_id = 0;
        t.sessions = 0;
        t.first_session = 0;
        t.result_code = 0;
        t.tie_breaker = 0;
        t.peer = peer;
        t.peer_host.fill('\0');
        t.last_rx = now;
        t.channel = channel_type(cfg_.channel);
    }

    tunnel_type* live_tunnel(std::uint16_t id) noexcept {
        if (id == 0 || id > max_tunnels) return nullptr;
        auto& t = tunnels_[id - 1];
        return t.state == tunnel_state::idle ? nullptr : &t;
    }
    session* live_session(std::uint16_t id) noexcept {
        if (id == 0 || id > max_sessions) return nullptr;
        auto& s = sessions_[id - 1];
        return s.state == session_state::idle ? nullptr : &s;
    }
    tunnel_type* pending_to(const transport::endpoint& peer) noexcept {
        // Rare path (an SCCRQ crossing ours): a scan is acceptable.
        for (auto& t : tunnels_)
            if (t.state == tunnel_state::wait_ctl_reply && t.peer.addr == peer.addr) return &t;
        return nullptr;
    }

    std::optional<std::uint16_t> alloc_tunnel() noexcept {
        if (n_free_tunnels_ == 0) return std::nullopt;
        return free_tunnels_[--n_free_tunnels_];
    }
    void free_tunnel(tunnel_type& t) noexcept {
        drop_sessions(t, cdn_result::lost_carrier);
        index_erase(t.local_id);
        timers_.erase(t.local_id);
        t.state = tunnel_state::idle;
        free_tunnels_[n_free_tunnels_++] = t.local_id;
    }
    std::optional<std::uint16_t> alloc_session() noexcept {
        if (n_free_sessions_ == 0) return std::nullopt;
        return free_sessions_[--n_free_sessions_];
    }
    void link_session(tunnel_type& t, session& s) noexcept {
        s.prev = 0;
        s.next = t.first_session;
        if (t.first_session) sessions_[t.first_session - 1].prev = s.local_id;
        t.first_session = s.local_id;
        ++t.sessions;
    }
    void release_session(session& s, tunnel_type& t) noexcept {
        const bool linked = s.prev != 0 || t.first_session == s.local_id;
        if (!linked) return;  // already released
        if (s.prev)
            sessions_[s.prev - 1].next = s.next;
        else if (t.first_session == s.local_id)
            t.first_session = s.next;
        if (s.next) sessions_[s.next - 1].prev = s.prev;
        s.next = s.prev = 0;
        s.state = session_state::idle;
        if (t.sessions) --t.sessions;
        free_sessions_[n_free_sessions_++] = s.local_id;
    }

    void mark(tunnel_type& t) noexcept {
        if (in_touched_[t.local_id - 1]) return;
        in_touched_[t.local_id - 1] = true;
        touched_[(touched_head_ + n_touched_) % max_tunnels] = t.local_id;
        ++n_touched_;
    }

    void push_event(const engine_event& e) noexcept {
        if (n_events_ == events_.size()) {
            ++stats_.events_lost;
            return;
        }
        events_[(ev_head_ + n_events_) % events_.size()] = e;
        ++n_events_;
    }

    // ---- (peer endpoint, peer tunnel ID) -> local tunnel ID --------------

    static constexpr std::size_t index_size = [] {
        std::size_t n = 1;
        while (n < 2 * max_tunnels)
            n <<= 1;
        return n;
    }();
    static std::size_t slot_of(const transport::endpoint& peer, std::uint16_t peer_tid) noexcept {
        return static_cast<std::size_t>(
            (peer.hash() ^ (std::uint64_t{peer_tid} * 0x9e3779b97f4a7c15ull)) & (index_size - 1));
    }
    bool indexed_as(std::uint16_t id, const transport::endpoint& peer,
                    std::uint16_t peer_tid) const noexcept {
        const auto& t = tunnels_[id - 1];
        return t.peer.addr == peer.addr && t.peer.port == peer.port && t.peer_id == peer_tid;
    }
    std::optional<std::uint16_t> index_find(const transport::endpoint& peer,
                                            std::uint16_t peer_tid) const noexcept {
        for (std::size_t i = slot_of(peer, peer_tid), n = 0; n < index_size;
             i = (i + 1) & (index_size - 1), ++n) {
            auto id = index_[i];
            if (id == 0) return std::nullopt;
            if (indexed_as(id, peer, peer_tid)) return id;
        }
        return std::nullopt;
    }
    void index_insert(std::uint16_t id) noexcept {
        const auto& t = tunnels_[id - 1];
        if (t.peer_id == 0) return;  // not known yet (initiator before SCCRP)
        for (std::size_t i = slot_of(t.peer, t.peer_id);; i = (i + 1) & (index_size - 1)) {
            if (index_[i] == 0 || index_[i] == id) {
                index_[i] = id;
                return;
            }
        }
    }
    void index_erase(std::uint16_t id) noexcept {
        const auto& t = tunnels_[id - 1];
        if (t.peer_id == 0) return;
        std::size_t i = slot_of(t.peer, t.peer_id);
        for (std::size_t n = 0; index_[i] != id; i = (i + 1) & (index_size - 1), ++n)
            if (index_[i] == 0 || n == index_size) return;
        // Backward-shift deletion keeps probe sequences intact.
        index_[i] = 0;
        for (std::size_t j = (i + 1) & (index_size - 1); index_[j] != 0;
             j = (j + 1) & (index_size - 1)) {
            auto moved = index_[j];
            const auto& m = tunnels_[moved - 1];
            index_[j] = 0;
            for (std::size_t k = slot_of(m.peer, m.peer_id);; k = (k + 1) & (index_size - 1)) {
                if (index_[k] == 0) {
                    index_[k] = moved;
                    break;
                }
            }
        }
    }

    engine_config cfg_;
    Random rng_;
    std::optional<typename Crypto::hash> md5_;
    std::array<tunnel_type, max_tunnels> tunnels_{};
    std::array<session, max_sessions> sessions_{};
    std::array<std::uint16_t, max_tunnels> free_tunnels_{};
    std::array<std::uint16_t, max_sessions> free_sessions_{};
    std::size_t n_free_tunnels_ = 0, n_free_sessions_ = 0;
    std::array<std::uint16_t, index_size> index_{};
    std::array<std::uint16_t, max_tunnels> touched_{};
    std::array<bool, max_tunnels> in_touched_{};
    std::size_t touched_head_ = 0, n_touched_ = 0;
    mutable deadline_heap<max_tunnels> timers_{};   // deadline() re-keys early heads
    std::array<std::uint16_t, max_tunnels> due_{};  // on_timer's scratch
    std::array<engine_event, 256> events_{};
    std::size_t ev_head_ = 0, n_events_ = 0;
    std::array<std::byte, Limits::channel::header_size + 1024> scratch_{};
    std::array<std::byte, 1024> unhide_buf_{};
    std::uint32_t serial_ = 0;
    engine_stats stats_{};
};

}  // namespace l2sec::l2tp
