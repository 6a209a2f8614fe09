// A whole PPP link, sans-I/O: LCP (with Echo keepalive, magic numbers and
// loop detection), authentication in both roles (PAP, CHAP-MD5, MS-CHAPv2),
// then IPCP and IPV6CP, over the RFC 1661 automaton. Frames in and out carry
// address/control and protocol fields, as inside an L2TP data message.
//
//   ppp::link_engine<crypto::botan> l(cfg, crypto::botan::random{});            // client
//   ppp::link_engine<crypto::botan, crypto::botan::random, users> s(cfg, rng, store);  // server
//   l.start(now);                                   // lower layer up + Open
//   auto ip = l.handle_frame(frame, now);           // IP payload, if any
//   while (auto n = l.poll_transmit(buf)) send(buf.first(*n));
//   while (auto ev = l.poll_event()) ...            // lcp_up, auth_success, ipcp_up...
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/ppp/auth.hpp>
#include <l2sec/ppp/automaton.hpp>
#include <l2sec/ppp/credentials.hpp>
#include <l2sec/ppp/frame.hpp>
#include <l2sec/ppp/negotiation.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace l2sec::ppp {

enum class phase : std::uint8_t { dead, establish, authenticate, network, terminate };

constexpr const char* to_string(phase p) noexcept {
    switch (p) {
        case phase::dead:
            return "dead";
        case phase::establish:
            return "establish";
        case phase::authenticate:
            return "authenticate";
        case phase::network:
            return "network";
        case phase::terminate:
            return "terminate";
    }
    return "?";
}

struct link_config {
    bool server = false;                      ///< authenticator and address assigner (LNS side)
    auth_method require = auth_method::none;  ///< server: what the peer must do
    std::array<bool, 4> can_answer{false, true, true,
                                   true};  ///< client: none, PAP, CHAP-MD5, MS-CHAPv2
    std::string_view name = "l2sec";       ///< our CHAP name
    std::string_view user{}, password{};   ///< client credentials
    std::uint16_t mru = 1400;
    std::uint32_t local_ip = 0;  ///< server: its own address; client: 0 (ask)
    std::uint32_t peer_ip = 0;   ///< server: the address given to the client
    std::uint32_t dns1 = 0, dns2 = 0;
    bool ask_dns = false;                               ///< client: request DNS servers
    bool ipv6 = false;                                  ///< also run IPV6CP
    duration echo_interval = std::chrono::seconds(20);  ///< 0 = no keepalive
    std::uint8_t echo_failures = 3;
    automaton_config timers{};
    auth_timing auth{};
};

enum class link_event_kind : std::uint8_t {
    lcp_up,
    lcp_down,
    auth_success,
    auth_failure,
    ipcp_up,
    ipcp_down,
    ipv6cp_up,
    ipv6cp_down,
    echo_timeout,
    loopback,
    finished,  ///< LCP finished: the link is dead
};

constexpr const char* to_string(link_event_kind k) noexcept {
    switch (k) {
        case link_event_kind::lcp_up:
            return "lcp-up";
        case link_event_kind::lcp_down:
            return "lcp-down";
        case link_event_kind::auth_success:
            return "auth-success";
        case link_event_kind::auth_failure:
            return "auth-failure";
        case link_event_kind::ipcp_up:
            return "ipcp-up";
        case link_event_kind::ipcp_down:
            return "ipcp-down";
        case link_event_kind::ipv6cp_up:
            return "ipv6cp-up";
        case link_event_kind::ipv6cp_down:
            return "ipv6cp-down";
        case link_event_kind::echo_timeout:
            return "echo-timeout";
        case link_event_kind::loopback:
            return "loopback";
        case link_event_kind::finished:
            return "finished";
    }
    return "?";
}

struct link_event {
    link_event_kind kind{};
    std::uint32_t local_ip = 0, peer_ip = 0, dns1 = 0, dns2 = 0;
    std::uint64_t local_iid = 0, peer_iid = 0;
    auth_method method = auth_method::none;
};

/// Policies: `Crypto`, a crypto::auth_backend (crypto::botan, or the
/// standard-library-only crypto::portable): MD5 for CHAP, MD4/SHA-1/DES for
/// MS-CHAPv2; `Random`, the random source of magic numbers, challenges and
/// interface identifiers, moved in; `Credentials`, the server's
/// ppp::credential_store (user -> password), borrowed.
template <class Crypto, class Random = typename Crypto::random, class Credentials = no_credentials,
          std::size_t QueueFrames = 8>
class link_engine {
    static_assert(crypto::auth_backend<Crypto>,
                  "ppp::link_engine needs a crypto::auth_backend (MD5 for CHAP; MD4, SHA-1 "
                  "and DES for MS-CHAPv2), such as crypto::botan or crypto::portable");
    static_assert(crypto::random_source<Random>,
                  "ppp::link_engine draws magic numbers and challenges from a "
                  "crypto::random_source, moved in");
    static_assert(credential_store<Credentials>,
                  "ppp::link_engine's authenticator looks passwords up in a "
                  "ppp::credential_store");

