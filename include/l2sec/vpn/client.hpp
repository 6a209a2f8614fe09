// The L2TP/IPsec client (the LAC side of RFC 3193), sans-I/O: an IKEv1
// initiator (Main Mode + Quick Mode, transport mode, NAT-T), the ESP SA pair
// it negotiates, an L2TP LAC that opens a tunnel and a session through it,
// and a PPP link that authenticates (MS-CHAPv2, CHAP-MD5 or PAP) and gets an
// address by IPCP. The same in-place datapath as the server.
//
//   auto cl = vpn::client<crypto::botan>::make(cfg, crypto::botan::random{},
//                                             ike::v1::single_psk(psk));
//   (*cl)->start(now);
//   // loop: receive()/receive_esp() what arrives, poll() what to send, tick() on time;
//   // (*cl)->state() == client_state::up: (*cl)->address() is ours, send_ip() works.
//   (*cl)->shutdown(now);   // LCP Terminate, CDN, StopCCN, IKE Delete
#pragma once

#include <l2sec/ike/v1/engine.hpp>
#include <l2sec/vpn/detail/ike_glue.hpp>
#include <l2sec/vpn/detail/stack_core.hpp>
#include <l2sec/vpn/keylog.hpp>

#include <memory>

namespace l2sec::vpn {

struct client_config {
    ike::v1::config ike{};
    ike::v1::connection connection{};  ///< local and server endpoints (server port 500)
    /// The PPP side: user, password, can_answer (which methods to accept),
    /// ask_dns, mru. server = false is forced.
    ppp::link_config link{};
    l2tp::engine_config l2tp{};
    std::chrono::milliseconds connect_timeout{30000};  ///< all of IKE, L2TP and PPP
    /// Wait after the ESP SAs exist before the first L2TP message, so a
    /// server that installs its SAs when Quick Mode's last message arrives
    /// has them (the Linux kernel, strongSwan) when L2TP does.
    std::chrono::milliseconds l2tp_delay{100};
};

enum class client_state : std::uint8_t { idle, ike, l2tp, ppp, up, closing, closed, failed };

constexpr const char* to_string(client_state s) noexcept {
    switch (s) {
        case client_state::idle:
            return "idle";
        case client_state::ike:
            return "ike";
        case client_state::l2tp:
            return "l2tp";
        case client_state::ppp:
            return "ppp";
        case client_state::up:
            return "up";
        case client_state::closing:
            return "closing";
        case client_state::closed:
            return "closed";
        case client_state::failed:
            return "failed";
    }
    return "?";
}

template <class Crypto, class Random = typename Crypto::random, class Secrets = ike::v1::single_psk,
          class KeyLog = no_key_log>
class client {
    static_assert(crypto::backend<Crypto> && crypto::dh_backend<Crypto>,
                  "vpn::client needs a crypto backend with AEAD, CBC, HMAC, digests and DH "
                  "(crypto::backend and crypto::dh_backend), such as crypto::botan");
    static_assert(crypto::random_source<Random>,
                  "vpn::client draws every nonce, SPI, cookie, challenge and magic number from a "
                  "crypto::random_source (a CSPRNG), moved in");
    static_assert(ike::v1::psk_store<Secrets>,
                  "vpn::client looks the IKE pre-shared key up in an ike::v1::psk_store");
    static_assert(key_log<KeyLog>, "vpn::client's KeyLog must satisfy vpn::key_log");

    using core_type = detail::stack_core<Crypto, Random, ppp::no_credentials, 1, 1, 1>;
    using rng_ref = crypto::random_ref<Random>;
    using ike_type = ike::v1::engine<Crypto, rng_ref, ike::v1::client_limits, Secrets>;

  public:
    /// Errors: bad_config (no user name), the IKE engine's configuration errors.
    static result<std::unique_ptr<client>> make(const client_config& c, Random&& random,
                                                Secrets&& secrets, KeyLog keylog = {}) {
        if (c.link.user.empty()) return error(errc::bad_config, 0, "PPP user name");
        std::unique_ptr<client> s(new client(c, std::move(random), std::move(keylog)));
        typename core_type::config cc;
        cc.server = false;
        cc.l2tp = c.l2tp;
        cc.l2tp.accept_tunnels = false;
        cc.link = c.link;
        cc.link.server = false;
        s->core_ = std::make_unique<core_type>(cc, s->rng_, nullptr, std::nullopt);
        auto ike = ike_type::make(c.ike, rng_ref(s->rng_), std::move(secrets));
        if (!ike) return ike.error();
        s->ike_.emplace(std::move(*ike));
        return s;
    }

    /// Begin: IKE Main Mode to the server. Errors: the IKE engine's connect errors.
    result<void> start(time_point now) noexcept {
        auto h = ike_->connect(cfg_.connection, now);
        if (!h) return fail(h.error(), now);
        state_ = client_state::ike;
        give_up_at_ = now + cfg_.connect_timeout;
        return {};
    }

