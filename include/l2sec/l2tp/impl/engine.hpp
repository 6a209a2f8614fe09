// The bodies of l2tp::engine (declared and documented in l2tp/engine.hpp):
// commands, input, output, timers and bookkeeping; the control-message
// handlers are in impl/engine_control.hpp, the admission of new tunnels
// (SCCRQ, tie breaker, flood limits, duplicate index) in impl/engine_admission.hpp.
#pragma once

#include <l2sec/l2tp/detail/messages.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/l2tp/impl/engine_admission.hpp>
#include <l2sec/l2tp/impl/engine_control.hpp>

#include <algorithm>
#include <array>
#include <cstddef>

namespace l2sec::l2tp {

// Out-of-class definitions of engine<Crypto, Limits, Random>'s members.
#define L2SEC_L2TP_ENGINE template <class Crypto, class Limits, class Random>
#define L2SEC_L2TP_ENGINE_T engine<Crypto, Limits, Random>

L2SEC_L2TP_ENGINE
L2SEC_L2TP_ENGINE_T::engine(const engine_config& cfg, Random&& random) noexcept
    : cfg_(cfg), rng_(std::move(random)) {
    if (auto h = Crypto::make_hash(crypto::hash_id::md5); h && h->output_size() == 16)
        md5_.emplace(std::move(*h));
}

// ---- views ----------------------------------------------------------------

L2SEC_L2TP_ENGINE
auto L2SEC_L2TP_ENGINE_T::find_tunnel(std::uint16_t id) const noexcept -> const tunnel_type* {
    if (id == 0 || id > max_tunnels) return nullptr;
    const auto& t = tunnels_[id - 1];
    return t.state == tunnel_state::idle ? nullptr : &t;
}

L2SEC_L2TP_ENGINE
const session* L2SEC_L2TP_ENGINE_T::find_session(std::uint16_t id) const noexcept {
    if (id == 0 || id > max_sessions) return nullptr;
    const auto& s = sessions_[id - 1];
    return s.state == session_state::idle ? nullptr : &s;
}

L2SEC_L2TP_ENGINE
std::optional<tunnel_view> L2SEC_L2TP_ENGINE_T::tunnel_info(std::uint16_t id) const noexcept {
    const auto* t = find_tunnel(id);
    if (!t) return std::nullopt;
    return tunnel_view{t->state,        t->initiator,      t->local_id,
                       t->peer_id,      t->peer,           std::string_view(t->peer_host.data()),
                       t->calls.size(), t->channel.stats()};
}

L2SEC_L2TP_ENGINE
std::optional<session_view> L2SEC_L2TP_ENGINE_T::session_info(std::uint16_t id) const noexcept {
    const auto* s = find_session(id);
    if (!s) return std::nullopt;
    return static_cast<const session_view&>(*s);
}

// ---- commands -------------------------------------------------------------

L2SEC_L2TP_ENGINE
result<std::uint16_t> L2SEC_L2TP_ENGINE_T::open_tunnel(const transport::endpoint& peer,
                                                       time_point now) noexcept {
    auto id = tunnel_ids_.acquire();
    if (!id) return error(engine_errc::out_of_tunnels, 0, "tunnels");
    auto& t = tunnels_[*id - 1];
    init_tunnel(t, *id, peer, true, now);
    t.state = tunnel_state::wait_ctl_reply;
    std::array<std::byte, 8> tb{};
    if (!rng_.fill(tb)) {
        free_tunnel(t);
        return error(engine_errc::random_failed, 0, "Tie Breaker");
    }
    t.tie_breaker = load_be64(tb.data());
    message_builder b(scratch_, 0, 0, 0, 0);
    b.add(avps::message_type{message_type::sccrq});
    detail::add_tunnel_avps(b, cfg_, t.local_id, channel_type::receive_window_size);
    if (cfg_.send_tie_breaker) b.add(avps::tie_breaker{t.tie_breaker});
    if (!add_challenge(t, b)) {
        free_tunnel(t);
        return error(engine_errc::random_failed, 0, "Challenge");
    }
    if (auto r = queue(t, b, now); !r) {
        free_tunnel(t);
        return r.error();
    }
    reschedule(t);
    return *id;
}

L2SEC_L2TP_ENGINE
result<std::uint16_t> L2SEC_L2TP_ENGINE_T::open_session(std::uint16_t tunnel_id, time_point now,
                                                        bool outgoing_call,
                                                        std::string_view called_number) noexcept {
    auto* t = live_tunnel(tunnel_id);
    if (!t || t->state != tunnel_state::established)
        return error(engine_errc::tunnel_not_established, 0, "tunnel");
    auto sid = session_ids_.acquire();
    if (!sid) return error(engine_errc::out_of_sessions, 0, "sessions");
    auto& s = new_session(*t, *sid);
    s.state = session_state::wait_reply;
    s.outgoing = outgoing_call;
    s.serial = ++serial_;
    auto b = builder(*t);
    b.add(avps::message_type{outgoing_call ? message_type::ocrq : message_type::icrq});
    add_session_id(b, *sid);
    detail::add_call_request_avps(b, cfg_, outgoing_call, s.serial, called_number);
    auto r = queue(*t, b, now);
    reschedule(*t);
    if (!r) {
        release_session(s, *t);
        return r.error();
    }
    return *sid;
}

L2SEC_L2TP_ENGINE
result<void> L2SEC_L2TP_ENGINE_T::close_session(std::uint16_t session_id, time_point now,
                                                std::uint16_t result,
                                                std::uint16_t error_code) noexcept {
    auto* s = live_session(session_id);
    if (!s) return error(engine_errc::no_such_session, 0, "session");
    auto r = send_on_call(session_id, now, message_type::cdn, [&](message_builder& b) {
        detail::add_result(b, result, error_code);
        add_session_id(b, session_id);
    });
    auto& t = tunnels_[s->tunnel - 1];
    push_event({event_kind::session_down, t.local_id, s->local_id, result, error_code, {}});
    release_session(*s, t);
    return r;
}

L2SEC_L2TP_ENGINE
result<void> L2SEC_L2TP_ENGINE_T::close_tunnel(std::uint16_t tunnel_id, time_point now,
                                               std::uint16_t result,
                                               std::uint16_t error_code) noexcept {
    auto* t = live_tunnel(tunnel_id);
    if (!t) return error(engine_errc::no_such_tunnel, 0, "tunnel");
    if (t->state == tunnel_state::closing || t->state == tunnel_state::closed_wait) return {};
    auto r = stop(*t, now, result, error_code);
    reschedule(*t);
    return r;
}

L2SEC_L2TP_ENGINE
result<void> L2SEC_L2TP_ENGINE_T::send_wen(std::uint16_t session_id, time_point now,
                                           const avps::call_errors& errors) noexcept {
    return send_on_call(session_id, now, message_type::wen,
                        [&](message_builder& b) { b.add(errors); });
}

L2SEC_L2TP_ENGINE
result<void> L2SEC_L2TP_ENGINE_T::send_sli(std::uint16_t session_id, time_point now,
                                           std::uint32_t send_accm,
                                           std::uint32_t receive_accm) noexcept {
    return send_on_call(session_id, now, message_type::sli, [&](message_builder& b) {
        b.add(avps::accm{send_accm, receive_accm});
    });
}

// A message on a call: its type, then what `add` writes; queued, timers kept.
L2SEC_L2TP_ENGINE
template <class Add>
result<void> L2SEC_L2TP_ENGINE_T::send_on_call(std::uint16_t session_id, time_point now,
                                               message_type type, Add&& add) noexcept {
    auto* s = live_session(session_id);
    if (!s) return error(engine_errc::no_such_session, 0, "session");
    auto& t = tunnels_[s->tunnel - 1];
    auto b = builder(t, s->peer_id);
    b.add(avps::message_type{type});
    add(b);
    auto r = queue(t, b, now);
    reschedule(t);
    return r;
}

L2SEC_L2TP_ENGINE
result<outgoing> L2SEC_L2TP_ENGINE_T::encode_data(std::uint16_t session_id, bytes_view ppp,
                                                  mutable_bytes out) noexcept {
    auto* s = live_session(session_id);
    if (!s || s->state != session_state::established)
        return error(engine_errc::session_not_established, 0, "session");
    const auto& t = tunnels_[s->tunnel - 1];
    header h = data_header(t.peer_id, s->peer_id);
    if (s->sequencing) {
        h.has_sequence = true;
        h.ns = s->data_ns++;
        h.nr = 0;
    }
    auto n = write_data_header(out, h, ppp.size());
    if (!n) return n.error();
    if (out.size() < *n + ppp.size()) return error(l2sec::errc::buffer_too_small, *n, "payload");
    copy_to(out.subspan(*n), ppp);
    ++stats_.data_out;
    return outgoing{t.peer, *n + ppp.size()};
}

// ---- input ----------------------------------------------------------------

L2SEC_L2TP_ENGINE
result<input> L2SEC_L2TP_ENGINE_T::handle_datagram(const transport::endpoint& from,
                                                   bytes_view dgram, time_point now) noexcept {
    // Data messages (T=0) take the fast path: no header struct, no control checks.
    if (!dgram.empty() && !(std::to_integer<unsigned>(dgram[0]) & 0x80)) {
        auto d = decode_data(dgram);
        if (!d) return drop(d.error());
        return handle_data(*d, from, now);
    }
    auto h = decode_header(dgram);
    if (!h) {
        ++stats_.dropped;
        return h.error();
    }
    ++stats_.control_in;
    tunnel_type* t = nullptr;
    if (h->tunnel_id == 0) {
        auto a = accept_sccrq(from, dgram, now);
        if (!a) return drop(a.error());
        if (*a == nullptr) return input{};  // the tie breaker says the peer's tunnel goes
        t = *a;
    } else {
        t = live_tunnel(h->tunnel_id);
        if (!t) return drop(error(engine_errc::unknown_tunnel, 4, "Tunnel ID"));
        if (t->peer.addr != from.addr) return drop(error(engine_errc::wrong_peer, 0, "source"));
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

// ---- output and timers ----------------------------------------------------

L2SEC_L2TP_ENGINE
std::optional<outgoing> L2SEC_L2TP_ENGINE_T::poll_transmit(time_point now,
                                                           mutable_bytes out) noexcept {
    while (!touched_.empty()) {
        const std::uint16_t id = touched_.front();
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
        touched_.pop_front();
    }
    return std::nullopt;
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_timer(time_point now) noexcept {
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

L2SEC_L2TP_ENGINE
std::optional<time_point> L2SEC_L2TP_ENGINE_T::deadline() const noexcept {
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

// One tunnel's timers, when its deadline has come.
L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::fire(tunnel_type& t, time_point now) noexcept {
    // Free a peer-closed tunnel after the hold time, once its last ACK is out.
    if (t.state == tunnel_state::closed_wait && t.hold_until <= now && !t.channel.ack_pending()) {
        free_tunnel(t);
        return;
    }
    // A half-open tunnel whose SCCCN never came goes silently (its peer may
    // be a spoofed address: nothing is sent to it).
    if (t.state == tunnel_state::wait_ctl_conn && t.half_open_until <= now) {
        ++stats_.half_open_expired;
        free_tunnel(t);
        return;
    }
    if (t.state == tunnel_state::established && t.channel.idle() &&
        t.last_rx + cfg_.hello_interval <= now) {
        auto b = builder(t);
        b.add(avps::message_type{message_type::hello});
        (void)queue(t, b, now);
        t.last_rx = now;
    }
    if (auto d = t.channel.deadline(); d && *d <= now) mark(t);
}

// The earliest of a tunnel's timers: its control channel's, the hold time of
// a peer-closed tunnel, the expiry of a half-open one, the Hello of an
// established one.
L2SEC_L2TP_ENGINE
std::optional<time_point> L2SEC_L2TP_ENGINE_T::tunnel_deadline(
    const tunnel_type& t) const noexcept {
    std::optional<time_point> best = t.channel.deadline();
    auto take = [&](time_point x) {
        if (!best || x < *best) best = x;
    };
    if (t.state == tunnel_state::closed_wait) take(t.hold_until);
    if (t.state == tunnel_state::wait_ctl_conn) take(t.half_open_until);
    if (t.state == tunnel_state::established) take(t.last_rx + cfg_.hello_interval);
    return best;
}

// Every entry point that changes a tunnel's timers calls this before it
// returns, so no heap key is ever later than the tunnel's deadline (only
// last_rx moving later leaves keys early: see deadline()).
L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::reschedule(const tunnel_type& t) noexcept {
    const auto d = t.state == tunnel_state::idle ? std::nullopt : tunnel_deadline(t);
    if (d)
        timers_.set(t.local_id, *d);
    else
        timers_.erase(t.local_id);
}

// ---- sending --------------------------------------------------------------

L2SEC_L2TP_ENGINE
message_builder L2SEC_L2TP_ENGINE_T::builder(const tunnel_type& t,
                                             std::uint16_t peer_session) noexcept {
    return message_builder(scratch_, t.peer_id, peer_session, 0, 0);
}

// Assigned Session ID, hidden (after a fresh Random Vector) when configured.
L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::add_session_id(message_builder& b, std::uint16_t sid) noexcept {
    if (cfg_.hide_avps && !cfg_.secret.empty() && md5_) {
        std::array<std::byte, 16> rv{};
        if (rng_.fill(rv)) {
            b.add(avps::random_vector{bytes_view(rv)});
            b.add_hidden(*md5_, avps::assigned_session_id{sid}, cfg_.secret);
            return;
        }
        // No randomness: do not hide with a fixed Random Vector.
    }
    b.add(avps::assigned_session_id{sid});
}

L2SEC_L2TP_ENGINE
result<void> L2SEC_L2TP_ENGINE_T::queue(tunnel_type& t, message_builder& b,
                                        time_point now) noexcept {
    auto m = b.finish();
    if (!m) return m.error();
    auto r = t.channel.send(*m, now);
    mark(t);
    return r;
}

L2SEC_L2TP_ENGINE
result<void> L2SEC_L2TP_ENGINE_T::stop(tunnel_type& t, time_point now, std::uint16_t rc,
                                       std::uint16_t ec) noexcept {
    auto b = builder(t);
    b.add(avps::message_type{message_type::stopccn});
    b.add(avps::assigned_tunnel_id{t.local_id});
    detail::add_result(b, rc, ec);
    auto r = queue(t, b, now);
    drop_sessions(t, cdn_result::administrative);
    index_erase(t);
    leave_half_open(t);
    t.state = tunnel_state::closing;
    t.result_code = rc;
    return r;
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::mark(tunnel_type& t) noexcept {
    if (in_touched_[t.local_id - 1]) return;
    in_touched_[t.local_id - 1] = true;
    (void)touched_.push(t.local_id);  // never full: a tunnel is on it at most once
}

// ---- bookkeeping ----------------------------------------------------------

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::lost(tunnel_type& t) noexcept {
    drop_sessions(t, cdn_result::lost_carrier);
    push_event({event_kind::tunnel_down,
                t.local_id,
                0,
                t.state == tunnel_state::closing ? t.result_code : stopccn_result::general_error,
                general_error::no_control_connection,
                {}});
    free_tunnel(t);
}

// O(sessions of this tunnel): each tunnel lists its sessions.
L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::drop_sessions(tunnel_type& t, std::uint16_t rc) noexcept {
    while (!t.calls.empty()) {
        auto& s = sessions_[t.calls.front() - 1];
        push_event({event_kind::session_down, t.local_id, s.local_id, rc, 0, {}});
        release_session(s, t);
    }
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::report(tunnel_type& t, const l2sec::error& e) noexcept {
    push_event({event_kind::protocol_error, t.local_id, 0, 0, 0, e});
}

L2SEC_L2TP_ENGINE
result<input> L2SEC_L2TP_ENGINE_T::drop(const l2sec::error& e) noexcept {
    ++stats_.dropped;
    return e;
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::push_event(const engine_event& e) noexcept {
    if (!events_.push(e)) ++stats_.events_lost;
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::init_tunnel(tunnel_type& t, std::uint16_t id,
                                      const transport::endpoint& peer, bool initiator,
                                      time_point now) noexcept {
    t.state = tunnel_state::idle;
    t.initiator = initiator;
    t.challenged = false;
    t.answer_ready = false;
    t.local_id = id;
    t.peer_id = 0;
    t.result_code = 0;
    t.tie_breaker = 0;
    t.peer = peer;
    t.peer_host.fill('\0');
    t.calls.clear();
    t.half_open = {};
    t.last_rx = now;
    t.channel = channel_type(cfg_.channel);
}

L2SEC_L2TP_ENGINE
auto L2SEC_L2TP_ENGINE_T::live_tunnel(std::uint16_t id) noexcept -> tunnel_type* {
    return const_cast<tunnel_type*>(find_tunnel(id));
}

L2SEC_L2TP_ENGINE
session* L2SEC_L2TP_ENGINE_T::live_session(std::uint16_t id) noexcept {
    return const_cast<session*>(find_session(id));
}

// Rare path (an SCCRQ crossing ours): a scan is acceptable.
L2SEC_L2TP_ENGINE
auto L2SEC_L2TP_ENGINE_T::pending_to(const transport::endpoint& peer) noexcept -> tunnel_type* {
    for (auto& t : tunnels_)
        if (t.state == tunnel_state::wait_ctl_reply && t.peer.addr == peer.addr) return &t;
    return nullptr;
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::free_tunnel(tunnel_type& t) noexcept {
    drop_sessions(t, cdn_result::lost_carrier);
    index_erase(t);
    leave_half_open(t);
    timers_.erase(t.local_id);
    t.state = tunnel_state::idle;
    (void)tunnel_ids_.release(t.local_id);
}

L2SEC_L2TP_ENGINE
session& L2SEC_L2TP_ENGINE_T::new_session(tunnel_type& t, std::uint16_t sid) noexcept {
    auto& s = sessions_[sid - 1];
    s = session{};
    s.tunnel = t.local_id;
    s.local_id = sid;
    t.calls.push_front([this](std::uint16_t id) -> list_hook& { return session_hook(id); }, sid);
    return s;
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::release_session(session& s, tunnel_type& t) noexcept {
    auto at = [this](std::uint16_t id) -> list_hook& { return session_hook(id); };
    if (!t.calls.erase(at, s.local_id)) return;  // already released
    s.state = session_state::idle;
    (void)session_ids_.release(s.local_id);
}

#undef L2SEC_L2TP_ENGINE_T
#undef L2SEC_L2TP_ENGINE

}  // namespace l2sec::l2tp
