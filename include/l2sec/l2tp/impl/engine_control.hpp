// The bodies of l2tp::engine's control-message handlers: SCCRQ to StopCCN,
// the calls (ICRQ/OCRQ to CDN) and tunnel authentication (declared in
// l2tp/engine.hpp; included by impl/engine.hpp).
#pragma once

#include <l2sec/l2tp/detail/messages.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/l2tp/hidden.hpp>
#include <l2sec/l2tp/validate.hpp>

#include <array>
#include <cstddef>
#include <string_view>

namespace l2sec::l2tp {

namespace detail {

constexpr bool is_tunnel_message(message_type m) noexcept {
    return m == message_type::sccrq || m == message_type::sccrp || m == message_type::scccn ||
           m == message_type::stopccn || m == message_type::hello;
}

// The peer's Host Name, truncated and NUL-terminated.
inline void copy_host(std::array<char, 32>& to, std::string_view h) noexcept {
    to.fill('\0');
    for (std::size_t i = 0; i < h.size() && i + 1 < to.size(); ++i)
        to[i] = h[i];
}

}  // namespace detail

#define L2SEC_L2TP_ENGINE template <class Crypto, class Limits, class Random>
#define L2SEC_L2TP_ENGINE_T engine<Crypto, Limits, Random>

// ---- control message processing -------------------------------------------

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::process(tunnel_type& t, bytes_view msg, time_point now) noexcept {
    auto m = parse_control(msg);
    if (!m) return report(t, m.error());
    if (m->is_zlb()) return;
    if (auto v = validate(*m); !v) {
        report(t, v.error());
        if (detail::is_tunnel_message(m->type()))
            (void)stop(t, now, stopccn_result::general_error, general_error::bad_length);
        return;
    }
    if (auto c = check_mandatory(m->avps()); !c) {
        report(t, c.error());
        // RFC 2661 4.1: an unknown mandatory AVP ends the tunnel or the session.
        if (auto* s = session_of(t, *m))
            (void)close_session(s->local_id, now, cdn_result::general_error,
                                general_error::unknown_mandatory_avp);
        else
            (void)stop(t, now, stopccn_result::general_error, general_error::unknown_mandatory_avp);
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
        case message_type::sli:
            if (auto* s = session_of(t, *m))
                push_event({m->type() == message_type::wen ? event_kind::wan_error
                                                           : event_kind::set_link_info,
                            t.local_id,
                            s->local_id,
                            0,
                            0,
                            {}});
            return;
        default:  // Hello (acknowledged by the channel), and what we do not act on
            return;
    }
}

L2SEC_L2TP_ENGINE
template <class V>
result<V> L2SEC_L2TP_ENGINE_T::get(const message_view& m) noexcept {
    auto a = m.find(V::type);
    if (!a) return error(errc::missing_avp, m.bytes().size(), to_string(V::type));
    if (!a->hidden()) return decode<V>(*a);
    if (!md5_) return error(errc::hash_not_md5, a->offset(), "MD5 context");
    auto plain = unhide(*md5_, *a, cfg_.secret, unhide_buf_);
    if (!plain) return plain.error();
    return V::decode(*plain, a->offset());
}

// Our Challenge, when we have a secret (SCCRQ, SCCRP). False: no randomness.
L2SEC_L2TP_ENGINE
bool L2SEC_L2TP_ENGINE_T::add_challenge(tunnel_type& t, message_builder& b) noexcept {
    if (cfg_.secret.empty()) return true;
    if (!rng_.fill(t.challenge)) return false;
    t.challenged = true;
    b.add(avps::challenge{bytes_view(t.challenge)});
    return true;
}

// The Challenge Response to the peer's Challenge in `m`, if it sent one
// (SCCRP answers SCCRQ's, SCCCN answers SCCRP's). False: the tunnel is stopping.
L2SEC_L2TP_ENGINE
bool L2SEC_L2TP_ENGINE_T::add_response(tunnel_type& t, message_builder& b, const message_view& m,
                                       time_point now, message_type type) noexcept {
    auto ch = m.template get<avps::challenge>();
    if (!ch) return true;
    if (cfg_.secret.empty()) {
        (void)stop(t, now, stopccn_result::not_authorized, general_error::none);
        return false;
    }
    auto r = !md5_ ? result<md5_digest>(error(errc::hash_not_md5, 0, "MD5 context"))
             : type == message_type::sccrp ? sccrp_response(*md5_, cfg_.secret, ch->value)
                                           : scccn_response(*md5_, cfg_.secret, ch->value);
    if (!r) {
        report(t, r.error());
        (void)stop(t, now, stopccn_result::general_error, general_error::none);
        return false;
    }
    b.add(avps::challenge_response{bytes_view(*r)});
    return true;
}

// The peer's answer (in SCCRP or SCCCN, `type`) to the Challenge we sent.
L2SEC_L2TP_ENGINE
bool L2SEC_L2TP_ENGINE_T::check_response(tunnel_type& t, const message_view& m,
                                         message_type type) noexcept {
    if (!t.challenged) return true;
    auto resp = m.template get<avps::challenge_response>();
    return resp && md5_ &&
           verify_challenge_response(*md5_, static_cast<std::uint8_t>(type), cfg_.secret,
                                     t.challenge, resp->value);
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_sccrq(tunnel_type& t, const message_view& m, time_point now) noexcept {
    if (t.state != tunnel_state::wait_ctl_conn || t.answer_ready) return;
    t.answer_ready = true;
    if (auto rws = m.template get<avps::receive_window_size>())
        t.channel.set_peer_window(rws->value);
    if (auto hn = m.template get<avps::host_name>()) detail::copy_host(t.peer_host, hn->text());
    auto b = builder(t);
    b.add(avps::message_type{message_type::sccrp});
    detail::add_tunnel_avps(b, cfg_, t.local_id, channel_type::receive_window_size);
    if (!add_response(t, b, m, now, message_type::sccrp)) return;
    if (!add_challenge(t, b)) {
        (void)stop(t, now, stopccn_result::general_error, general_error::none);
        return;
    }
    (void)queue(t, b, now);
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_sccrp(tunnel_type& t, const message_view& m, time_point now) noexcept {
    if (t.state != tunnel_state::wait_ctl_reply) return;
    auto tid = m.template get<avps::assigned_tunnel_id>();
    if (!tid) return report(t, tid.error());
    index_erase(t);
    t.peer_id = tid->value;
    index_insert(t);
    t.channel.set_peer_tunnel_id(t.peer_id);
    if (auto rws = m.template get<avps::receive_window_size>())
        t.channel.set_peer_window(rws->value);
    if (auto hn = m.template get<avps::host_name>()) detail::copy_host(t.peer_host, hn->text());
    if (!check_response(t, m, message_type::sccrp)) {
        (void)stop(t, now, stopccn_result::not_authorized, general_error::none);
        return;
    }
    auto b = builder(t);
    b.add(avps::message_type{message_type::scccn});
    if (!add_response(t, b, m, now, message_type::scccn)) return;
    (void)queue(t, b, now);
    t.state = tunnel_state::established;
    push_event({event_kind::tunnel_up, t.local_id, 0, 0, 0, {}});
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_scccn(tunnel_type& t, const message_view& m, time_point now) noexcept {
    if (t.state != tunnel_state::wait_ctl_conn) return;
    if (!check_response(t, m, message_type::scccn)) {
        (void)stop(t, now, stopccn_result::not_authorized, general_error::none);
        return;
    }
    leave_half_open(t);
    t.state = tunnel_state::established;
    push_event({event_kind::tunnel_up, t.local_id, 0, 0, 0, {}});
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_stopccn(tunnel_type& t, const message_view& m,
                                     time_point now) noexcept {
    std::uint16_t rc = 0, ec = 0;
    if (auto r = m.template get<avps::result_code>()) {
        rc = r->result;
        ec = r->error_code;
    }
    drop_sessions(t, cdn_result::lost_carrier);
    index_erase(t);
    leave_half_open(t);
    t.state = tunnel_state::closed_wait;
    t.hold_until = now + cfg_.hold_time;
    push_event({event_kind::tunnel_down, t.local_id, 0, rc, ec, {}});
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_call_request(tunnel_type& t, const message_view& m,
                                          time_point now) noexcept {
    if (t.state != tunnel_state::established) return;
    const bool outgoing_call = m.type() == message_type::ocrq;
    auto psid = get<avps::assigned_session_id>(m);
    if (!psid) return report(t, psid.error());
    auto b = builder(t, psid->value);
    auto sid = session_ids_.acquire();
    if (!sid) {
        b.add(avps::message_type{message_type::cdn});
        detail::add_result(b, cdn_result::no_facilities_temporary,
                           general_error::insufficient_resources);
        b.add(avps::assigned_session_id{0});
        (void)queue(t, b, now);
        return;
    }
    auto& s = new_session(t, *sid);
    s.state = session_state::wait_connect;
    s.peer_id = psid->value;
    s.outgoing = outgoing_call;
    if (auto sn = m.template get<avps::call_serial_number>()) s.serial = sn->value;
    b.add(avps::message_type{outgoing_call ? message_type::ocrp : message_type::icrp});
    add_session_id(b, s.local_id);
    (void)queue(t, b, now);
    if (!outgoing_call) {
        push_event({event_kind::incoming_call, t.local_id, s.local_id, 0, 0, {}});
        return;
    }
    // The LAC places the call at once: OCCN follows OCRP.
    auto c = builder(t, s.peer_id);
    c.add(avps::message_type{message_type::occn});
    detail::add_connected_avps(c, cfg_);
    (void)queue(t, c, now);
    s.state = session_state::established;
    s.sequencing = cfg_.sequencing_required;
    push_event({event_kind::outgoing_call, t.local_id, s.local_id, 0, 0, {}});
    push_event({event_kind::session_up, t.local_id, s.local_id, 0, 0, {}});
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_call_reply(tunnel_type& t, const message_view& m,
                                        time_point now) noexcept {
    auto* s = session_of(t, m);
    if (!s || s->state != session_state::wait_reply) return;
    auto psid = get<avps::assigned_session_id>(m);
    if (!psid) return report(t, psid.error());
    s->peer_id = psid->value;
    if (m.type() == message_type::ocrp) {
        s->state = session_state::wait_connect;
        return;
    }
    auto b = builder(t, s->peer_id);
    b.add(avps::message_type{message_type::iccn});
    detail::add_connected_avps(b, cfg_);
    (void)queue(t, b, now);
    s->state = session_state::established;
    s->sequencing = cfg_.sequencing_required;
    push_event({event_kind::session_up, t.local_id, s->local_id, 0, 0, {}});
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_call_connected(tunnel_type& t, const message_view& m) noexcept {
    auto* s = session_of(t, m);
    if (!s || s->state != session_state::wait_connect) return;
    s->state = session_state::established;
    s->sequencing = m.find(avp_type::sequencing_required).has_value();
    push_event({event_kind::session_up, t.local_id, s->local_id, 0, 0, {}});
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::on_cdn(tunnel_type& t, const message_view& m) noexcept {
    session* s = session_of(t, m);
    if (!s) {
        // A CDN with session ID 0 (the call was refused before we learnt
        // the peer's ID): match our ID in Assigned Session ID.
        auto a = get<avps::assigned_session_id>(m);
        if (!a) return;
        auto at = [this](std::uint16_t id) -> list_hook& { return session_hook(id); };
        for (auto id = t.calls.front(); id != 0 && !s; id = intrusive_list::next(at, id))
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

L2SEC_L2TP_ENGINE
session* L2SEC_L2TP_ENGINE_T::session_of(tunnel_type& t, const message_view& m) noexcept {
    auto* s = live_session(m.hdr().session_id);
    return s && s->tunnel == t.local_id ? s : nullptr;
}

#undef L2SEC_L2TP_ENGINE_T
#undef L2SEC_L2TP_ENGINE

}  // namespace l2sec::l2tp