    client_state state() const noexcept { return state_; }
    /// Why the client failed (state() == failed), with a message a user can act on.
    const l2sec::error& failure() const noexcept { return failure_; }
    std::uint32_t address() const noexcept { return ip_; }  ///< our PPP address (host order)
    std::uint32_t peer_address() const noexcept { return peer_ip_; }
    std::uint32_t dns() const noexcept { return dns_; }

    /// A datagram on UDP 500/4500 from the server. Same contract as server::receive.
    result<delivered> receive(mutable_bytes d, const transport::endpoint& local,
                              const transport::endpoint& peer, time_point now) noexcept {
        if (d.size() == 1 && d[0] == std::byte{0xff}) return delivered{};
        bool on_4500 = local.port != 500 && peer.port != 500;
        if (!on_4500 || (d.size() >= 4 && load_be32(d.data()) == 0)) {
            ++ike_received_;
            ike_->receive(d, local, peer, now);
            drain(now);
            return delivered{};
        }
        return esp_in(d, now);
    }
    result<delivered> receive_esp(mutable_bytes d, const transport::endpoint&,
                                  const transport::endpoint&, time_point now) noexcept {
        return esp_in(d, now);
    }

    /// An IP packet for the tunnel at buf[off, off + len) (vpn::headroom before,
    /// vpn::tailroom after). Errors: session_down before PPP is up, esp errors.
    result<outbound> send_ip(mutable_bytes buf, std::size_t off, std::size_t len,
                             time_point) noexcept {
        return core_->send_ip(1, buf, off, len);
    }

    std::optional<outbound> poll(mutable_bytes scratch, time_point now) noexcept {
        if (auto d = ike_->poll_datagram()) return outbound{d->local, d->peer, false, d->data};
        auto o = core_->poll(scratch, now);
        drain(now);
        return o;
    }
    void tick(time_point now) noexcept {
        ike_->tick(now);
        drain(now);
        if (l2tp_at_ && now >= *l2tp_at_) {
            l2tp_at_.reset();
            if (auto t = core_->open_tunnel(peer_, now); !t) (void)fail(t.error(), now);
        }
        core_->tick(now);
        drain(now);
        if (state_ != client_state::up && state_ != client_state::failed &&
            state_ != client_state::closed && state_ != client_state::closing &&
            state_ != client_state::idle && now >= give_up_at_)
            (void)fail(timeout_error(), now);
        if (state_ == client_state::closing && (core_->quiet() || now >= close_at_)) {
            ike_->close_all(now);
            state_ = client_state::closed;
            report r{};
            r.kind = report_kind::client_down;
            r.endpoint = cfg_.connection.peer;
            r.reason = error(errc::closed, 0, "shutdown");
            reports_.push_back_or_drop(r);
        }
    }
    std::optional<time_point> next_deadline() const noexcept {
        std::optional<time_point> d = ike_->next_deadline();
        auto take = [&](std::optional<time_point> t) {
            if (t && (!d || *t < *d)) d = t;
        };
        take(core_->next_deadline());
        take(l2tp_at_);
        if (state_ != client_state::up && state_ != client_state::idle &&
            state_ != client_state::closed && state_ != client_state::failed)
            take(give_up_at_);
        if (state_ == client_state::closing) take(close_at_);
        return d;
    }
    std::optional<report> poll_report() noexcept { return reports_.pop(); }

    /// Orderly shutdown; keep polling until state() is closed.
    void shutdown(time_point now,
                  std::chrono::milliseconds grace = std::chrono::seconds(2)) noexcept {
        if (state_ == client_state::closed || state_ == client_state::idle) {
            state_ = client_state::closed;
            return;
        }
        core_->close_all(now);
        state_ = client_state::closing;
        close_at_ = now + grace;
    }

    const stack_stats& stats() const noexcept { return core_->stats(); }
    ike_type& ike() noexcept { return *ike_; }
    core_type& core() noexcept { return *core_; }

  private:
    client(const client_config& c, Random&& random, KeyLog keylog)
        : cfg_(c), rng_(std::move(random)), keylog_(std::move(keylog)) {}

    result<void> fail(const l2sec::error& e, time_point now) noexcept {
        if (state_ == client_state::failed) return e;
        failure_ = e;
        report r{};
        r.kind = report_kind::client_down;
        r.endpoint = cfg_.connection.peer;
        r.reason = e;
        if (e == errc::auth_failed) r.set_user(cfg_.link.user);
        reports_.push_back_or_drop(r);
        core_->close_all(now);
        ike_->close_all(now);
        state_ = client_state::failed;
        return e;
    }

    // Why the connection did not come up in time. A Main Mode responder
    // that cannot decrypt message 5 stays silent (RFC 2409 gives it nothing
    // to say), so a stalled IKE exchange is told apart by how far the server
    // answered: MM2 and MM4 but no MM6 is a pre-shared key mismatch.
    l2sec::error ike_failure(std::error_code why) const noexcept {
        if (!why) return error(errc::ike_failed, 0, "IKE");
        if (why == ike::v1::engine_errc::wrong_psk)  // the engine told it from MM6 or a notify
            return error(errc::wrong_psk, 0, "IKE Main Mode");
        if (why == ike::v1::engine_errc::timeout && state_ == client_state::ike)
            return timeout_error();
        return l2sec::error(why);
    }
    l2sec::error timeout_error() const noexcept {
        if (state_ == client_state::ike && ike_received_ >= 2)
            return error(errc::wrong_psk, 0, "Main Mode message 6 never came");
        if (state_ == client_state::ike && ike_received_ == 0)
            return error(errc::no_answer, 0, "ike");
        return error(errc::timeout, 0, to_string(state_));
    }