  public:
    using queue_type = frame_queue<QueueFrames, 1504>;

    /// A link without a credential store: a client, or a server that
    /// authenticates nobody (require = none).
    link_engine(const link_config& cfg, Random&& random) noexcept
        : link_engine(cfg, std::move(random), nullptr) {}
    /// A server link that checks peers against `credentials` (which must outlive it).
    link_engine(const link_config& cfg, Random&& random, Credentials& credentials) noexcept
        : link_engine(cfg, std::move(random), &credentials) {}
    link_engine(const link_engine&) = delete;
    link_engine& operator=(const link_engine&) = delete;

  private:
    link_engine(const link_config& cfg, Random&& random, Credentials* credentials) noexcept
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

  public:
    ppp::phase current_phase() const noexcept { return phase_; }
    state lcp_state() const noexcept { return lcp_.current(); }
    state ipcp_state() const noexcept { return ipcp_.current(); }
    state ipv6cp_state() const noexcept { return ipv6cp_.current(); }
    std::uint32_t local_ip() const noexcept { return ipcp_.policy.local; }
    std::uint32_t peer_ip() const noexcept { return ipcp_.policy.peer; }
    std::uint16_t peer_mru() const noexcept { return lcp_.policy.peer_mru; }
    std::string_view authenticated_user() const noexcept { return server_auth_.peer_name(); }
    bool is_up() const noexcept {
        return ipcp_.current() == state::opened || ipv6cp_.current() == state::opened;
    }

    /// The lower layer (the L2TP session) is up: Up and Open for LCP.
    void start(time_point now) noexcept {
        phase_ = phase::establish;
        lcp_.policy.reset();
        lcp_.magic = lcp_.policy.magic;
        lcp_.up(now);
        lcp_.open(now);
        after(now);
    }
    /// Administrative close: LCP Terminate-Request (the link then finishes).
    void close(time_point now) noexcept {
        lcp_.close(now);
        after(now);
    }
    /// The lower layer went away.
    void lower_down(time_point now) noexcept {
        lcp_.down(now);
        after(now);
    }

    /// One PPP frame from the peer. Returns the network-layer payload of an
    /// IPv4 or IPv6 frame (when that NCP is open), empty otherwise.
    result<std::optional<bytes_view>> handle_frame(bytes_view frame, time_point now) noexcept {
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

    /// Wrap an IP datagram into a PPP frame in `out`.
    result<std::size_t> encode_ip(bytes_view datagram, mutable_bytes out,
                                  bool v6 = false) const noexcept {
        return encode_frame(out, v6 ? protocol::ipv6 : protocol::ip, datagram);
    }

    std::optional<std::size_t> poll_transmit(mutable_bytes out) noexcept { return q_.pop(out); }
    std::optional<link_event> poll_event() noexcept {
        if (n_events_ == 0) return std::nullopt;
        auto e = events_[ev_head_];
        ev_head_ = (ev_head_ + 1) % events_.size();
        --n_events_;
        return e;
    }

    std::optional<time_point> deadline() const noexcept {
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

    void on_timer(time_point now) noexcept {
        lcp_.on_timer(now);
        ipcp_.on_timer(now);
        ipv6cp_.on_timer(now);
        if (phase_ == phase::authenticate) {
            server_auth_.on_timer(now, q_);
            client_auth_.on_timer(now, q_);
        }
        if (lcp_.current() == state::opened && cfg_.echo_interval.count() > 0 &&
            now >= next_echo_) {
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

  private:
    // The server is already negotiating the network layer: our
    // authentication succeeded even if its Success/Ack was lost.
    void implicit_auth_success(time_point now) noexcept {
        if (phase_ != phase::authenticate || server_auth_.method != auth_method::none) return;
        if (client_auth_.assume_success()) after(now);
    }

    void on_lcp_extra(const packet_view& p, time_point now) noexcept {
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

    // Look at what the automata and the authentication did and move phases.
    void after(time_point now) noexcept {
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
            push({link_event_kind::ipcp_up, p.local, p.peer, p.dns1, p.dns2, 0, 0,
                  auth_method::none});
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

    void begin_auth(time_point now) noexcept {
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

    void begin_network(time_point now) noexcept {
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

    void push(const link_event& e) noexcept {
        if (n_events_ == events_.size()) return;
        events_[(ev_head_ + n_events_) % events_.size()] = e;
        ++n_events_;
    }

    link_config cfg_;
    Random rng_;
    queue_type q_{};
    control_protocol<lcp_policy<Random>, queue_type> lcp_{};
    control_protocol<ipcp_policy, queue_type> ipcp_{};
    control_protocol<ipv6cp_policy<Random>, queue_type> ipv6cp_{};
    authenticator<Crypto, Random, Credentials, queue_type> server_auth_{};
    auth_peer<Crypto, Random, queue_type> client_auth_{};
    ppp::phase phase_ = phase::dead;
    time_point next_echo_{};
    std::uint8_t echo_outstanding_ = 0;
    std::array<link_event, 32> events_{};
    std::size_t ev_head_ = 0, n_events_ = 0;
};

}  // namespace l2sec::ppp
