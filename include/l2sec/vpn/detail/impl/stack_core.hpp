// The bodies of vpn::detail::stack_core's control plane (declared in
// vpn/detail/stack_core.hpp): installing SAs, and turning the L2TP and PPP
// engines' events into reports, links and timers. Off the per-packet path.
#pragma once

#include <l2sec/vpn/detail/stack_core.hpp>

namespace l2sec::vpn::detail {

#define L2SEC_VPN_CORE                                                             \
    template <class Crypto, class Random, class Credentials, std::size_t MaxPeers, \
              std::size_t MaxSessions, std::size_t PoolCapacity>
#define L2SEC_VPN_CORE_T \
    stack_core<Crypto, Random, Credentials, MaxPeers, MaxSessions, PoolCapacity>

L2SEC_VPN_CORE
result<peer_handle> L2SEC_VPN_CORE_T::install(const esp_pair& p) noexcept {
    auto in = esp_type::make(p.in, rng_);
    if (!in) return in.error();
    auto out = esp_type::make(p.out, rng_);
    if (!out) return out.error();
    std::uint32_t idx;
    if (auto h = find_peer(p.peer)) {
        idx = h->slot - 1;
    } else {
        if (n_free_peers_ == 0) return error(errc::capacity_exceeded, 0, "peers");
        idx = free_peers_[--n_free_peers_] - 1;
        auto& s = peers_[idx];
        s.used = true;
        ++s.generation;
        s.peer = p.peer;
        s.tunnel = 0;
        s.session = 0;
        peer_index_.insert(endpoint_key(p.peer), idx);
    }
    auto& s = peers_[idx];
    s.local = p.local;
    s.udp_encap = p.udp_encap;
    s.inner_port = p.peer_l2tp_port;
    // A rekey keeps the two newest SAs open: the new one, and the current one
    // as the previous until it is removed (packets in flight). That holds when
    // the new SA replaces the previous one too (two rekeys crossing): the
    // replaced SA is then the oldest and goes. An SA that replaces neither is
    // a fresh start: both go. Every SA that goes leaves the SPI index.
    bool rekey = false;
    for (std::size_t k = 0; k < 2; ++k)
        if (s.in[k] && p.replaces_spi_in && s.in[k]->spi() == p.replaces_spi_in) rekey = true;
    if (s.in[1]) drop_in(s, 1);
    if (s.in[0]) {
        if (!rekey)
            drop_in(s, 0);
        else {
            s.in[1] = std::move(s.in[0]);
            s.in[0].reset();
            sync_in(s);
        }
    }
    if (!spi_index_.insert(p.in.spi, idx)) return error(errc::capacity_exceeded, 0, "SPIs");
    s.in[0] = std::move(*in);
    sync_in(s);
    s.out = std::move(*out);
    return peer_handle{idx + 1, s.generation};
}

L2SEC_VPN_CORE
void L2SEC_VPN_CORE_T::service(std::uint16_t sid, time_point now) noexcept {
    auto& s = sessions_[sid];
    if (!s.link) return;
    mark(sid);
    while (auto ev = s.link->poll_event()) {
        switch (ev->kind) {
            case ppp::link_event_kind::ipcp_up: {
                s.up = true;
                ++sessions_up_;
                report r{};
                r.kind = report_kind::ppp_up;
                r.session = sid;
                fill_peer(r, sid);
                r.local_ip = ev->local_ip;
                r.peer_ip = ev->peer_ip;
                r.dns = ev->dns1;
                r.set_user(cfg_.server ? s.link->authenticated_user() : cfg_.link.user);
                if (cfg_.server && pool_ && pool_->contains(s.ip))
                    ip_session_[pool_->index_of(s.ip)] = sid;
                if (!cfg_.server) s.ip = ev->local_ip;
                push(r);
                break;
            }
            case ppp::link_event_kind::ipcp_down:
                if (s.up) {
                    --sessions_up_;
                    report r{};
                    r.kind = report_kind::ppp_down;
                    r.session = sid;
                    fill_peer(r, sid);
                    push(r);
                }
                s.up = false;
                break;
            case ppp::link_event_kind::auth_failure: {
                report r{};
                r.kind = report_kind::auth_failed;
                r.session = sid;
                fill_peer(r, sid);
                r.set_user(cfg_.server ? s.link->authenticated_user() : cfg_.link.user);
                r.reason = error(errc::auth_failed, 0, "PPP");
                push(r);
                break;
            }
            case ppp::link_event_kind::echo_timeout:
            case ppp::link_event_kind::finished:
                // The link is dead: hang up the call (CDN), after the
                // link's last frames (Terminate-Ack) have gone out.
                pending_close_ = sid;
                break;
            default:
                break;
        }
    }
    if (!s.started)
        timers_.set(sid, s.start_at);
    else if (auto d = s.link->deadline())
        timers_.set(sid, *d);
    else if (timers_.contains(sid))
        timers_.erase(sid);
    if (pending_close_ == sid) {
        pending_close_ = 0;
        (void)l2tp_.close_session(sid, now);
        service_l2tp(now);
    }
}

L2SEC_VPN_CORE
void L2SEC_VPN_CORE_T::service_l2tp(time_point now) noexcept {
    while (auto ev = l2tp_.poll_event()) {
        report r{};
        r.tunnel = ev->tunnel;
        r.session = ev->session;
        if (ev->tunnel && ev->tunnel <= tunnel_peer_.size())
            if (std::uint32_t pi = tunnel_peer_[ev->tunnel - 1]) {
                r.peer = {pi, peers_[pi - 1].generation};
                r.endpoint = peers_[pi - 1].peer;
            }
        switch (ev->kind) {
            case l2tp::event_kind::tunnel_up:
                r.kind = report_kind::l2tp_tunnel_up;
                push(r);
                if (!cfg_.server) {
                    if (auto sid = l2tp_.open_session(ev->tunnel, now); !sid) {
                        r.kind = report_kind::failed;
                        r.reason = sid.error();
                        push(r);
                    }
                }
                break;
            case l2tp::event_kind::session_up:
                r.kind = report_kind::l2tp_session_up;
                push(r);
                start_link(ev->session, r, now);
                break;
            case l2tp::event_kind::session_down:
                end_link(ev->session, now);
                r.kind = report_kind::l2tp_session_down;
                push(r);
                break;
            case l2tp::event_kind::tunnel_down:
                r.kind = report_kind::l2tp_tunnel_down;
                r.reason = ev->error;
                push(r);
                if (ev->tunnel && ev->tunnel <= tunnel_peer_.size()) {
                    if (std::uint32_t pi = tunnel_peer_[ev->tunnel - 1];
                        pi && peers_[pi - 1].tunnel == ev->tunnel)
                        peers_[pi - 1].tunnel = 0;
                    tunnel_peer_[ev->tunnel - 1] = 0;
                }
                break;
            case l2tp::event_kind::protocol_error:
                r.kind = report_kind::dropped;
                r.reason = ev->error;
                push(r);
                break;
            default:
                break;
        }
    }
}

L2SEC_VPN_CORE
void L2SEC_VPN_CORE_T::start_link(std::uint16_t sid, report& r, time_point now) noexcept {
    if (sid == 0 || sid > MaxSessions) return;
    auto& s = sessions_[sid];
    ppp::link_config lc = cfg_.link;
    if (cfg_.server) {
        auto ip = pool_ ? pool_->allocate() : std::nullopt;
        if (!ip) {
            r.kind = report_kind::failed;
            r.reason = error(errc::pool_exhausted, 0, "address pool");
            push(r);
            (void)l2tp_.close_session(sid, now);
            return;
        }
        s.ip = *ip;
        lc.peer_ip = *ip;
    }
    if (creds_)
        s.link.emplace(lc, rng_ref(rng_), *creds_);
    else
        s.link.emplace(lc, rng_ref(rng_));
    s.has_template = false;
    if (const auto* ls = l2tp_.find_session(sid);
        ls && ls->state == l2tp::session_state::established && !ls->sequencing)
        if (const auto* t = l2tp_.find_tunnel(ls->tunnel)) {
            auto h = l2tp::data_header(t->peer_id, ls->peer_id);
            s.has_template = l2tp::write_data_header(s.l2tp_template, h, 0).value_or(0) ==
                             s.l2tp_template.size();
        }
    s.started = false;
    s.start_at = now + cfg_.first_frame_wait;
    if (cfg_.first_frame_wait <= duration::zero()) begin_link(s, now);
    service(sid, now);
}

L2SEC_VPN_CORE
void L2SEC_VPN_CORE_T::end_link(std::uint16_t sid, time_point now) noexcept {
    if (sid == 0 || sid > MaxSessions) return;
    auto& s = sessions_[sid];
    if (!s.link) return;
    s.link->lower_down(now);
    while (s.link->poll_event()) {
    }
    if (s.up) --sessions_up_;
    s.up = false;
    if (cfg_.server && pool_ && pool_->contains(s.ip)) {
        if (ip_session_[pool_->index_of(s.ip)] == sid) ip_session_[pool_->index_of(s.ip)] = 0;
        pool_->release(s.ip);
    }
    s.ip = 0;
    s.has_template = false;
    if (timers_.contains(sid)) timers_.erase(sid);
    s.started = false;  // on_l2tp: started implies a link
    s.link.reset();
}

#undef L2SEC_VPN_CORE_T
#undef L2SEC_VPN_CORE

}  // namespace l2sec::vpn::detail