    result<delivered> esp_in(mutable_bytes d, time_point now) noexcept {
        if (d.size() < 8) return error(l2sec::errc::truncated, 0, "ESP header");
        std::uint32_t spi = load_be32(d.data());
        auto r = core_->on_esp(d, now);
        if (r) ike_->note_esp_traffic(spi, d.size(), now);
        drain(now);
        return r;
    }

    void drain(time_point now) noexcept {
        while (auto ev = ike_->poll_event()) {
            report r{};
            r.endpoint = ev->peer;
            switch (ev->kind) {
                case ike::v1::event_kind::phase1_up:
                    detail::log_ike_sa(keylog_, *ike_, ev->ike, ev->peer);
                    r.kind = report_kind::ike_established;
                    reports_.push_back_or_drop(r);
                    break;
                case ike::v1::event_kind::child_up: {
                    auto h = detail::install_child(*core_, keylog_, ev->child, ev->old_spi_in, r);
                    if (!h) {
                        (void)fail(h.error(), now);
                        break;
                    }
                    reports_.push_back_or_drop(r);
                    if (state_ == client_state::ike) {
                        peer_ = *h;
                        state_ = client_state::l2tp;
                        l2tp_at_ = now + cfg_.l2tp_delay;
                    }
                    break;
                }
                case ike::v1::event_kind::child_down:
                    core_->remove_sa(ev->spi_in, now);
                    r.kind = report_kind::esp_sa_down;
                    r.spi_in = ev->spi_in;
                    reports_.push_back_or_drop(r);
                    break;
                case ike::v1::event_kind::failed:
                    (void)fail(ike_failure(ev->reason), now);
                    break;
                case ike::v1::event_kind::peer_dead:
                case ike::v1::event_kind::phase1_down:
                    r.kind = report_kind::ike_down;
                    r.reason = l2sec::error(ev->reason);
                    reports_.push_back_or_drop(r);
                    if (ev->kind == ike::v1::event_kind::peer_dead &&
                        state_ != client_state::closing && state_ != client_state::closed)
                        (void)fail(error(errc::ike_failed, 0, "peer dead (DPD)"), now);
                    break;
                default:
                    break;
            }
        }
        // Watch the core's reports for the L2TP and PPP milestones.
        while (auto r = core_->poll_report()) {
            switch (r->kind) {
                case report_kind::l2tp_tunnel_up:
                    if (state_ == client_state::l2tp) state_ = client_state::ppp;
                    break;
                case report_kind::ppp_up:
                    ip_ = r->local_ip;
                    peer_ip_ = r->peer_ip;
                    dns_ = r->dns;
                    if (state_ == client_state::ppp || state_ == client_state::l2tp)
                        state_ = client_state::up;
                    break;
                case report_kind::client_down:
                    continue;  // the client reports its own end (fail(), closed)
                case report_kind::auth_failed:
                    reports_.push_back_or_drop(*r);
                    (void)fail(error(errc::auth_failed, 0, "PPP"), now);
                    continue;
                case report_kind::l2tp_tunnel_down:
                case report_kind::l2tp_session_down:
                    if (state_ != client_state::closing && state_ != client_state::closed &&
                        state_ != client_state::failed) {
                        reports_.push_back_or_drop(*r);
                        (void)fail(
                            error(state_ == client_state::up ? errc::closed : errc::l2tp_failed, 0,
                                  "L2TP"),
                            now);
                        continue;
                    }
                    break;
                default:
                    break;
            }
            reports_.push_back_or_drop(*r);
        }
    }

    // The user's reports: the IKE ones and the core's, in order.
    struct report_fifo {
        std::array<report, 128> q{};
        std::size_t head = 0, n = 0;
        void push_back_or_drop(const report& r) noexcept {
            if (n < q.size()) q[(head + n++) % q.size()] = r;
        }
        std::optional<report> pop() noexcept {
            if (n == 0) return std::nullopt;
            auto r = q[head];
            head = (head + 1) % q.size();
            --n;
            return r;
        }
    };

    client_config cfg_;
    Random rng_;
    KeyLog keylog_;
    std::unique_ptr<core_type> core_;
    std::optional<ike_type> ike_;
    client_state state_ = client_state::idle;
    l2sec::error failure_{};
    peer_handle peer_{};
    std::optional<time_point> l2tp_at_;
    time_point give_up_at_{}, close_at_{};
    std::uint32_t ip_ = 0, peer_ip_ = 0, dns_ = 0;
    std::uint64_t ike_received_ = 0;  ///< IKE datagrams from the server (timeout_error())
    report_fifo reports_;
};

}  // namespace l2sec::vpn
