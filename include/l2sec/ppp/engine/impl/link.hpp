// The bodies of ppp::link_engine (declared and documented in
// ppp/engine/link.hpp): frames in, timers, and the phase changes of RFC 1661 3.2.
#pragma once

#include <l2sec/ppp/engine/link.hpp>

namespace l2sec::ppp {

#define L2SEC_PPP_LINK \
    template <class Crypto, class Random, class Credentials, std::size_t QueueFrames>
#define L2SEC_PPP_LINK_T link_engine<Crypto, Random, Credentials, QueueFrames>

L2SEC_PPP_LINK
L2SEC_PPP_LINK_T::link_engine(const link_config& cfg, Random&& random,
                              Credentials* credentials) noexcept
    : cfg_(cfg), rng_(std::move(random)) {
    lcp_.attach(&q_);
    ipcp_.attach(&q_);
    ipv6cp_.attach(&q_);
    lcp_.fsm = automaton(cfg.timers);
    ipcp_.fsm = automaton(cfg.timers);
    ipv6cp_.fsm = automaton(cfg.timers);
    auto& l = lcp_.policy;
    l.mru = cfg.mru;
    l.require = cfg.server ? cfg.require : auth_method::none;
    l.can_answer = cfg.can_answer;
    if (cfg.user.empty()) l.can_answer = {};
    l.random = &rng_;
    auto& ip = ipcp_.policy;
    ip.server = cfg.server;
    ip.local = cfg.local_ip;
    ip.peer = cfg.peer_ip;
    ip.dns1 = cfg.dns1;
    ip.dns2 = cfg.dns2;
    ip.ask_dns = cfg.ask_dns;
    ipv6cp_.policy.random = &rng_;
    server_auth_.method = l.require;
    server_auth_.name = cfg.name;
    server_auth_.credentials = credentials;
    server_auth_.random = &rng_;
    server_auth_.timing = cfg.auth;
    client_auth_.user = cfg.user;
    client_auth_.password = cfg.password;
    client_auth_.random = &rng_;
    client_auth_.timing = cfg.auth;
}

L2SEC_PPP_LINK
result<std::optional<bytes_view>> L2SEC_PPP_LINK_T::handle_frame(bytes_view frame,
                                                                 time_point now) noexcept {
    auto f = decode_frame(frame);
    if (!f) return f.error();
    const std::size_t base = f->header_size;
    std::optional<bytes_view> out;
    switch (f->protocol) {
        case protocol::lcp: {
            auto p = lcp_.handle(f->information, now, base);
            if (!p) return p.error();
            on_lcp_extra(*p, now);
            break;
        }
        case protocol::pap:
        case protocol::chap:
            if (phase_ != phase::authenticate && phase_ != phase::network) break;
            server_auth_.handle(f->protocol, f->information, q_);
            client_auth_.handle(f->protocol, f->information, q_, now);
            break;
        case protocol::ipcp:
            implicit_auth_success(now);
            if (phase_ != phase::network) break;
            if (auto r = ipcp_.handle(f->information, now, base); !r) return r.error();
            break;
        case protocol::ipv6cp:
            implicit_auth_success(now);
            if (phase_ != phase::network) break;
            if (!cfg_.ipv6) {
                lcp_.send_protocol_reject(f->protocol, f->information);
                break;
            }
            if (auto r = ipv6cp_.handle(f->information, now, base); !r) return r.error();
            break;
        case protocol::ip:
            if (ipcp_.current() == state::opened) out = f->information;
            break;
        case protocol::ipv6:
            if (ipv6cp_.current() == state::opened) out = f->information;
            break;
        default:
            // RFC 1661 5.7: an unsupported protocol is Protocol-Rejected once LCP is open.
            if (lcp_.current() == state::opened)
                lcp_.send_protocol_reject(f->protocol, f->information);
            break;
    }
    after(now);
    return out;
}

L2SEC_PPP_LINK
std::optional<time_point> L2SEC_PPP_LINK_T::deadline() const noexcept {
    std::optional<time_point> d;
    auto take = [&](std::optional<time_point> t) {
        if (t && (!d || *t < *d)) d = t;
    };
    take(lcp_.fsm.deadline());
    take(ipcp_.fsm.deadline());
    take(ipv6cp_.fsm.deadline());
    if (phase_ == phase::authenticate) {
        take(server_auth_.deadline());
        take(client_auth_.deadline());
    }
    if (lcp_.current() == state::opened && cfg_.echo_interval.count() > 0) take(next_echo_);
    return d;
}

L2SEC_PPP_LINK
void L2SEC_PPP_LINK_T::on_timer(time_point now) noexcept {
    lcp_.on_timer(now);
    ipcp_.on_timer(now);
    ipv6cp_.on_timer(now);
    if (phase_ == phase::authenticate) {
        server_auth_.on_timer(now, q_);
        client_auth_.on_timer(now, q_);
    }
    if (lcp_.current() == state::opened && cfg_.echo_interval.count() > 0 && now >= next_echo_) {
        if (echo_outstanding_ >= cfg_.echo_failures) {
            push({link_event_kind::echo_timeout});
            lcp_.close(now);
        } else {
            ++echo_outstanding_;
            (void)lcp_.send_echo_request();
            next_echo_ = now + cfg_.echo_interval;
        }
    }
    after(now);
}

L2SEC_PPP_LINK
void L2SEC_PPP_LINK_T::implicit_auth_success(time_point now) noexcept {
    if (phase_ != phase::authenticate || server_auth_.method != auth_method::none) return;
    if (client_auth_.assume_success()) after(now);
}

L2SEC_PPP_LINK
void L2SEC_PPP_LINK_T::on_lcp_extra(const packet_view& p, time_point now) noexcept {
    if (lcp_.current() != state::opened) return;
    switch (p.code) {
        case code::echo_request:
            if (p.magic_number() != 0 && p.magic_number() == lcp_.magic)
                push({link_event_kind::loopback});
            break;
        case code::echo_reply:
            echo_outstanding_ = 0;
            break;
        case code::protocol_reject:
            if (p.rejected_protocol() == protocol::ipcp) ipcp_.protocol_rejected(now);
            if (p.rejected_protocol() == protocol::ipv6cp) ipv6cp_.protocol_rejected(now);
            break;
        default:
            break;
    }
}

L2SEC_PPP_LINK
void L2SEC_PPP_LINK_T::after(time_point now) noexcept {
    if (lcp_.flags.started) lcp_.flags.started = false;
    if (lcp_.flags.up) {
        lcp_.flags.up = false;
        lcp_.magic = lcp_.policy.magic;
        lcp_.peer_mru = lcp_.policy.peer_mru;
        push({link_event_kind::lcp_up});
        echo_outstanding_ = 0;
        next_echo_ = now + cfg_.echo_interval;
        if (lcp_.policy.loop_suspected) push({link_event_kind::loopback});
        begin_auth(now);
    }
    if (lcp_.flags.down) {
        lcp_.flags.down = false;
        push({link_event_kind::lcp_down});
        ipcp_.down(now);
        ipv6cp_.down(now);
        phase_ = phase::terminate;
        // Keep what was negotiated so far: the Configure-Request just
        // answered (RCR in Opened) already set the peer's demands.
    }
    if (lcp_.flags.finished) {
        lcp_.flags.finished = false;
        phase_ = phase::dead;
        push({link_event_kind::finished});
    }
    if (phase_ == phase::authenticate) {
        auto s = server_auth_.method == auth_method::none ? auth_outcome::success
                                                          : server_auth_.outcome();
        auto c = client_auth_.method == auth_method::none ? auth_outcome::success
                                                          : client_auth_.outcome();
        if (s == auth_outcome::failure || c == auth_outcome::failure) {
            push({link_event_kind::auth_failure, 0, 0, 0, 0, 0, 0,
                  s == auth_outcome::failure ? server_auth_.method : client_auth_.method});
            phase_ = phase::terminate;
            lcp_.close(now);
        } else if (s == auth_outcome::success && c == auth_outcome::success) {
            if (server_auth_.method != auth_method::none ||
                client_auth_.method != auth_method::none)
                push({link_event_kind::auth_success, 0, 0, 0, 0, 0, 0,
                      server_auth_.method != auth_method::none ? server_auth_.method
                                                               : client_auth_.method});
            begin_network(now);
        }
    }
    if (ipcp_.flags.up) {
        ipcp_.flags.up = false;
        auto& p = ipcp_.policy;
        push({link_event_kind::ipcp_up, p.local, p.peer, p.dns1, p.dns2, 0, 0, auth_method::none});
    }
    if (ipcp_.flags.down) {
        ipcp_.flags.down = false;
        push({link_event_kind::ipcp_down});
    }
    if (ipv6cp_.flags.up) {
        ipv6cp_.flags.up = false;
        push({link_event_kind::ipv6cp_up, 0, 0, 0, 0, ipv6cp_.policy.local, ipv6cp_.policy.peer,
              auth_method::none});
    }
    if (ipv6cp_.flags.down) {
        ipv6cp_.flags.down = false;
        push({link_event_kind::ipv6cp_down});
    }
    ipcp_.flags = {};
    ipv6cp_.flags = {};
}

L2SEC_PPP_LINK
void L2SEC_PPP_LINK_T::begin_auth(time_point now) noexcept {
    phase_ = phase::authenticate;
    if (lcp_.policy.require != auth_method::none && lcp_.policy.auth_refused) {
        // We demanded authentication and the peer rejected the option.
        push({link_event_kind::auth_failure, 0, 0, 0, 0, 0, 0, lcp_.policy.require});
        phase_ = phase::terminate;
        lcp_.close(now);
        return;
    }
    server_auth_.method = lcp_.policy.require;
    client_auth_.method = lcp_.policy.peer_requires;
    if (server_auth_.method != auth_method::none) server_auth_.start(now, q_);
    if (client_auth_.method != auth_method::none) client_auth_.start(now, q_);
}

L2SEC_PPP_LINK
void L2SEC_PPP_LINK_T::begin_network(time_point now) noexcept {
    phase_ = phase::network;
    ipcp_.policy.reset();
    ipcp_.up(now);
    ipcp_.open(now);
    if (cfg_.ipv6) {
        ipv6cp_.policy.reset();
        ipv6cp_.up(now);
        ipv6cp_.open(now);
    }
}

#undef L2SEC_PPP_LINK_T
#undef L2SEC_PPP_LINK

}  // namespace l2sec::ppp
